CREATE TABLE `span_events` (
	`id` integer PRIMARY KEY NOT NULL,
	`trace_id` text NOT NULL,
	`span_id` text NOT NULL,
	`name` text NOT NULL,
	`time_ns` integer NOT NULL,
	`attributes` text DEFAULT '{}' NOT NULL,
	FOREIGN KEY (`trace_id`,`span_id`) REFERENCES `spans`(`trace_id`,`span_id`) ON UPDATE no action ON DELETE cascade
);
--> statement-breakpoint
CREATE INDEX `span_events_trace_span_idx` ON `span_events` (`trace_id`,`span_id`);--> statement-breakpoint
CREATE TABLE `spans` (
	`trace_id` text NOT NULL,
	`span_id` text NOT NULL,
	`parent_span_id` text,
	`name` text NOT NULL,
	`kind` integer DEFAULT 0 NOT NULL,
	`start_time_ns` integer NOT NULL,
	`end_time_ns` integer NOT NULL,
	`status_code` integer DEFAULT 0 NOT NULL,
	`status_message` text,
	`attributes` text DEFAULT '{}' NOT NULL,
	`resource` text DEFAULT '{}' NOT NULL,
	`scope_name` text,
	`node` text NOT NULL,
	PRIMARY KEY(`trace_id`, `span_id`)
);
--> statement-breakpoint
CREATE INDEX `spans_start_time_ns_idx` ON `spans` (`start_time_ns`);--> statement-breakpoint
CREATE INDEX `spans_name_idx` ON `spans` (`name`);