-- Full-text search over prompt and completion (the trace list's `q`), kept in step with `requests`
-- by triggers. External content: the text lives once, in `requests`; the index holds only the terms.
CREATE VIRTUAL TABLE `requests_fts` USING fts5(prompt, completion, content='requests', content_rowid='rowid');
--> statement-breakpoint
INSERT INTO `requests_fts` (rowid, prompt, completion) SELECT rowid, prompt, coalesce(completion, '') FROM `requests`;
--> statement-breakpoint
-- The exporter writes requests with INSERT OR REPLACE; REPLACE's implicit delete fires no delete
-- trigger (recursive_triggers is off), so the old row's terms are removed before the insert.
CREATE TRIGGER `requests_fts_before_insert` BEFORE INSERT ON `requests` BEGIN
  INSERT INTO `requests_fts` (`requests_fts`, rowid, prompt, completion)
    SELECT 'delete', rowid, prompt, coalesce(completion, '') FROM `requests` WHERE trace_id = NEW.trace_id;
END;
--> statement-breakpoint
CREATE TRIGGER `requests_fts_after_insert` AFTER INSERT ON `requests` BEGIN
  INSERT INTO `requests_fts` (rowid, prompt, completion) VALUES (NEW.rowid, NEW.prompt, coalesce(NEW.completion, ''));
END;
--> statement-breakpoint
CREATE TRIGGER `requests_fts_after_delete` AFTER DELETE ON `requests` BEGIN
  INSERT INTO `requests_fts` (`requests_fts`, rowid, prompt, completion) VALUES ('delete', OLD.rowid, OLD.prompt, coalesce(OLD.completion, ''));
END;
--> statement-breakpoint
CREATE TRIGGER `requests_fts_after_update` AFTER UPDATE OF prompt, completion ON `requests` BEGIN
  INSERT INTO `requests_fts` (`requests_fts`, rowid, prompt, completion) VALUES ('delete', OLD.rowid, OLD.prompt, coalesce(OLD.completion, ''));
  INSERT INTO `requests_fts` (rowid, prompt, completion) VALUES (NEW.rowid, NEW.prompt, coalesce(NEW.completion, ''));
END;
--> statement-breakpoint
UPDATE `requests` SET tokens_per_s = output_tokens * 1000.0 / total_ms WHERE total_ms > 0 AND output_tokens IS NOT NULL;
