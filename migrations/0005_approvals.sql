CREATE TABLE "approval_audit" (
	"id" uuid PRIMARY KEY NOT NULL,
	"at" timestamp with time zone DEFAULT now() NOT NULL,
	"approval_id" text NOT NULL,
	"actor" text NOT NULL,
	"decision" text NOT NULL,
	"result" text NOT NULL
);
--> statement-breakpoint
CREATE TABLE "approvals" (
	"id" text PRIMARY KEY NOT NULL,
	"conversation_key" text NOT NULL,
	"turn_id" uuid NOT NULL,
	"requester" text NOT NULL,
	"tool" text NOT NULL,
	"state" text NOT NULL,
	"status" text DEFAULT 'pending' NOT NULL,
	"decided_by" text,
	"decided_at" timestamp with time zone,
	"expires_at" timestamp with time zone NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
ALTER TABLE "outbox" ADD COLUMN "approval_id" text;--> statement-breakpoint
ALTER TABLE "outbox" ADD COLUMN "replaces_approval" text;--> statement-breakpoint
CREATE INDEX "approval_audit_approval_idx" ON "approval_audit" USING btree ("approval_id");--> statement-breakpoint
CREATE INDEX "approvals_conversation_idx" ON "approvals" USING btree ("conversation_key","status");--> statement-breakpoint
CREATE INDEX "approvals_expiry_idx" ON "approvals" USING btree ("status","expires_at");