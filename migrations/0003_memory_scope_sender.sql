ALTER TABLE "session_items" ADD COLUMN "sender_key" text;--> statement-breakpoint
ALTER TABLE "memories" ADD COLUMN "scope" text;--> statement-breakpoint
ALTER TABLE "memories" ADD COLUMN "shared" boolean DEFAULT false NOT NULL;