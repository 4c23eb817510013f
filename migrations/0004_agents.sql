CREATE TABLE "agent_usage" (
	"agent" text NOT NULL,
	"user_key" text NOT NULL,
	"day" date NOT NULL,
	"tokens" bigint DEFAULT 0 NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "agent_usage_agent_user_key_day_pk" PRIMARY KEY("agent","user_key","day")
);
--> statement-breakpoint
CREATE TABLE "conversation_agents" (
	"conversation_key" text PRIMARY KEY NOT NULL,
	"agent" text NOT NULL,
	"set_by" text NOT NULL,
	"set_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
ALTER TABLE "session_items" ADD COLUMN "agent" text;