import { formatDuration } from '../format/units.js';
import rateLimit from '@fastify/rate-limit';
import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import underPressure from '@fastify/under-pressure';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import Fastify, { type FastifyBaseLogger, type FastifyInstance, type FastifyServerOptions } from 'fastify';
import type { ApiToken } from '../config/daemon/index.js';
import type { DaemonControl } from './deps.js';
import type { AnyRule } from '../engine/types.js';
import type { Store } from '../store/index.js';
import { installAuth } from './auth.js';
import { renderMetrics } from './metrics.js';
import { HttpProblem, installProblemHandlers, sendFrameworkError } from './problem.js';
import { installFiniteNumberGuard } from './finite-numbers.js';
import { installSecurity } from './security.js';
import { findingRoutes } from './routes/findings.js';
import { healthRoutes } from './routes/health.js';
import { ruleRoutes } from './routes/rules.js';
import { targetRoutes } from './routes/targets.js';
import { Problem } from './schemas.js';

export interface ApiDeps {
  readonly store: Store;
  readonly rules: readonly AnyRule[];
  /** Bearer tokens; empty = auth off (serve allows that only on a loopback address). */
  readonly tokens: readonly ApiToken[];
  /** The running daemon (status, metrics, audits); absent in read-only deployments and some tests. */
  readonly daemon?: DaemonControl;
  readonly rateLimit?: { readonly max: number; readonly windowMs: number };
  /**
   * Load shedding thresholds (under-pressure); 0 disables one. Defaults are generous because an
   * embedded PGlite store runs in the same thread and delays the event loop while it works.
   */
  readonly pressure?: { readonly maxEventLoopDelayMs?: number; readonly maxHeapUsedBytes?: number };
  readonly version?: string;
  readonly logger?: FastifyServerOptions['logger'];
  /** A pino logger to log through (the daemon's own), instead of `logger` options. */
  readonly loggerInstance?: FastifyBaseLogger;
  /** The address serve binds (api.host): with no tokens, the one name besides loopback names accepted in Host. */
  readonly host?: string;
}

/**
 * Builds the API. Never listens: the caller (serve, tests via inject) decides. Plugins are wired by
 * hand: problem+json errors, rate limit, load shedding, OpenAPI (/openapi.json, /docs), health, then
 * /metrics and /api/v1 behind bearer auth.
 */
export async function buildApp(deps: ApiDeps): Promise<FastifyInstance> {
  const app = Fastify({
    ...(deps.loggerInstance ? { loggerInstance: deps.loggerInstance } : { logger: deps.logger ?? false }),
    trustProxy: false,
    frameworkErrors: sendFrameworkError,
  }).withTypeProvider<TypeBoxTypeProvider>();
  installProblemHandlers(app);
  installSecurity(app, { tokens: deps.tokens, host: deps.host });
  installFiniteNumberGuard(app);
  app.addSchema(Problem);

  await app.register(underPressure, {
    maxEventLoopDelay: deps.pressure?.maxEventLoopDelayMs ?? 5000,
    maxHeapUsedBytes: deps.pressure?.maxHeapUsedBytes ?? 0,
    exposeStatusRoute: false,
    pressureHandler: (_request, _reply, type, value) => {
      throw new HttpProblem(503, 'overloaded', 'Service Unavailable', `the daemon is under pressure (${type} ${String(value)}); retry later`);
    },
  });
  const rateWindowMs = deps.rateLimit?.windowMs ?? 60_000;
  await app.register(rateLimit, {
    max: deps.rateLimit?.max ?? 600,
    timeWindow: rateWindowMs,
    // context.after is the time until the window resets, not the window itself.
    errorResponseBuilder: (_request, context) =>
      new HttpProblem(
        429,
        'rate-limited',
        'Too Many Requests',
        `rate limit of ${context.max} requests per ${formatDuration(rateWindowMs / 1000)} exceeded; retry in ${context.after}`,
      ),
  });
  await app.register(swagger, {
    openapi: {
      openapi: '3.1.0',
      info: { title: 'pg-advisor', version: deps.version ?? '0.0.0', description: 'PostgreSQL scaling advisor: targets, findings and their history.' },
      components: { securitySchemes: { bearer: { type: 'http', scheme: 'bearer' } } },
      security: deps.tokens.length > 0 ? [{ bearer: [] }] : [],
    },
  });
  await app.register(swaggerUi, { routePrefix: '/docs' });
  app.get('/openapi.json', { schema: { hide: true }, config: { rateLimit: false } }, async () => app.swagger());

  await app.register(healthRoutes, { deps });
  await app.register(async (secured) => {
    await installAuth(secured, deps.tokens);
    secured.get('/metrics', { schema: { tags: ['health'], summary: 'Prometheus metrics', produces: ['text/plain'] } }, async (_request, reply) =>
      reply.type('text/plain; version=0.0.4').send(await renderMetrics(deps.store, deps.daemon?.metrics() ?? [], deps.daemon?.replicaId)),
    );
    await secured.register(
      async (v1) => {
        await v1.register(targetRoutes, { deps });
        await v1.register(findingRoutes, { deps });
        await v1.register(ruleRoutes, { deps });
      },
      { prefix: '/api/v1' },
    );
  });
  await app.ready();
  return app;
}
