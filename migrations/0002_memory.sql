CREATE TABLE "memories" (
	"id" uuid PRIMARY KEY NOT NULL,
	"user_key" text NOT NULL,
	"kind" text NOT NULL,
	"subject" text,
	"text" text NOT NULL,
	"source" text,
	"embedding_model" text NOT NULL,
	"sig" bytea NOT NULL,
	"vec" bytea NOT NULL,
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
CREATE INDEX "memories_user_current_idx" ON "memories" USING btree ("user_key","created_at") WHERE superseded_at IS NULL;
