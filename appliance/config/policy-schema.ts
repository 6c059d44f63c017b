// The config's `policies:`, `approvals:` and `masking:` sections. Patterns, paths and regexes
// are checked here, at load, so that a typo is a config error and never a silent allow.
import { z } from 'zod';
import ms from 'ms';
import { JSONPath } from 'jsonpath-plus';
import { compileMatch, PatternError } from '../lib/match-pattern.js';

const durationMs = z.union([z.string(), z.number()]).transform((v, ctx) => {
  const out = typeof v === 'number' ? v : ms(v as ms.StringValue);
  if (typeof out !== 'number' || !Number.isFinite(out) || out <= 0) {
    ctx.addIssue({ code: 'custom', message: `not a positive duration: ${String(v)} (write e.g. "10m")` });
    return z.NEVER;
  }
  return out;
});

const pattern = z.string().superRefine((v, ctx) => {
  try {
    compileMatch(v);
  } catch (err) {
    ctx.addIssue({ code: 'custom', message: err instanceof PatternError ? err.message : 'bad pattern' });
  }
});

function checkJsonPath(v: string, ctx: z.RefinementCtx): void {
  if (!v.startsWith('$')) {
    ctx.addIssue({ code: 'custom', message: `a JSON path starts with "$": ${JSON.stringify(v)}` });
    return;
  }
  try {
    JSONPath.toPathArray(v);
    JSONPath({ path: v, json: {}, eval: false });
  } catch (err) {
    ctx.addIssue({ code: 'custom', message: `not a JSON path: ${(err as Error).message}` });
  }
}

const jsonPath = z.string().superRefine(checkJsonPath);

const condition = z
  .strictObject({
    path: jsonPath,
    exists: z.boolean().optional(),
    equals: z.union([z.string(), z.number(), z.boolean(), z.null()]).optional(),
    gt: z.number().optional(),
    gte: z.number().optional(),
    lt: z.number().optional(),
    lte: z.number().optional(),
  })
  .refine((c) => ['exists', 'equals', 'gt', 'gte', 'lt', 'lte'].some((k) => k in c), {
    error: 'a condition needs one of exists, equals, gt, gte, lt, lte',
  });

const action = z.enum(['allow', 'deny', 'approve']);
const mode = z.enum(['enforce', 'report']);

const ruleSchema = z.strictObject({
  match: pattern,
  action,
  reason: z.string().max(500).optional(),
  mode: mode.optional(),
  when: z.array(condition).min(1).optional(),
});

export const policySchema = z.strictObject({
  default: action.default('deny'),
  mode: mode.default('enforce'),
  allowKeyManagement: z.boolean().default(false),
  rateLimit: z.strictObject({ perSecond: z.number().positive(), burst: z.number().int().min(1) }).optional(),
  rules: z.array(ruleSchema).default([]),
});

const busSchema = z.strictObject({
  type: z.literal('redis'),
  /** redis:// or rediss://, without a password (passwordFile holds it, 0600). */
  url: z
    .url({ protocol: /^rediss?$/ })
    .refine((u) => new URL(u).password === '', { error: 'put the Redis password in approvals.bus.passwordFile, not in the URL' }),
  passwordFile: z.string().min(1).optional(),
  /** TLS to Redis: true for the system roots, or a CA file for a private one. */
  tls: z.union([z.boolean(), z.strictObject({ caFile: z.string().min(1) })]).default(false),
  keyPrefix: z
    .string()
    .regex(/^[A-Za-z0-9_.:-]{1,64}$/)
    .default('airlock:'),
});

export const approvalsSchema = z
  .strictObject({
    timeout: durationMs.default(10 * 60_000),
    /** The group that may use the control socket (and so approve); null keeps it 0600. */
    group: z
      .string()
      .regex(/^[A-Za-z_][A-Za-z0-9_.-]{0,31}$/)
      .nullable()
      .default(null),
    webhook: z
      .url({ protocol: /^https?$/ })
      .nullable()
      .default(null),
    /** text: a Slack-compatible `text` line; slack: an interactive message with Approve/Deny buttons. */
    webhookFormat: z.enum(['text', 'slack']).default('text'),
    /** Shared across runners: holds published, decisions read back (approvals/redis-bus.ts). */
    bus: busSchema.nullable().default(null),
  })
  .prefault({});

const maskRule = z
  .strictObject({
    name: z.string().regex(/^[A-Za-z0-9_.-]{1,64}$/, 'letters, digits, _ . - only'),
    jsonPath: jsonPath.optional(),
    regex: z
      .string()
      .min(1)
      .superRefine((v, ctx) => {
        try {
          if (new RegExp(v, 'g').test('')) ctx.addIssue({ code: 'custom', message: 'a masking regex must not match the empty string' });
        } catch (err) {
          ctx.addIssue({ code: 'custom', message: `not a regex: ${(err as Error).message}` });
        }
      })
      .optional(),
  })
  .refine((r) => (r.jsonPath === undefined) !== (r.regex === undefined), { error: 'a masking rule has exactly one of jsonPath or regex' });

export const maskingSchema = z.strictObject({ rules: z.array(maskRule).default([]) }).prefault({});

export type BusConfig = z.output<typeof busSchema>;
