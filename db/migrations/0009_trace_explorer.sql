DROP INDEX `tokens_origin_idx`;--> statement-breakpoint
ALTER TABLE `requests` ADD `tokens_per_s` real;--> statement-breakpoint
CREATE INDEX `requests_verify_mode_idx` ON `requests` (`verify_mode`,`start_ns`);--> statement-breakpoint
CREATE INDEX `requests_config_version_idx` ON `requests` (`config_version`,`start_ns`);--> statement-breakpoint
CREATE INDEX `requests_status_idx` ON `requests` (`status_code`,`start_ns`);--> statement-breakpoint
CREATE INDEX `requests_cancelled_idx` ON `requests` (`cancelled`,`start_ns`);--> statement-breakpoint
CREATE INDEX `requests_total_ms_idx` ON `requests` (`total_ms`,`trace_id`);--> statement-breakpoint
CREATE INDEX `requests_acceptance_idx` ON `requests` (`acceptance_rate`,`trace_id`);--> statement-breakpoint
CREATE INDEX `requests_tokens_per_s_idx` ON `requests` (`tokens_per_s`,`trace_id`);--> statement-breakpoint
CREATE INDEX `requests_output_tokens_idx` ON `requests` (`output_tokens`,`trace_id`);--> statement-breakpoint
CREATE INDEX `requests_metrics_idx` ON `requests` (`start_ns`,`config_version`,`proposer`,`verify_mode`,`node`,`target_model_id`,`draft_model_id`,`status_code`,`steps`,`drafted`,`accepted`,`output_tokens`,`total_ms`,`ttft_ms`,`queue_ms`,`tokens_per_s`,`per_position_json`);