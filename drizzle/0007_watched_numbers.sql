CREATE TABLE `watched_numbers` (
	`partner_id` text NOT NULL,
	`number` text NOT NULL,
	`created_at` text NOT NULL,
	PRIMARY KEY(`partner_id`, `number`),
	FOREIGN KEY (`partner_id`) REFERENCES `partners`(`id`) ON UPDATE no action ON DELETE no action
);
