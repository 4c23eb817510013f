CREATE TABLE "conversations" (
	"key" text PRIMARY KEY NOT NULL,
	"platform" text NOT NULL,
	"tenant" text NOT NULL,
	"ref" jsonb NOT NULL,
	"session_id" uuid NOT NULL,
	"version" bigint DEFAULT 0 NOT NULL,
	"last_user_id" text,
	"last_message_at" timestamp with time zone,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "inbound_messages" (
	"event_id" text PRIMARY KEY NOT NULL,
	"conversation_key" text NOT NULL,
	"turn_id" uuid NOT NULL,
	"sender_id" text NOT NULL,
	"received_at" timestamp with time zone NOT NULL
);
--> statement-breakpoint
CREATE TABLE "outbox" (
	"turn_id" uuid PRIMARY KEY NOT NULL,
	"conversation_key" text NOT NULL,
	"seq" bigint NOT NULL,
	"ref" jsonb NOT NULL,
	"markdown" text NOT NULL,
	"reply_to" text,
	"status" text DEFAULT 'pending' NOT NULL,
	"parts_total" integer,
	"error" text,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"sent_at" timestamp with time zone
);
--> statement-breakpoint
CREATE TABLE "receipts" (
	"turn_id" uuid NOT NULL,
	"part_index" integer NOT NULL,
	"platform_message_id" text NOT NULL,
	"sent_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "receipts_turn_id_part_index_pk" PRIMARY KEY("turn_id","part_index")
);
--> statement-breakpoint
CREATE TABLE "session_items" (
	"session_id" uuid NOT NULL,
	"position" bigint NOT NULL,
	"turn_id" uuid,
	"item" jsonb NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "session_items_session_id_position_pk" PRIMARY KEY("session_id","position")
);
--> statement-breakpoint
CREATE TABLE "turns" (
	"id" uuid PRIMARY KEY NOT NULL,
	"conversation_key" text NOT NULL,
	"session_id" uuid NOT NULL,
	"seq" bigint NOT NULL,
	"outcome" text NOT NULL,
	"event_ids" jsonb NOT NULL,
	"input_tokens" integer DEFAULT 0 NOT NULL,
	"output_tokens" integer DEFAULT 0 NOT NULL,
	"model" text,
	"duration_ms" integer DEFAULT 0 NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE INDEX "inbound_messages_turn_idx" ON "inbound_messages" USING btree ("turn_id");--> statement-breakpoint
CREATE INDEX "outbox_pending_idx" ON "outbox" USING btree ("conversation_key","status","seq");--> statement-breakpoint
CREATE INDEX "turns_conversation_idx" ON "turns" USING btree ("conversation_key","seq");