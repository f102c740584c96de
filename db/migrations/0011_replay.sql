ALTER TABLE `requests` ADD `replay_of` text;--> statement-breakpoint
ALTER TABLE `requests` ADD `replay_mode` text;--> statement-breakpoint
CREATE INDEX `requests_replay_of_idx` ON `requests` (`replay_of`,`start_ns`);