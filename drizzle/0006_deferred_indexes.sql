CREATE TABLE `deferred_indexes` (
	`name` text PRIMARY KEY NOT NULL,
	`ddl` text NOT NULL
);
