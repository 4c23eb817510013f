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
CREATE INDEX "access_audit_at_idx" ON "access_audit" USING btree ("at");--> statement-breakpoint
CREATE INDEX "access_usage_day_idx" ON "access_usage" USING btree ("day");
