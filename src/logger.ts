/**
 * The one logger type of pg-advisor: pino's (fastify logs through pino, and the daemon through the same
 * instance). Parts that log take the narrowest slice they use, e.g. `Pick<Logger, 'warn'>`; calls are
 * pino's: `log.warn({ target }, 'sample failed')`.
 */
import type { Logger as PinoLogger } from 'pino';

export type Logger = Pick<PinoLogger, 'info' | 'warn' | 'error'>;

const drop = (): void => undefined;

/** Drops every line (tests and tools that pass no logger). */
export const silentLogger: Logger = { info: drop, warn: drop, error: drop };
