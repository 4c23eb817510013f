ALTER TABLE "approvals" ADD COLUMN "args" text;
