/**
 * Request and response schemas: the single source of validation (fastify's Ajv: defaults, coercion),
 * serialisation (fast-json-stringify) and the OpenAPI document. Types come from them via Static.
 */
import { Type, type Static } from 'typebox';
import { SERIES_METRICS } from '../store/index.js';

const DateTime = Type.String({ format: 'date-time' });
/**
 * A date-time a client may send: RFC 3339, and one JavaScript and the store read as the same instant. No leap
 * second (`:60`: JavaScript cannot represent it), years 0001–9999 (PostgreSQL has no year 0), offsets within
 * ±14:00 (the widest real time zones). The handlers also bound the resulting instant (src/api/params.ts).
 */
export const DATE_TIME_PATTERN =
  '^(?!0000)\\d{4}-\\d{2}-\\d{2}[Tt]([01]\\d|2[0-3]):[0-5]\\d:[0-5]\\d(\\.\\d{1,9})?([Zz]|[+-](0\\d|1[0-3]):[0-5]\\d|[+-]14:00)$';
const DateTimeInput = (description?: string) => Type.String({ format: 'date-time', pattern: DATE_TIME_PATTERN, ...(description ? { description } : {}) });
/** Free text that reaches the store: PostgreSQL text cannot hold a NUL character. */
export const NO_NUL = '^[^\\u0000]*$';
const Text = (options: { minLength?: number; maxLength?: number; description?: string } = {}) => Type.String({ ...options, pattern: NO_NUL });
/** Largest id a client may send: ids are int8 in the store and JSON numbers here (exact up to 2^53 - 1). */
export const MAX_ID = Number.MAX_SAFE_INTEGER;
const NullableDateTime = Type.Union([DateTime, Type.Null()]);
const NullableString = Type.Union([Type.String(), Type.Null()]);
const NullableInteger = Type.Union([Type.Integer(), Type.Null()]);
const SeverityEnum = Type.Union([Type.Literal('info'), Type.Literal('warning'), Type.Literal('critical')]);
const StatusEnum = Type.Union([Type.Literal('open'), Type.Literal('acknowledged'), Type.Literal('snoozed'), Type.Literal('resolved')]);

/** RFC 9457 problem details. */
export const Problem = Type.Object(
  {
    type: Type.String(),
    title: Type.String(),
    status: Type.Integer(),
    detail: Type.Optional(Type.String()),
    instance: Type.Optional(Type.String()),
    hint: Type.Optional(Type.String()),
    errors: Type.Optional(Type.Array(Type.Object({ path: Type.String(), message: Type.String() }))),
    auditId: Type.Optional(Type.Integer({ description: 'the audit already running (409 when starting an audit)' })),
  },
  { $id: 'Problem', description: 'RFC 9457 problem details (application/problem+json)' },
);

export const Target = Type.Object({
  name: Type.String(),
  url: Type.String({ description: 'Connection URL with the password masked' }),
  intervalMs: Type.Integer(),
  enabled: Type.Boolean(),
  state: Type.String({
    description: 'pending | ok | failing | circuit-open | disabled | stale (its owner stopped sampling it: lease expired or owner silent; see lastSuccessAt)',
  }),
  circuit: NullableString,
  running: Type.Boolean(),
  lastRunAt: NullableDateTime,
  lastSuccessAt: NullableDateTime,
  lastErrorAt: NullableDateTime,
  lastError: NullableString,
  lastDurationMs: NullableInteger,
  consecutiveFailures: Type.Integer(),
  nextRunAt: NullableDateTime,
  serverVersion: NullableString,
  owner: Type.Union([Type.String(), Type.Null()], { description: 'Replica sampling the target' }),
  leaseExpiresAt: Type.Union([DateTime, Type.Null()], { description: "When the owner's lease ends unless renewed (null: no lease)" }),
});
export type TargetBody = Static<typeof Target>;

const FindingObject = Type.Object(
  {
    type: Type.String(),
    schema: Type.Optional(Type.String()),
    name: Type.Optional(Type.String()),
    queryId: Type.Optional(Type.String()),
    columns: Type.Optional(Type.Array(Type.String())),
    table: Type.Optional(Type.String()),
    label: Type.Optional(Type.String({ description: 'how reports name the object when its identity does not read (an N+1 loop); display only' })),
  },
  { additionalProperties: true },
);

export const Finding = Type.Object({
  id: Type.Integer(),
  target: Type.String(),
  fingerprint: Type.String(),
  rule: Type.String(),
  severity: SeverityEnum,
  status: StatusEnum,
  title: Type.String(),
  summary: Type.String(),
  object: FindingObject,
  // Open objects (additionalProperties) serialise much faster than patternProperties records.
  evidence: Type.Object({}, { additionalProperties: true, description: 'numbers with their unit in the key' }),
  recommendation: Type.Object({ text: Type.String(), sql: Type.Optional(Type.String()) }),
  impact: Type.Object({}, { additionalProperties: Type.Number() }),
  firstSeenAt: DateTime,
  lastSeenAt: DateTime,
  resolvedAt: NullableDateTime,
  acknowledgedAt: NullableDateTime,
  snoozedUntil: NullableDateTime,
});

export const FindingEvent = Type.Object({
  at: DateTime,
  kind: Type.String(),
  fromStatus: NullableString,
  toStatus: NullableString,
  fromSeverity: NullableString,
  toSeverity: NullableString,
  actor: NullableString,
  note: NullableString,
});

export const FindingDetail = Type.Intersect([Finding, Type.Object({ events: Type.Array(FindingEvent) })]);

export const FindingsQuery = Type.Object({
  target: Type.Optional(Text({ minLength: 1, maxLength: 63 })),
  rule: Type.Optional(Text({ minLength: 1, maxLength: 200 })),
  severity: Type.Optional(Type.Array(SeverityEnum, { description: 'repeat to select several' })),
  status: Type.Optional(Type.Array(StatusEnum, { description: 'repeat to select several' })),
  since: Type.Optional(DateTimeInput('findings seen at or after this instant')),
  cursor: Type.Optional(Type.String({ minLength: 1, maxLength: 200, pattern: '^[A-Za-z0-9_-]+$' })),
  limit: Type.Integer({ minimum: 1, maximum: 500, default: 50 }),
});
export type FindingsQueryInput = Static<typeof FindingsQuery>;

export const FindingPage = Type.Object({ items: Type.Array(Finding), nextCursor: NullableString });

export const IdParams = Type.Object({ id: Type.Integer({ minimum: 1, maximum: MAX_ID }) });
export const NameParams = Type.Object({ name: Text({ minLength: 1, maxLength: 63 }) });
export const NameIdParams = Type.Object({ name: Text({ minLength: 1, maxLength: 63 }), id: Type.Integer({ minimum: 1, maximum: MAX_ID }) });

export const ActionBody = Type.Object({ note: Type.Optional(Text({ maxLength: 2000 })) }, { additionalProperties: false });
export const SnoozeBody = Type.Object({ until: DateTimeInput(), note: Type.Optional(Text({ maxLength: 2000 })) }, { additionalProperties: false });

export const TimeRangeQuery = {
  from: Type.Optional(DateTimeInput()),
  to: Type.Optional(DateTimeInput()),
  resolution: Type.Union([Type.Literal('raw'), Type.Literal('hour')], {
    default: 'raw',
    description: 'raw: per-sample data (kept days); hour: hourly roll-ups (kept weeks)',
  }),
};

export const StatementsQuery = Type.Object({
  ...TimeRangeQuery,
  orderBy: Type.Union([Type.Literal('total'), Type.Literal('calls'), Type.Literal('mean')], { default: 'total' }),
  limit: Type.Integer({ minimum: 1, maximum: 200, default: 20 }),
});

export const Statement = Type.Object({
  queryId: Type.String(),
  query: NullableString,
  calls: Type.Number(),
  rows: Type.Number(),
  totalExecTimeMs: Type.Number(),
  meanExecTimeMs: Type.Number(),
  sharedBlks: Type.Number(),
  samples: Type.Integer(),
});
export const StatementList = Type.Object({ items: Type.Array(Statement) });

/** Most points one series response holds. */
export const MAX_SERIES_POINTS = 10_000;

export const SeriesQuery = Type.Object({
  ...TimeRangeQuery,
  metric: Type.Optional(Type.Array(Type.Union(SERIES_METRICS.map((m) => Type.Literal(m))), { description: 'repeat to select several; default all' })),
  limit: Type.Integer({
    minimum: 1,
    maximum: MAX_SERIES_POINTS,
    default: MAX_SERIES_POINTS,
    description: 'most points in this response (all series together)',
  }),
  cursor: Type.Optional(Type.String({ minLength: 1, maxLength: 400, pattern: '^[A-Za-z0-9_-]+$', description: 'nextCursor of the previous (newer) page' })),
});
export const SeriesList = Type.Object({
  truncated: Type.Boolean({ description: 'true when older points of the range were left out: fetch them with nextCursor' }),
  nextCursor: Type.Union([Type.String(), Type.Null()], { description: 'pass back as cursor for the next older page; null on the oldest page' }),
  series: Type.Array(
    Type.Object({
      metric: Type.String(),
      object: Type.String(),
      points: Type.Array(Type.Tuple([DateTime, Type.Number()]), { description: '[time, value] pairs' }),
    }),
  ),
});

export const Audit = Type.Object({
  id: Type.Integer(),
  target: Type.String(),
  trigger: Type.String(),
  status: Type.String(),
  windowMs: NullableInteger,
  requestedAt: DateTime,
  finishedAt: NullableDateTime,
  report: Type.Union([Type.Record(Type.String(), Type.Unknown()), Type.Null()]),
  error: NullableString,
});
export const Delivery = Type.Object({
  id: Type.Integer(),
  auditId: NullableInteger,
  destination: Type.String(),
  idempotencyKey: Type.String(),
  status: Type.String({ description: 'pending (not yet sent, or retrying when lastError is set) | delivered | failed (given up)' }),
  attempts: Type.Integer(),
  createdAt: DateTime,
  nextAttemptAt: NullableDateTime,
  deliveredAt: NullableDateTime,
  lastError: NullableString,
  httpStatus: NullableInteger,
});
export const AuditWithDeliveries = Type.Intersect([
  Audit,
  Type.Object({ deliveries: Type.Array(Delivery, { description: 'messages this audit posted to chat destinations' }) }),
]);
export const AuditList = Type.Object({ items: Type.Array(AuditWithDeliveries) });
export const Destination = Type.Object({
  name: Type.String(),
  kind: Type.String({ description: 'slack | teams | discord | webhook' }),
  url: Type.String({ description: 'scheme and host only: the rest may carry a token' }),
});
export const DestinationList = Type.Object({ items: Type.Array(Destination) });
export const TestDelivery = Type.Object({
  destination: Type.String(),
  status: Type.String({ description: 'delivered | failed' }),
  attempts: Type.Integer(),
  httpStatus: NullableInteger,
  error: NullableString,
});
export const AuditBody = Type.Object(
  { window: Type.Optional(Type.String({ pattern: '^(0|\\d+(ms|s|m))$', description: 'sampling window, e.g. 10s; 0 = one snapshot' })) },
  { additionalProperties: false },
);

export const Rule = Type.Object({
  id: Type.String(),
  title: Type.String(),
  category: Type.String(),
  defaultSeverity: Type.String(),
  requires: Type.Array(Type.String()),
  thresholds: Type.Array(Type.Object({ key: Type.String(), default: Type.Number(), description: Type.String() })),
  docs: Type.Object({ summary: Type.String(), why: Type.String(), fix: Type.String(), falsePositives: Type.String() }),
  docsPage: Type.String(),
});
export const RuleList = Type.Object({ items: Type.Array(Rule) });

export const Health = Type.Object({ status: Type.String() });

/** Deeply mutable view of a type: store records are readonly, schema-derived bodies are not. */
export type Writable<T> = T extends readonly (infer U)[] ? Writable<U>[] : T extends object ? { -readonly [K in keyof T]: Writable<T[K]> } : T;

/** The same value typed as mutable (no copy): responses are serialised, never mutated. */
export const writable = <T>(value: T): Writable<T> => value as Writable<T>;
