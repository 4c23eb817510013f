CREATE TABLE "slack_installations" (
	"install_key" text PRIMARY KEY NOT NULL,
	"team_id" text,
	"enterprise_id" text,
	"bot_user_id" text,
	"sealed" text NOT NULL,
	"installed_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "bots" (
	"platform" text NOT NULL,
	"name" text NOT NULL,
	"tenant" text NOT NULL,
	"sealed" text NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "bots_platform_name_pk" PRIMARY KEY("platform","name")
);
--> statement-breakpoint
CREATE UNIQUE INDEX "bots_platform_tenant_idx" ON "bots" USING btree ("platform","tenant");
