ALTER TABLE "conversations" ADD COLUMN "item_count" bigint DEFAULT 0 NOT NULL;--> statement-breakpoint
CREATE INDEX "conversations_session_idx" ON "conversations" USING btree ("session_id");--> statement-breakpoint
-- Backfill for conversations created before this column existed (hand-written; drizzle-kit emits only the DDL).
UPDATE "conversations" AS c SET "item_count" = COALESCE((SELECT MAX(s."position") + 1 FROM "session_items" AS s WHERE s."session_id" = c."session_id"), 0);
