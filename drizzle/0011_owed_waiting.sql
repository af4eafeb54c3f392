CREATE INDEX `owed_deliveries_parked_idx` ON `owed_deliveries` (`subscription_id`,`due_at`) WHERE queued = 2;--> statement-breakpoint
CREATE INDEX `owed_deliveries_busy_idx` ON `owed_deliveries` (`subscription_id`,`due_at`) WHERE queued = 3;--> statement-breakpoint
CREATE INDEX `owed_deliveries_busy_due_idx` ON `owed_deliveries` (`due_at`) WHERE queued = 3;