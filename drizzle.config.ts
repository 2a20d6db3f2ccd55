/**
 * drizzle-kit settings for the run registry: `npx drizzle-kit generate` reads
 * the schema below and writes numbered SQL migrations plus their meta/ journal
 * into drizzle/, which is committed and applied by RunRegistry.open.
 */
import { defineConfig } from 'drizzle-kit';

export default defineConfig({
  dialect: 'sqlite',
  schema: './main/registry/schema.ts',
  out: './drizzle',
});
