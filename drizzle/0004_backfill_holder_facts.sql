-- Custom migration (drizzle-kit generate --custom): fill the holder facts added in 0003 for
-- registers created before it, from each holder's cards.
UPDATE `holders` SET
  `current_version` = (SELECT c.`version` FROM `cards` c WHERE c.`number` = `holders`.`current_number` ORDER BY c.`issue_count` DESC LIMIT 1),
  `province_code` = (SELECT c.`province_code` FROM `cards` c WHERE c.`number` = `holders`.`current_number` ORDER BY c.`issue_count` DESC LIMIT 1),
  `nationality` = (SELECT c.`nationality` FROM `cards` c WHERE c.`number` = `holders`.`current_number` ORDER BY c.`issue_count` DESC LIMIT 1),
  `since` = (SELECT min(c.`valid_from`) FROM `cards` c WHERE c.`holder_id` = `holders`.`id`),
  `v2023_since` = (SELECT min(c.`valid_from`) FROM `cards` c WHERE c.`holder_id` = `holders`.`id` AND c.`version` = 'V2023')
WHERE `current_version` IS NULL;
