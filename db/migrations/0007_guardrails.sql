CREATE TABLE `config_audit` (
	`id` integer PRIMARY KEY NOT NULL,
	`at_ms` integer NOT NULL,
	`actor` text NOT NULL,
	`action` text NOT NULL,
	`subject` text NOT NULL,
	`before_json` text,
	`after_json` text NOT NULL,
	`message` text DEFAULT '' NOT NULL
);
--> statement-breakpoint
CREATE INDEX `config_audit_subject_idx` ON `config_audit` (`subject`,`id`);--> statement-breakpoint
ALTER TABLE `requests` ADD `guardrail_actions` integer DEFAULT 0 NOT NULL;--> statement-breakpoint
ALTER TABLE `config_versions` ADD `base_version` integer;