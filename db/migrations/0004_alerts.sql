CREATE TABLE `alert_transitions` (
	`id` integer PRIMARY KEY NOT NULL,
	`alert_id` integer NOT NULL,
	`from_state` text,
	`to_state` text NOT NULL,
	`at_ms` integer NOT NULL,
	`value` real,
	`by` text DEFAULT 'evaluator' NOT NULL,
	`note` text DEFAULT '' NOT NULL,
	FOREIGN KEY (`alert_id`) REFERENCES `alerts`(`id`) ON UPDATE no action ON DELETE no action
);
--> statement-breakpoint
CREATE INDEX `alert_transitions_alert_idx` ON `alert_transitions` (`alert_id`,`at_ms`);--> statement-breakpoint
CREATE TABLE `alerts` (
	`id` integer PRIMARY KEY NOT NULL,
	`rule` text NOT NULL,
	`series_key` text NOT NULL,
	`config_version` text,
	`target_model_id` text,
	`draft_model_id` text,
	`proposer` text,
	`state` text NOT NULL,
	`value` real,
	`baseline` real,
	`threshold` real,
	`detail` text DEFAULT '' NOT NULL,
	`opened_at_ms` integer NOT NULL,
	`fired_at_ms` integer,
	`resolved_at_ms` integer,
	`streak_since_ms` integer,
	`acked_at_ms` integer,
	`acked_by` text,
	`ack_note` text,
	`trace_ids_json` text DEFAULT '[]' NOT NULL
);
--> statement-breakpoint
CREATE UNIQUE INDEX `alerts_one_open_idx` ON `alerts` (`rule`,`series_key`) WHERE state <> 'resolved';--> statement-breakpoint
CREATE INDEX `alerts_state_idx` ON `alerts` (`state`,`opened_at_ms`);--> statement-breakpoint
CREATE TABLE `webhook_deliveries` (
	`id` integer PRIMARY KEY NOT NULL,
	`alert_id` integer NOT NULL,
	`event` text NOT NULL,
	`url` text NOT NULL,
	`attempt` integer NOT NULL,
	`at_ms` integer NOT NULL,
	`status` integer,
	`ok` integer NOT NULL,
	`error` text,
	`duration_ms` real
);
--> statement-breakpoint
CREATE INDEX `webhook_deliveries_alert_idx` ON `webhook_deliveries` (`alert_id`,`at_ms`);--> statement-breakpoint
ALTER TABLE `requests` ADD `position_counts_json` text DEFAULT '[]' NOT NULL;--> statement-breakpoint
ALTER TABLE `requests` ADD `target_confidence` real;--> statement-breakpoint
ALTER TABLE `requests` ADD `target_confidence_n` integer;--> statement-breakpoint
ALTER TABLE `requests` ADD `draft_confidence` real;--> statement-breakpoint
ALTER TABLE `requests` ADD `draft_confidence_n` integer;--> statement-breakpoint
CREATE INDEX `requests_series_idx` ON `requests` (`config_version`,`target_model_id`,`draft_model_id`,`proposer`,`start_ns`);