import { defineConfig } from 'drizzle-kit';

export default defineConfig({
  dialect: 'postgresql',
  // Each capability owns its tables in src/<module>/schema.ts; the spine's are in src/db/schema.ts.
  schema: './src/*/schema.ts',
  out: './migrations',
});
