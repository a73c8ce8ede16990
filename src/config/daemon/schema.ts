import { z } from 'zod';
import type { AnyRule } from '../../engine/types.js';
import { parseLongDuration } from './duration.js';

function duration(minMs: number, maxMs: number) {
  return z.string({ error: 'expected a duration string such as "15s", "5m" or "7d"' }).superRefine((value, ctx) => {
    const parsed = parseLongDuration(value);
    if (!parsed.ok) ctx.addIssue({ code: 'custom', message: parsed.problem });
    else if (parsed.ms < minMs || parsed.ms > maxMs) ctx.addIssue({ code: 'custom', message: `${value} is out of range (${minMs} ms – ${maxMs} ms)` });
  });
}

const keysOf = (shape: Record<string, unknown>) => Object.keys(shape).join(', ');

function strict<T extends z.ZodRawShape>(shape: T, what: string) {
  return z.strictObject(shape, {
    error: (issue) =>
      issue.code === 'unrecognized_keys'
        ? `unknown ${what} setting; valid: ${keysOf(shape)}`
        : issue.code === 'invalid_type'
          ? `expected a mapping (${what})`
          : undefined,
  });
}

function rulesSchema(rules: readonly AnyRule[]) {
  const threshold = z.number({ error: 'expected a number' }).refine((n) => Number.isFinite(n) && n >= 0, { message: 'expected a finite number ≥ 0' });
  const shape = Object.fromEntries(
    rules.map((rule) => {
      const keys = Object.keys(rule.thresholds);
      const thresholds = strict(Object.fromEntries(keys.map((k) => [k, threshold.optional()])), `threshold of ${rule.id}`);
      return [rule.id, strict({ enabled: z.boolean({ error: 'expected true or false' }).optional(), thresholds: thresholds.optional() }, 'rule').optional()];
    }),
  );
  return z.strictObject(shape, {
    error: (issue) => (issue.code === 'unrecognized_keys' ? `unknown rule; valid: ${rules.map((r) => r.id).join(', ')}` : undefined),
  });
}

const NAME_RE = /^[a-z0-9][a-z0-9_.-]{0,62}$/;

/** The daemon config file, built against the rule registry so unknown rules and thresholds name what is valid. */
export function buildDaemonConfigSchema(rules: readonly AnyRule[]) {
  const target = strict(
    {
      name: z.string({ error: 'expected a target name' }).regex(NAME_RE, 'lowercase letters, digits, _ . - (max 63), starting with a letter or digit'),
      url: z.string().min(1).optional(),
      urlEnv: z
        .string()
        .regex(/^[A-Z_][A-Z0-9_]*$/, 'expected an environment variable name')
        .optional(),
      urlFile: z.string().min(1).optional(),
      interval: duration(1000, 86_400_000).optional(),
      history: duration(0, 3_600_000).optional(),
      statementTimeout: duration(100, 300_000).optional(),
      connectTimeout: duration(100, 120_000).optional(),
      maxConnections: z.number().int().min(1).max(5).optional(),
      rules: rulesSchema(rules).optional(),
    },
    'target',
  );
  const token = strict(
    {
      name: z.string().min(1),
      scope: z.enum(['read', 'admin'], { error: 'expected read or admin' }),
      env: z
        .string()
        .regex(/^[A-Z_][A-Z0-9_]*$/, 'expected an environment variable name')
        .optional(),
      file: z.string().min(1).optional(),
    },
    'token',
  );
  const envName = z.string().regex(/^[A-Z_][A-Z0-9_]*$/, 'expected an environment variable name');
  const destination = strict(
    {
      name: z.string({ error: 'expected a destination name' }).regex(NAME_RE, 'lowercase letters, digits, _ . - (max 63), starting with a letter or digit'),
      kind: z.enum(['slack', 'teams', 'discord', 'webhook'], { error: 'expected slack, teams, discord or webhook' }),
      url: z.string().min(1).optional(),
      urlEnv: envName.optional(),
      urlFile: z.string().min(1).optional(),
      secret: strict({ env: envName.optional(), file: z.string().min(1).optional() }, 'secret').optional(),
    },
    'destination',
  );
  const auditSchedule = strict(
    {
      name: z.string({ error: 'expected an audit name' }).regex(NAME_RE, 'lowercase letters, digits, _ . - (max 63), starting with a letter or digit'),
      cron: z.string({ error: 'expected a cron expression such as "0 7 * * 1-5"' }).min(1),
      timezone: z.string().min(1).optional(),
      targets: z.array(z.string().min(1)).min(1).optional(),
      window: duration(0, 600_000).optional(),
      minSeverity: z.enum(['info', 'warning', 'critical'], { error: 'expected info, warning or critical' }).optional(),
      destinations: z.array(z.string().min(1), { error: 'expected a list of destination names' }).min(1, 'name at least one destination'),
      quietWhenUnchanged: z.boolean({ error: 'expected true or false' }).optional(),
    },
    'audit schedule',
  );
  return strict(
    {
      targets: z.array(target, { error: 'expected a list of targets' }).optional(),
      defaults: strict(
        { interval: duration(1000, 86_400_000).optional(), history: duration(0, 3_600_000).optional(), rules: rulesSchema(rules).optional() },
        'defaults',
      ).optional(),
      store: strict(
        { dir: z.string().min(1).optional(), urlEnv: z.string().optional(), maxConnections: z.number().int().min(1).max(50).optional() },
        'store',
      ).optional(),
      api: strict(
        {
          host: z.string().min(1).optional(),
          port: z.number().int().min(0).max(65535).optional(),
          tokens: z.array(token).optional(),
          rateLimit: strict({ max: z.number().int().min(1).optional(), window: duration(1000, 3_600_000).optional() }, 'rateLimit').optional(),
        },
        'api',
      ).optional(),
      retention: strict(
        {
          samples: duration(3_600_000, 366 * 86_400_000).optional(),
          resolvedFindings: duration(3_600_000, 3660 * 86_400_000).optional(),
          audits: duration(3_600_000, 3660 * 86_400_000).optional(),
          queryTexts: duration(3_600_000, 3660 * 86_400_000).optional(),
          rollups: duration(3_600_000, 3660 * 86_400_000).optional(),
        },
        'retention',
      ).optional(),
      lifecycle: strict({ resolveAfterMisses: z.number().int().min(1).max(1000).optional() }, 'lifecycle').optional(),
      audits: strict(
        { window: duration(0, 600_000).optional(), schedules: z.array(auditSchedule, { error: 'expected a list of audit schedules' }).optional() },
        'audits',
      ).optional(),
      destinations: z.array(destination, { error: 'expected a list of destinations' }).optional(),
      publicBaseUrl: z
        .string()
        .refine((v) => /^https?:\/\/[^\s]+$/i.test(v), { message: 'expected an http(s) URL such as https://advisor.example.com' })
        .optional(),
      delivery: strict(
        {
          pollInterval: duration(1000, 60_000).optional(),
          concurrency: z.number().int().min(1).max(32).optional(),
          timeout: duration(500, 60_000).optional(),
          maxElapsed: duration(1000, 600_000).optional(),
          retryDelay: duration(1000, 86_400_000).optional(),
          maxAge: duration(60_000, 7 * 86_400_000).optional(),
        },
        'delivery',
      ).optional(),
      replica: strict({ id: z.string().min(1).optional(), leaseTtl: duration(5000, 3_600_000).optional() }, 'replica').optional(),
    },
    'top-level',
  );
}

export type DaemonConfigFile = z.infer<ReturnType<typeof buildDaemonConfigSchema>>;
