-- Scheduler module (src/scheduler/schema.ts): check-ins, reminders, scheduled messages. Hand-written twin of the
-- drizzle schema, folded into one drizzle-kit generated migration when the module lands.
CREATE TABLE "checkins" (
	"id" text PRIMARY KEY NOT NULL,
	"conversation_key" text NOT NULL,
	"ref" jsonb NOT NULL,
	"owner_id" text NOT NULL,
	"enabled" boolean DEFAULT true NOT NULL,
	"enabled_at" timestamp with time zone DEFAULT now() NOT NULL,
	"pattern" text,
	"every_ms" bigint,
	"timezone" text DEFAULT 'UTC' NOT NULL,
	"active_from" text,
	"active_to" text,
	"token_budget" integer NOT NULL,
	"tokens_day" text,
	"tokens_used" integer DEFAULT 0 NOT NULL,
	"prompt" text,
	"announcements" boolean DEFAULT false NOT NULL,
	"disabled_reason" text,
	"disabled_at" timestamp with time zone,
	"last_slot" bigint,
	"last_fired_at" timestamp with time zone,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "reminders" (
	"id" text PRIMARY KEY NOT NULL,
	"user_key" text NOT NULL,
	"conversation_key" text NOT NULL,
	"ref" jsonb NOT NULL,
	"sender_id" text NOT NULL,
	"text" text NOT NULL,
	"due_at" timestamp with time zone NOT NULL,
	"timezone" text NOT NULL,
	"status" text DEFAULT 'pending' NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"fired_at" timestamp with time zone
);
--> statement-breakpoint
CREATE TABLE "scheduled_messages" (
	"id" text PRIMARY KEY NOT NULL,
	"text" text NOT NULL,
	"target" text NOT NULL,
	"conversation_key" text,
	"ref" jsonb,
	"run_at" timestamp with time zone,
	"pattern" text,
	"every_ms" bigint,
	"timezone" text DEFAULT 'UTC' NOT NULL,
	"enabled" boolean DEFAULT true NOT NULL,
	"created_by" text,
	"last_slot" bigint,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE INDEX "checkins_enabled_idx" ON "checkins" USING btree ("enabled","id");--> statement-breakpoint
CREATE INDEX "checkins_announcements_idx" ON "checkins" USING btree ("announcements","id");--> statement-breakpoint
CREATE INDEX "reminders_owner_idx" ON "reminders" USING btree ("conversation_key","user_key","status");--> statement-breakpoint
CREATE INDEX "reminders_status_due_idx" ON "reminders" USING btree ("status","due_at");--> statement-breakpoint
CREATE INDEX "scheduled_messages_enabled_idx" ON "scheduled_messages" USING btree ("enabled","id");
