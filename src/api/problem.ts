import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { AdvisorError } from '../errors/errors.js';
import { AuditConflictError, FindingConflictError, InvalidCursorError } from '../store/index.js';
import { applySecurityHeaders } from './headers.js';
import { DATE_TIME_PATTERN, NO_NUL } from './schemas.js';

export const PROBLEM_CONTENT_TYPE = 'application/problem+json';
const TYPE_BASE = 'https://pg-advisor.dev/problems/';

/** An HTTP error the API means to return (only src/api decides status codes). */
export class HttpProblem extends Error {
  constructor(
    readonly status: number,
    readonly slug: string,
    readonly title: string,
    readonly detail?: string,
    readonly hint?: string,
  ) {
    super(detail ?? title);
  }
}

export const notFound = (detail: string) => new HttpProblem(404, 'not-found', 'Not Found', detail);
export const forbidden = (detail: string) => new HttpProblem(403, 'forbidden', 'Forbidden', detail, 'use a token with the admin scope');
export const badRequest = (detail: string, hint?: string) => new HttpProblem(400, 'bad-request', 'Bad Request', detail, hint);

interface ProblemBody {
  type: string;
  title: string;
  status: number;
  detail?: string;
  instance?: string;
  hint?: string;
  errors?: { path: string; message: string }[];
  /** The audit already running (409 on starting another). */
  auditId?: number;
}

export function sendProblem(reply: FastifyReply, request: FastifyRequest, body: Omit<ProblemBody, 'instance'>): FastifyReply {
  return reply
    .code(body.status)
    .type(PROBLEM_CONTENT_TYPE)
    .send(JSON.stringify({ ...body, instance: request.url.split('?')[0] }));
}

interface ValidationIssue {
  readonly keyword: string;
  readonly instancePath?: string;
  readonly params?: Record<string, unknown>;
  readonly message?: string;
}

/**
 * A union of literals (an enum parameter) fails in Ajv as one `const` error per choice plus an `anyOf`
 * error, none naming a choice. Folds them into one `enum` issue per path carrying the allowed values.
 */
export function foldChoices(issues: readonly ValidationIssue[]): ValidationIssue[] {
  const choices = new Map<string, unknown[]>();
  for (const v of issues) {
    if (v.keyword !== 'const') continue;
    const path = v.instancePath ?? '';
    choices.set(path, [...(choices.get(path) ?? []), v.params?.allowedValue]);
  }
  const folded = new Set(issues.filter((v) => v.keyword === 'anyOf' && choices.has(v.instancePath ?? '')).map((v) => v.instancePath ?? ''));
  return issues.flatMap((v): ValidationIssue[] => {
    const path = v.instancePath ?? '';
    if (!folded.has(path) || (v.keyword !== 'const' && v.keyword !== 'anyOf')) return [v];
    return v.keyword === 'anyOf' ? [{ keyword: 'enum', instancePath: v.instancePath, params: { allowedValues: choices.get(path) ?? [] } }] : [];
  });
}

/** Ajv's message, except for our own patterns, whose regular expressions say little to a client, and enums, which list their values. */
function validationMessage(v: ValidationIssue): string {
  if (v.keyword === 'enum' && Array.isArray(v.params?.allowedValues)) {
    return `must be one of: ${v.params.allowedValues.map((a) => String(a)).join(', ')}`;
  }
  if (v.keyword === 'pattern' && v.params?.pattern === DATE_TIME_PATTERN) {
    return 'must be an RFC 3339 date-time with seconds 00-59, a year 0001-9999 and an offset within ±14:00 (e.g. 2026-01-31T12:00:00Z)';
  }
  if (v.keyword === 'pattern' && v.params?.pattern === NO_NUL) return 'must not contain a NUL character';
  return v.message ?? 'invalid';
}

/** Maps every error to RFC 9457 problem+json; 5xx details are logged, never sent. */
export function installProblemHandlers(app: FastifyInstance): void {
  app.setNotFoundHandler((request, reply) =>
    sendProblem(reply, request, {
      type: `${TYPE_BASE}not-found`,
      title: 'Not Found',
      status: 404,
      detail: `no route ${request.method} ${request.url.split('?')[0]}`,
    }),
  );
  app.setErrorHandler((error: FastifyError, request, reply) => {
    if (error instanceof HttpProblem) {
      return sendProblem(reply, request, {
        type: `${TYPE_BASE}${error.slug}`,
        title: error.title,
        status: error.status,
        detail: error.detail,
        ...(error.hint ? { hint: error.hint } : {}),
      });
    }
    if (error.validation) {
      const issues = foldChoices(error.validation);
      return sendProblem(reply, request, {
        type: `${TYPE_BASE}invalid-request`,
        title: 'Bad Request',
        status: 400,
        detail: issues.map((v) => `${error.validationContext ?? ''}${v.instancePath || ''} ${validationMessage(v)}`).join(', '),
        errors: issues.map((v) => ({ path: `${error.validationContext ?? ''}${v.instancePath || ''}`, message: validationMessage(v) })),
      });
    }
    if (error.code?.startsWith('FST_BEARER_AUTH')) {
      reply.header('www-authenticate', 'Bearer');
      return sendProblem(reply, request, {
        type: `${TYPE_BASE}unauthorized`,
        title: 'Unauthorized',
        status: 401,
        detail: error.message,
        hint: 'send Authorization: Bearer <token>',
      });
    }
    if (error instanceof InvalidCursorError) {
      return sendProblem(reply, request, { type: `${TYPE_BASE}invalid-cursor`, title: 'Bad Request', status: 400, detail: error.message, hint: error.hint });
    }
    if (error instanceof AuditConflictError) {
      return sendProblem(reply, request, {
        type: `${TYPE_BASE}audit-running`,
        title: 'Conflict',
        status: 409,
        detail: error.message,
        hint: error.hint,
        auditId: error.runningAuditId,
      });
    }
    if (error instanceof FindingConflictError) {
      return sendProblem(reply, request, {
        type: `${TYPE_BASE}conflict`,
        title: 'Conflict',
        status: 409,
        detail: error.message,
        ...(error.hint ? { hint: error.hint } : {}),
      });
    }
    const status = error.statusCode ?? 500;
    if (status === 429) {
      return sendProblem(reply, request, { type: `${TYPE_BASE}rate-limited`, title: 'Too Many Requests', status, detail: error.message });
    }
    if (status === 503) {
      return sendProblem(reply, request, { type: `${TYPE_BASE}unavailable`, title: 'Service Unavailable', status, detail: error.message });
    }
    if (status >= 400 && status < 500) {
      return sendProblem(reply, request, { type: `${TYPE_BASE}bad-request`, title: 'Bad Request', status, detail: error.message });
    }
    request.log.error({ err: error }, 'request failed');
    return sendProblem(reply, request, {
      type: `${TYPE_BASE}internal`,
      title: 'Internal Server Error',
      status: 500,
      detail: error instanceof AdvisorError ? error.message : 'the request failed; see the daemon log',
    });
  });
}

/**
 * Fastify's own request errors raised before routing (a path that is not valid percent-encoded UTF-8, a path
 * parameter over the length limit) as problem+json too; these replies skip the hooks, so the security headers
 * are set here. Passed as the `frameworkErrors` option of Fastify.
 */
export function sendFrameworkError(error: FastifyError, request: FastifyRequest, reply: FastifyReply): void {
  applySecurityHeaders(reply, request.url);
  void sendProblem(reply, request, {
    type: `${TYPE_BASE}invalid-request`,
    title: 'Bad Request',
    status: 400,
    detail: error.code === 'FST_ERR_BAD_URL' ? 'the path is not valid percent-encoded UTF-8' : error.message,
  });
}
