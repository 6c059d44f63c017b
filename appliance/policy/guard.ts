// The guardrails' runtime state, built once from the config: compiled policies by grant, the
// per-session rate limiter, the approval queue (with its webhook) and the masking rules.
import type { Config } from '../config/schema.js';
import type { Logger } from '../log.js';
import { ApprovalQueue, type Approvals, type HeldRequest, type Outcome } from '../approvals/approval-queue.js';
import { BusApprovals } from '../approvals/bus-approvals.js';
import { openBus } from '../approvals/open-bus.js';
import { Webhook } from '../approvals/webhook.js';
import type { MaskRules } from '../masking/mask-response.js';
import { compilePolicy, UNRESTRICTED, type CompiledPolicy } from './compile-policy.js';
import { RateLimiter } from './rate-limiter.js';

export interface Guard {
  policyFor(grant: string): CompiledPolicy;
  readonly limiter: RateLimiter;
  readonly approvals: Approvals;
  readonly masking: MaskRules;
  readonly webhook: Webhook | null;
  /** Every vaulted key value: masked in every response, whichever credential the request used. */
  secretValues(): readonly string[];
}

/** Compiled policies by grant name; a grant without `policy:` gets UNRESTRICTED. */
export function compileGrantPolicies(config: Pick<Config, 'policies' | 'identity'>): Map<string, CompiledPolicy> {
  const byName = new Map<string, CompiledPolicy>();
  for (const [name, p] of Object.entries(config.policies)) byName.set(name, compilePolicy(name, p));
  const out = new Map<string, CompiledPolicy>();
  for (const g of config.identity.grants) {
    const grant = g as { name: string; policy?: string | undefined };
    out.set(grant.name, (grant.policy !== undefined ? byName.get(grant.policy) : undefined) ?? UNRESTRICTED);
  }
  return out;
}

/** The masking rules of a config, in the form maskResponse() takes. */
export function maskRulesOf(config: Pick<Config, 'masking'>): MaskRules {
  return {
    regexes: config.masking.rules.flatMap((r) => (r.regex !== undefined ? [{ name: r.name, regex: r.regex }] : [])),
    jsonPaths: config.masking.rules.flatMap((r) => (r.jsonPath !== undefined ? [{ name: r.name, jsonPath: r.jsonPath }] : [])),
  };
}

export function buildGuard(config: Config, deps: { readonly log: Logger; readonly now: () => number; readonly secretValues: () => readonly string[] }): Guard {
  const byGrant = compileGrantPolicies(config);
  const webhook = config.approvals.webhook
    ? new Webhook({
        url: config.approvals.webhook,
        format: config.approvals.webhookFormat,
        timeoutSeconds: Math.round(config.approvals.timeout / 1000),
        log: deps.log,
      })
    : null;
  const notify = (event: 'held' | Outcome['kind'], id: string, req: HeldRequest, outcome?: Outcome): void => {
    const extra =
      outcome && (outcome.kind === 'approved' || outcome.kind === 'denied')
        ? { by: outcome.approval.by, note: outcome.approval.note, channel: outcome.approval.channel }
        : {};
    deps.log.info({ hold: id, event, session: req.session, method: req.method, url: req.url, ...extra }, `approval ${event}`);
    webhook?.send(event, id, req, outcome);
  };
  const approvals: Approvals = config.approvals.bus
    ? new BusApprovals(openBus(config.approvals.bus), config.approvals.timeout, deps.log, deps.now, notify)
    : new ApprovalQueue(config.approvals.timeout, deps.now, notify);
  return {
    policyFor: (grant) => byGrant.get(grant) ?? UNRESTRICTED,
    limiter: new RateLimiter(deps.now),
    approvals,
    masking: maskRulesOf(config),
    webhook,
    secretValues: deps.secretValues,
  };
}
