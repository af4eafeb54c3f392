CREATE TABLE `api_keys` (
	`id` text PRIMARY KEY NOT NULL,
	`partner_id` text,
	`role` text NOT NULL,
	`scopes` text NOT NULL,
	`prefix` text NOT NULL,
	`secret_digest` text NOT NULL,
	`created_at` text NOT NULL,
	`last_used_at` text,
	`revoked_at` text,
	FOREIGN KEY (`partner_id`) REFERENCES `partners`(`id`) ON UPDATE no action ON DELETE no action
);
--> statement-breakpoint
CREATE UNIQUE INDEX `api_keys_secret_digest_idx` ON `api_keys` (`secret_digest`);--> statement-breakpoint
CREATE TABLE `cards` (
	`number` text NOT NULL,
	`issue_count` integer NOT NULL,
	`version` text NOT NULL,
	`holder_id` integer NOT NULL,
	`state` text NOT NULL,
	`valid_from` text NOT NULL,
	`valid_until` text NOT NULL,
	`state_changed_at` text NOT NULL,
	`previous_number` text,
	`province_code` text NOT NULL,
	`nationality` text NOT NULL,
	`birth_date` text NOT NULL,
	`sex` text,
	`issue_digest` text NOT NULL,
	`revocation_reason` text,
	`created_at` text NOT NULL,
	PRIMARY KEY(`number`, `issue_count`),
	FOREIGN KEY (`holder_id`) REFERENCES `holders`(`id`) ON UPDATE no action ON DELETE no action
);
--> statement-breakpoint
CREATE INDEX `cards_holder_idx` ON `cards` (`holder_id`);--> statement-breakpoint
CREATE INDEX `cards_previous_number_idx` ON `cards` (`previous_number`);--> statement-breakpoint
CREATE TABLE `events` (
	`sequence` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`type` text NOT NULL,
	`card_number` text NOT NULL,
	`issue_count` integer NOT NULL,
	`holder_id` integer NOT NULL,
	`occurred_at` text NOT NULL,
	`data` text NOT NULL,
	`dispatched_at` text
);
--> statement-breakpoint
CREATE INDEX `events_undispatched_idx` ON `events` (`sequence`) WHERE dispatched_at IS NULL;--> statement-breakpoint
CREATE INDEX `events_card_idx` ON `events` (`card_number`);--> statement-breakpoint
CREATE INDEX `events_holder_idx` ON `events` (`holder_id`);--> statement-breakpoint
CREATE TABLE `holders` (
	`id` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`status` text DEFAULT 'ACTIVE' NOT NULL,
	`status_changed_at` text NOT NULL,
	`status_reason` text,
	`current_number` text NOT NULL,
	`english_name_digest` text,
	`chinese_name_digest` text,
	`created_at` text NOT NULL
);
--> statement-breakpoint
CREATE TABLE `partners` (
	`id` text PRIMARY KEY NOT NULL,
	`name` text NOT NULL,
	`industry` text NOT NULL,
	`province_code` text,
	`declared_adaptation` text DEFAULT 'NOT_STARTED' NOT NULL,
	`declared_at` text,
	`last_v2023_check_at` text,
	`conformance` text DEFAULT 'NOT_RUN' NOT NULL,
	`conformance_at` text,
	`created_at` text NOT NULL
);
--> statement-breakpoint
CREATE TABLE `watches` (
	`partner_id` text NOT NULL,
	`holder_id` integer NOT NULL,
	`created_at` text NOT NULL,
	PRIMARY KEY(`partner_id`, `holder_id`),
	FOREIGN KEY (`partner_id`) REFERENCES `partners`(`id`) ON UPDATE no action ON DELETE no action,
	FOREIGN KEY (`holder_id`) REFERENCES `holders`(`id`) ON UPDATE no action ON DELETE no action
);
--> statement-breakpoint
CREATE INDEX `watches_holder_idx` ON `watches` (`holder_id`);