// Grants that verify fine but admit more than their author meant. Names can be re-registered
// after a rename or deletion, every github.com tenant shares one issuer, and a
// pull_request_target run carries the base branch's ref. Pure: config in, warnings out.
import type { Config } from './schema.js';
import type { IssuerKind } from './issuer-presets.js';

export interface ConfigWarning {
  readonly path: string;
  readonly message: string;
}

type Rules = Readonly<Record<string, string | readonly string[]>>;

/** Claims that pin a GitHub grant to a repository or an owner, or a GitLab one to a project or group. */
const NARROWING: Partial<Record<IssuerKind, readonly string[]>> = {
  github: ['repository_id', 'repository', 'repository_owner_id', 'repository_owner', 'sub', 'workflow_ref', 'job_workflow_ref'],
  gitlab: ['project_id', 'project_path', 'namespace_id', 'namespace_path', 'sub'],
  buildkite: ['organization_id', 'organization_slug', 'pipeline_id', 'pipeline_slug', 'sub'],
};

/** A rule that admits any value (`glob:*`, `regex:.*`) pins nothing. */
function pins(rule: string | readonly string[]): boolean {
  const list = typeof rule === 'string' ? [rule] : rule;
  return !list.some((r) => /^glob:\**$/.test(r) || /^regex:\.[*+]$/.test(r));
}

function has(claims: Rules, name: string): boolean {
  return Object.hasOwn(claims, name) && pins(claims[name]!);
}

/** Whether a grant names a claim that pins it to a tenant (repository, project, organisation) of its issuer's kind; null when the kind has none. */
export function pinsTenant(kind: IssuerKind, claims: Rules): boolean | null {
  const narrowing = NARROWING[kind];
  return narrowing ? narrowing.some((n) => has(claims, n)) : null;
}

export function grantWarnings(config: Config): ConfigWarning[] {
  const out: ConfigWarning[] = [];
  config.identity.grants.forEach((g, i) => {
    const issuer = config.identity.issuers.find((x) => x.name === g.issuer);
    if (!issuer) return;
    const at = `identity.grants[${i}]`;
    const c = g.claims as Rules;
    const warn = (key: string, message: string): void => {
      out.push({ path: `${at}.${key}`, message: `${g.name}: ${message}` });
    };
    const narrowing = NARROWING[issuer.kind];
    if (narrowing && !narrowing.some((n) => has(c, n))) {
      warn(
        'claims',
        `no claim pins it to a ${issuer.kind === 'gitlab' ? 'project' : 'repository'}: every tenant of ${issuer.issuer} shares this issuer, so any of them matches`,
      );
    }
    if (issuer.kind === 'github') {
      if (Object.hasOwn(c, 'repository') && !Object.hasOwn(c, 'repository_id')) {
        warn(
          'claims.repository',
          "matches the repository by name without repository_id: a deleted or renamed repository's name can be re-registered by someone else",
        );
      }
      if (Object.hasOwn(c, 'repository_owner') && !Object.hasOwn(c, 'repository_owner_id')) {
        warn('claims.repository_owner', "matches the owner by name without repository_owner_id: a deleted or renamed account's name can be re-registered");
      }
      if (Object.hasOwn(c, 'ref') && !Object.hasOwn(c, 'event_name')) {
        warn(
          'claims.ref',
          "keys on ref without an event_name rule: a pull_request_target run carries the base branch's ref while running the pull request's workflow",
        );
      }
    }
    if (issuer.kind === 'gitlab' && Object.hasOwn(c, 'project_path') && !Object.hasOwn(c, 'project_id')) {
      warn('claims.project_path', "matches project_path without project_id: a fork's merge request pipeline or a re-registered path can carry it");
    }
  });
  return out;
}
