CREATE TABLE `requests` (
	`trace_id` text PRIMARY KEY NOT NULL,
	`span_id` text NOT NULL,
	`node` text NOT NULL,
	`start_ns` integer NOT NULL,
	`end_ns` integer NOT NULL,
	`endpoint` text,
	`operation` text NOT NULL,
	`request_model` text,
	`response_model` text,
	`prompt` text DEFAULT '' NOT NULL,
	`completion` text,
	`params_json` text DEFAULT '{}' NOT NULL,
	`config_json` text DEFAULT '{}' NOT NULL,
	`config_version` text,
	`proposer` text,
	`verify_mode` text,
	`target_model_id` text,
	`target_sha256` text,
	`draft_model_id` text,
	`draft_sha256` text,
	`seed` integer,
	`temperature` real,
	`max_tokens` integer,
	`input_tokens` integer,
	`output_tokens` integer,
	`finish_reason` text,
	`status_code` integer DEFAULT 0 NOT NULL,
	`status_message` text,
	`steps` integer,
	`drafted` integer,
	`accepted` integer,
	`acceptance_rate` real,
	`mean_acceptance_length` real,
	`per_position_json` text DEFAULT '[]' NOT NULL,
	`prefill_ms` real,
	`ttft_ms` real,
	`total_ms` real,
	`cancelled` integer DEFAULT 0 NOT NULL
);
--> statement-breakpoint
CREATE INDEX `requests_start_idx` ON `requests` (`start_ns`,`trace_id`);--> statement-breakpoint
CREATE INDEX `requests_proposer_idx` ON `requests` (`proposer`,`start_ns`);--> statement-breakpoint
CREATE INDEX `requests_target_model_idx` ON `requests` (`target_model_id`,`start_ns`);--> statement-breakpoint
CREATE INDEX `requests_draft_model_idx` ON `requests` (`draft_model_id`,`start_ns`);--> statement-breakpoint
CREATE INDEX `requests_finish_reason_idx` ON `requests` (`finish_reason`,`start_ns`);--> statement-breakpoint
CREATE INDEX `requests_node_idx` ON `requests` (`node`,`start_ns`);--> statement-breakpoint
CREATE TABLE `steps` (
	`trace_id` text NOT NULL,
	`step_index` integer NOT NULL,
	`span_id` text NOT NULL,
	`start_ns` integer NOT NULL,
	`end_ns` integer NOT NULL,
	`proposer` text NOT NULL,
	`k` integer NOT NULL,
	`draft_tokens_json` text DEFAULT '[]' NOT NULL,
	`draft_probs_json` text DEFAULT '[]' NOT NULL,
	`path_lengths_json` text DEFAULT '[]' NOT NULL,
	`path_index` integer NOT NULL,
	`accepted` integer NOT NULL,
	`drafted` integer NOT NULL,
	`examined_json` text DEFAULT '[]' NOT NULL,
	`next_token` integer,
	`next_origin` text,
	`next_token_prob` real,
	`emitted` integer NOT NULL,
	`rollback_target_dropped` integer,
	`rollback_target_before` integer,
	`rollback_target_after` integer,
	`rollback_draft_dropped` integer,
	`rollback_draft_before` integer,
	`rollback_draft_after` integer,
	`draft_ms` real,
	`verify_ms` real,
	`overhead_ms` real,
	`kv_target_bytes` integer,
	`kv_draft_bytes` integer,
	PRIMARY KEY(`trace_id`, `step_index`)
);
--> statement-breakpoint
CREATE INDEX `steps_proposer_idx` ON `steps` (`proposer`);--> statement-breakpoint
CREATE TABLE `tokens` (
	`trace_id` text NOT NULL,
	`step_index` integer NOT NULL,
	`offset` integer NOT NULL,
	`position` integer,
	`token_id` integer NOT NULL,
	`text` text NOT NULL,
	`origin` text NOT NULL,
	`prob` real,
	`logprob` real,
	PRIMARY KEY(`trace_id`, `step_index`, `offset`)
);
--> statement-breakpoint
CREATE INDEX `tokens_trace_position_idx` ON `tokens` (`trace_id`,`position`);--> statement-breakpoint
CREATE INDEX `tokens_origin_idx` ON `tokens` (`origin`);