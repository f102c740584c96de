ALTER TABLE `requests` ADD `discarded` integer;--> statement-breakpoint
ALTER TABLE `requests` ADD `runtime_json` text;--> statement-breakpoint
ALTER TABLE `requests` ADD `target_files_json` text;--> statement-breakpoint
ALTER TABLE `requests` ADD `draft_files_json` text;--> statement-breakpoint
ALTER TABLE `steps` ADD `point_mass_json` text;--> statement-breakpoint
ALTER TABLE `steps` ADD `position` integer;--> statement-breakpoint
ALTER TABLE `steps` ADD `discarded` integer;--> statement-breakpoint
ALTER TABLE `steps` ADD `text_delta` text;--> statement-breakpoint
ALTER TABLE `steps` ADD `next_target_choice` integer;--> statement-breakpoint
ALTER TABLE `steps` ADD `next_target_choice_prob` real;--> statement-breakpoint
ALTER TABLE `steps` ADD `rollback_draft_evicted` integer;--> statement-breakpoint
ALTER TABLE `tokens` ADD `draft_prob` real;--> statement-breakpoint
ALTER TABLE `tokens` ADD `target_choice` integer;--> statement-breakpoint
ALTER TABLE `tokens` ADD `target_choice_prob` real;