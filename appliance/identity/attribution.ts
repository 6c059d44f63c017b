import { claimAsString } from '../lib/claim-rules.js';
import type { Identity } from './types.js';

// The claims that say which job and who started it, per CI vocabulary. Taken when present, so
// one list serves every issuer; nothing here is a secret.
const GITHUB = ['repository', 'repository_id', 'workflow_ref', 'run_id', 'run_attempt', 'actor', 'event_name'];
const GITLAB = ['project_path', 'project_id', 'pipeline_id', 'job_id', 'user_login'];
const ATTRIBUTION_CLAIMS: readonly string[] = [...GITHUB, ...GITLAB];

/** issuer, sub and the job's identifying claims, as strings: for log lines, HAR entries and `sessions ls`. */
export function attributionOf(identity: Identity): Record<string, string> {
  const out: Record<string, string> = { issuer: identity.issuer, sub: identity.sub };
  for (const name of ATTRIBUTION_CLAIMS) {
    const v = claimAsString(identity.claims[name]);
    if (v !== null) out[name] = v.length > 200 ? `${v.slice(0, 200)}...` : v;
  }
  if (identity.auth) out['auth'] = identity.auth;
  return out;
}
