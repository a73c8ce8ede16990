import { z } from 'zod';
import type { AnyRule } from '../engine/types.js';
import { CONNECT_TIMEOUT_BOUNDS, parseDuration, STATEMENT_TIMEOUT_BOUNDS, WINDOW_BOUNDS, type DurationBounds } from './duration.js';

export const FAIL_ON_LEVELS = ['critical', 'warning', 'info', 'never'] as const;
export type FailOn = (typeof FAIL_ON_LEVELS)[number];

/** Per-rule settings as written in a config file. */
export interface RuleOptions {
  readonly enabled?: boolean;
  readonly thresholds?: Readonly<Record<string, number | undefined>>;
}

/** A config file after validation (durations still as written). */
export interface ConfigFileOptions {
  readonly databaseUrl?: string;
  readonly statementTimeout?: string;
  readonly connectTimeout?: string;
  readonly window?: string;
  readonly failOn?: FailOn;
  readonly rules?: Readonly<Record<string, RuleOptions | undefined>>;
}

const TOP_LEVEL_KEYS = ['databaseUrl', 'statementTimeout', 'connectTimeout', 'window', 'failOn', 'rules'] as const;

function list(values: readonly string[]): string {
  return values.length > 0 ? values.join(', ') : '(none)';
}

function duration(bounds: DurationBounds) {
  return z.string({ error: 'expected a duration string such as "500ms", "10s" or "2m"' }).superRefine((value, ctx) => {
    const parsed = parseDuration(value, bounds);
    if (!parsed.ok) ctx.addIssue({ code: 'custom', message: parsed.problem });
  });
}

function ruleSchema(rule: AnyRule) {
  const keys = Object.keys(rule.thresholds);
  const threshold = z.number({ error: 'expected a number' }).refine((n) => Number.isFinite(n) && n >= 0, { message: 'expected a finite number ≥ 0' });
  const thresholds = z.strictObject(Object.fromEntries(keys.map((key) => [key, threshold.optional()])), {
    error: (issue) =>
      issue.code === 'unrecognized_keys'
        ? `unknown threshold; valid: ${list(keys)}`
        : issue.code === 'invalid_type'
          ? `expected an object of threshold values (${list(keys)})`
          : undefined,
  });
  return z.strictObject(
    {
      enabled: z.boolean({ error: 'expected true or false' }).optional(),
      thresholds: thresholds.optional(),
    },
    {
      error: (issue) =>
        issue.code === 'unrecognized_keys'
          ? 'unknown rule setting; valid: enabled, thresholds'
          : issue.code === 'invalid_type'
            ? 'expected an object with enabled and/or thresholds'
            : undefined,
    },
  );
}

/**
 * The config file schema, built against the rule registry so unknown rule ids and threshold keys are
 * errors that name what is valid.
 */
export function buildConfigFileSchema(rules: readonly AnyRule[]) {
  const ids = rules.map((r) => r.id);
  const rulesShape = Object.fromEntries(rules.map((rule) => [rule.id, ruleSchema(rule).optional()]));
  return z.strictObject(
    {
      databaseUrl: z.string({ error: 'expected a connection URL string (postgres://…)' }).min(1).optional(),
      statementTimeout: duration(STATEMENT_TIMEOUT_BOUNDS).optional(),
      connectTimeout: duration(CONNECT_TIMEOUT_BOUNDS).optional(),
      window: duration(WINDOW_BOUNDS).optional(),
      failOn: z.enum(FAIL_ON_LEVELS, { error: `expected one of ${list(FAIL_ON_LEVELS)}` }).optional(),
      rules: z
        .strictObject(rulesShape, {
          error: (issue) =>
            issue.code === 'unrecognized_keys'
              ? `unknown rule; valid: ${list(ids)}`
              : issue.code === 'invalid_type'
                ? 'expected an object keyed by rule id'
                : undefined,
        })
        .optional(),
    },
    {
      error: (issue) =>
        issue.code === 'unrecognized_keys'
          ? `unknown setting; valid: ${list(TOP_LEVEL_KEYS)}`
          : issue.code === 'invalid_type'
            ? 'expected a mapping of settings at the top level'
            : undefined,
    },
  );
}

/** One line per problem: `rules.table-bloat.thresholds.minTableByte: unknown threshold; valid: …`. */
export function formatConfigIssues(issues: readonly z.core.$ZodIssue[]): string[] {
  const lines: string[] = [];
  for (const issue of issues) {
    const base = issue.path.map(String);
    if (issue.code === 'unrecognized_keys') {
      for (const key of issue.keys) lines.push(`${[...base, key].join('.')}: ${issue.message}`);
    } else {
      lines.push(`${base.length > 0 ? base.join('.') : '(top level)'}: ${issue.message}`);
    }
  }
  return lines;
}
