CREATE TABLE `config_labels` (
	`label` text PRIMARY KEY NOT NULL,
	`version` integer NOT NULL,
	`updated_at_ms` integer NOT NULL,
	`updated_by` text NOT NULL,
	FOREIGN KEY (`version`) REFERENCES `config_versions`(`version`) ON UPDATE no action ON DELETE no action
);
--> statement-breakpoint
CREATE TABLE `config_versions` (
	`version` integer PRIMARY KEY NOT NULL,
	`body_json` text NOT NULL,
	`created_at_ms` integer NOT NULL,
	`author` text NOT NULL,
	`note` text DEFAULT '' NOT NULL
);
--> statement-breakpoint
CREATE INDEX `config_versions_created_idx` ON `config_versions` (`created_at_ms`);--> statement-breakpoint
ALTER TABLE `requests` ADD `queue_ms` real;