CREATE TABLE `conformance_runs` (
	`id` text PRIMARY KEY NOT NULL,
	`partner_id` text NOT NULL,
	`state` text NOT NULL,
	`started_at` text NOT NULL,
	`finished_at` text,
	`detail` text,
	FOREIGN KEY (`partner_id`) REFERENCES `partners`(`id`) ON UPDATE no action ON DELETE no action
);
--> statement-breakpoint
CREATE INDEX `conformance_runs_partner_idx` ON `conformance_runs` (`partner_id`,`started_at`);--> statement-breakpoint
ALTER TABLE `holders` ADD `current_version` text;--> statement-breakpoint
ALTER TABLE `holders` ADD `province_code` text;--> statement-breakpoint
ALTER TABLE `holders` ADD `nationality` text;--> statement-breakpoint
ALTER TABLE `holders` ADD `since` text;--> statement-breakpoint
ALTER TABLE `holders` ADD `v2023_since` text;--> statement-breakpoint
CREATE INDEX `holders_status_idx` ON `holders` (`status`);