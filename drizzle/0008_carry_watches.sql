-- Custom migration (drizzle-kit generate --custom): watches were kept by holder; they are now kept
-- by card number. Carry each watch over as every number the watched holder has had.
INSERT OR IGNORE INTO `watched_numbers` (`partner_id`, `number`, `created_at`)
SELECT w.`partner_id`, c.`number`, w.`created_at` FROM `watches` w JOIN `cards` c ON c.`holder_id` = w.`holder_id`;
