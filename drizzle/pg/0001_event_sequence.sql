-- Custom migration (drizzle-kit generate --custom): event sequences in commit order. The one row of
-- event_sequence holds the last sequence handed out; a trigger assigns each new event the next one
-- with an UPDATE of that row, inside the inserting transaction. The row stays locked until that
-- transaction ends, so the next event writer waits for the commit (or rollback) and only then takes
-- its number: sequences are handed out in commit order, without gaps a reader could see filled
-- later. See src/db/pg-schema.ts (eventSequence) and src/db/README.md.
INSERT INTO "event_sequence" ("id", "last_sequence") VALUES (1, 0);
--> statement-breakpoint
CREATE FUNCTION "assign_event_sequence"() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
  raised bigint;
BEGIN
  IF NEW."sequence" IS NULL THEN
    UPDATE "event_sequence" SET "last_sequence" = "last_sequence" + 1 WHERE "id" = 1 RETURNING "last_sequence" INTO NEW."sequence";
    IF NEW."sequence" IS NULL THEN
      RAISE EXCEPTION 'event_sequence has lost its row';
    END IF;
  ELSE
    -- A given sequence (a copy keeps the source's) must stand above every one handed out: a reader
    -- may have read past any lower one already.
    UPDATE "event_sequence" SET "last_sequence" = NEW."sequence" WHERE "id" = 1 AND "last_sequence" < NEW."sequence" RETURNING "last_sequence" INTO raised;
    IF raised IS NULL THEN
      RAISE EXCEPTION 'event sequence % is not above the last one handed out', NEW."sequence" USING ERRCODE = 'check_violation';
    END IF;
  END IF;
  RETURN NEW;
END
$$;
--> statement-breakpoint
CREATE TRIGGER "events_assign_sequence" BEFORE INSERT ON "events" FOR EACH ROW EXECUTE FUNCTION "assign_event_sequence"();
