-- The api module's tables (src/api/schema.ts). Hand-written while the module is developed; folded into one
-- drizzle-kit generated migration when it lands. CockroachDB-compatible: application-chosen keys, no SERIAL.
CREATE TABLE "api_keys" (
	"id" text PRIMARY KEY NOT NULL,
	"name" text NOT NULL,
	"secret_hash" text NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"revoked_at" timestamp with time zone
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
CREATE INDEX "api_threads_updated_idx" ON "api_threads" USING btree ("key_id","updated_at");
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
CREATE INDEX "api_runs_thread_idx" ON "api_runs" USING btree ("key_id","thread_id","created_at");
--> statement-breakpoint
CREATE INDEX "api_runs_open_idx" ON "api_runs" USING btree ("status","updated_at");
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
CREATE INDEX "api_store_expiry_idx" ON "api_store_items" USING btree ("expires_at");
