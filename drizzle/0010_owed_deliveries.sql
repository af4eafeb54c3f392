CREATE TABLE `hub_meta` (
	`key` text PRIMARY KEY NOT NULL,
	`value` text NOT NULL
);
--> statement-breakpoint
CREATE TABLE `owed_deliveries` (
	`subscription_id` text NOT NULL,
	`sequence` integer NOT NULL,
	`lane` text NOT NULL,
	`tries` integer DEFAULT 0 NOT NULL,
	`handoff` integer DEFAULT 0 NOT NULL,
	`queued` integer DEFAULT 0 NOT NULL,
	`due_at` integer NOT NULL,
	`lease_until` integer,
	`lease_job` text,
	`created_at` text NOT NULL,
	PRIMARY KEY(`subscription_id`, `sequence`)
);
--> statement-breakpoint
CREATE INDEX `owed_deliveries_unqueued_idx` ON `owed_deliveries` (`due_at`) WHERE queued = 0;--> statement-breakpoint
CREATE INDEX `owed_deliveries_queued_idx` ON `owed_deliveries` (`due_at`) WHERE queued = 1;--> statement-breakpoint
CREATE INDEX `owed_deliveries_sequence_idx` ON `owed_deliveries` (`sequence`,`handoff`);--> statement-breakpoint
ALTER TABLE `webhook_subscriptions` ADD `parked_until` integer;