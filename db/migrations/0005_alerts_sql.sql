-- Alert history is append-only: a transition, once written, is never changed or removed.
CREATE TRIGGER `alert_transitions_no_update` BEFORE UPDATE ON `alert_transitions`
BEGIN SELECT RAISE(ABORT, 'alert_transitions is append-only'); END;
--> statement-breakpoint
CREATE TRIGGER `alert_transitions_no_delete` BEFORE DELETE ON `alert_transitions`
BEGIN SELECT RAISE(ABORT, 'alert_transitions is append-only'); END;
--> statement-breakpoint
-- Fill the alert signals of requests stored before this migration from their steps
-- (the same definitions as db/tracing/signals.ts uses for every new trace).
UPDATE `requests` SET
  `target_confidence` = (SELECT avg(json_extract(e.value, '$.targetProb')) FROM `steps` s, json_each(s.examined_json) e
                          WHERE s.trace_id = `requests`.trace_id AND json_extract(e.value, '$.outcome') <> 'rejected'),
  `target_confidence_n` = (SELECT count(*) FROM `steps` s, json_each(s.examined_json) e
                          WHERE s.trace_id = `requests`.trace_id AND json_extract(e.value, '$.outcome') <> 'rejected'),
  `draft_confidence` = (SELECT avg(e.value) FROM `steps` s, json_each(s.draft_probs_json) e WHERE s.trace_id = `requests`.trace_id),
  `draft_confidence_n` = (SELECT count(*) FROM `steps` s, json_each(s.draft_probs_json) e WHERE s.trace_id = `requests`.trace_id),
  `position_counts_json` = coalesce((WITH RECURSIVE pos(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM pos WHERE i < 31)
      SELECT json_group_array(json_array(acc, dr)) FROM (
        SELECT pos.i, sum(s.accepted > pos.i) AS acc, count(*) AS dr FROM pos JOIN `steps` s
         ON s.trace_id = `requests`.trace_id AND s.drafted > pos.i GROUP BY pos.i ORDER BY pos.i)), '[]');
