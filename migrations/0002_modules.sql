CREATE TABLE "access_audit" (
	"id" uuid PRIMARY KEY NOT NULL,
	"at" timestamp with time zone NOT NULL,
	"actor" text NOT NULL,
	"actor_name" text,
	"role" text NOT NULL,
	"platform" text NOT NULL,
	"conversation_key" text NOT NULL,
	"command" text NOT NULL,
	"args" text NOT NULL,
	"required" text NOT NULL,
	"result" text NOT NULL,
	"detail" text NOT NULL
);
--> statement-breakpoint
CREATE TABLE "access_usage" (
	"user_key" text NOT NULL,
	"day" date NOT NULL,
	"input_tokens" bigint DEFAULT 0 NOT NULL,
	"output_tokens" bigint DEFAULT 0 NOT NULL,
	"turns" integer DEFAULT 0 NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "access_usage_user_key_day_pk" PRIMARY KEY("user_key","day")
);
--> statement-breakpoint
CREATE TABLE "access_usernames" (
	"platform" text NOT NULL,
	"username" text NOT NULL,
	"user_id" text NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "access_usernames_platform_username_pk" PRIMARY KEY("platform","username")
);
--> statement-breakpoint
CREATE TABLE "access_users" (
	"principal" text PRIMARY KEY NOT NULL,
	"role" text,
	"allowed" boolean DEFAULT false NOT NULL,
	"banned" boolean DEFAULT false NOT NULL,
	"name" text,
	"updated_by" text,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "api_crons" (
	"key_id" text NOT NULL,
	"cron_id" uuid NOT NULL,
	"thread_id" uuid,
	"assistant_id" text NOT NULL,
	"schedule" text NOT NULL,
	"payload" jsonb NOT NULL,
	"metadata" jsonb DEFAULT '{}'::jsonb NOT NULL,
	"on_run_completed" text DEFAULT 'delete' NOT NULL,
	"end_time" timestamp with time zone,
	"enabled" boolean DEFAULT true NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "api_crons_key_id_cron_id_pk" PRIMARY KEY("key_id","cron_id")
);
--> statement-breakpoint
CREATE TABLE "api_keys" (
	"id" text PRIMARY KEY NOT NULL,
	"name" text NOT NULL,
	"secret_hash" text NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"revoked_at" timestamp with time zone
);
--> statement-breakpoint
CREATE TABLE "api_runs" (
	"key_id" text NOT NULL,
	"run_id" uuid NOT NULL,
	"thread_id" uuid NOT NULL,
	"assistant_id" text NOT NULL,
	"status" text NOT NULL,
	"multitask_strategy" text NOT NULL,
	"metadata" jsonb DEFAULT '{}'::jsonb NOT NULL,
	"kwargs" jsonb NOT NULL,
	"turn_id" uuid,
	"error" text,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "api_runs_key_id_run_id_pk" PRIMARY KEY("key_id","run_id")
);
--> statement-breakpoint
CREATE TABLE "api_store_items" (
	"key_id" text NOT NULL,
	"namespace" text NOT NULL,
	"key" text NOT NULL,
	"value" jsonb NOT NULL,
	"ttl_minutes" double precision,
	"expires_at" timestamp with time zone,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "api_store_items_key_id_namespace_key_pk" PRIMARY KEY("key_id","namespace","key")
);
--> statement-breakpoint
CREATE TABLE "api_threads" (
	"key_id" text NOT NULL,
	"thread_id" uuid NOT NULL,
	"incarnation" uuid NOT NULL,
	"metadata" jsonb DEFAULT '{}'::jsonb NOT NULL,
	"status" text DEFAULT 'idle' NOT NULL,
	"active_run_id" uuid,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "api_threads_key_id_thread_id_pk" PRIMARY KEY("key_id","thread_id")
);
--> statement-breakpoint
CREATE TABLE "memories" (
	"id" uuid PRIMARY KEY NOT NULL,
	"user_key" text NOT NULL,
	"kind" text NOT NULL,
	"subject" text,
	"text" text NOT NULL,
	"source" text,
	"embedding_model" text NOT NULL,
	"sig" "bytea" NOT NULL,
	"vec" "bytea" NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"superseded_at" timestamp with time zone,
	"superseded_by" uuid
);
--> statement-breakpoint
CREATE TABLE "memory_progress" (
	"user_key" text NOT NULL,
	"session_id" uuid NOT NULL,
	"extracted_to" bigint DEFAULT 0 NOT NULL,
	"summarised_to" bigint DEFAULT 0 NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "memory_progress_user_key_session_id_pk" PRIMARY KEY("user_key","session_id")
);
--> statement-breakpoint
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
CREATE INDEX "access_audit_at_idx" ON "access_audit" USING btree ("at");--> statement-breakpoint
CREATE INDEX "access_usage_day_idx" ON "access_usage" USING btree ("day");--> statement-breakpoint
CREATE INDEX "api_runs_thread_idx" ON "api_runs" USING btree ("key_id","thread_id","created_at");--> statement-breakpoint
CREATE INDEX "api_runs_open_idx" ON "api_runs" USING btree ("status","updated_at");--> statement-breakpoint
CREATE INDEX "api_store_expiry_idx" ON "api_store_items" USING btree ("expires_at");--> statement-breakpoint
CREATE INDEX "api_threads_updated_idx" ON "api_threads" USING btree ("key_id","updated_at");--> statement-breakpoint
CREATE INDEX "memories_user_current_idx" ON "memories" USING btree ("user_key","created_at") WHERE superseded_at IS NULL;--> statement-breakpoint
CREATE INDEX "checkins_enabled_idx" ON "checkins" USING btree ("enabled","id");--> statement-breakpoint
CREATE INDEX "checkins_announcements_idx" ON "checkins" USING btree ("announcements","id");--> statement-breakpoint
CREATE INDEX "reminders_owner_idx" ON "reminders" USING btree ("conversation_key","user_key","status");--> statement-breakpoint
CREATE INDEX "reminders_status_due_idx" ON "reminders" USING btree ("status","due_at");--> statement-breakpoint
CREATE INDEX "scheduled_messages_enabled_idx" ON "scheduled_messages" USING btree ("enabled","id");