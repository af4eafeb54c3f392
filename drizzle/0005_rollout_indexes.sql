DROP INDEX `holders_status_idx`;--> statement-breakpoint
CREATE INDEX `holders_province_rollout_idx` ON `holders` (`status`,`province_code`,`current_version`);--> statement-breakpoint
CREATE INDEX `holders_nationality_rollout_idx` ON `holders` (`status`,`nationality`,`current_version`);--> statement-breakpoint
CREATE INDEX `holders_since_idx` ON `holders` (`since`);--> statement-breakpoint
CREATE INDEX `holders_v2023_since_idx` ON `holders` (`v2023_since`);--> statement-breakpoint
CREATE INDEX `holders_status_idx` ON `holders` (`status`,`current_version`);