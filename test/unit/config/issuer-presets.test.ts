import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseConfig, ConfigError } from '../../../appliance/config/load-config.js';

const cfg = (issuer: Record<string, unknown>, grants: unknown[] = []) =>
  parseConfig({ identity: { issuers: [{ name: 'i', audience: 'airlock', ...issuer }], grants } });

test('presets fill the issuer URL and its kind; the audience stays required', () => {
  const cases: [Record<string, unknown>, string, string][] = [
    [{ preset: 'github' }, 'https://token.actions.githubusercontent.com', 'github'],
    [{ preset: 'github-enterprise-server', host: 'ghe.example.com' }, 'https://ghe.example.com/_services/token', 'github'],
    [{ preset: 'github-enterprise-cloud', enterprise: 'acme' }, 'https://token.actions.githubusercontent.com/acme', 'github'],
    [{ preset: 'gitlab' }, 'https://gitlab.com', 'gitlab'],
    [{ preset: 'gitlab', url: 'https://gitlab.example.com/' }, 'https://gitlab.example.com', 'gitlab'],
    [{ preset: 'buildkite' }, 'https://agent.buildkite.com', 'buildkite'],
    [{ preset: 'circleci', orgId: 'c7a8d1e2-0000-4000-8000-000000000000' }, 'https://oidc.circleci.com/org/c7a8d1e2-0000-4000-8000-000000000000', 'circleci'],
  ];
  for (const [input, issuer, kind] of cases) {
    const i = cfg(input).identity.issuers[0]!;
    assert.equal(i.issuer, issuer);
    assert.equal(i.kind, kind);
    assert.deepEqual(i.algorithms, ['RS256']);
    assert.equal(i.jwksUri, null, 'keys come from discovery');
  }
  assert.throws(() => parseConfig({ identity: { issuers: [{ name: 'i', preset: 'github' }] } }), ConfigError);
});

test('a plain issuer URL of a known CI gets its kind, so warnings apply to it too', () => {
  assert.equal(cfg({ issuer: 'https://token.actions.githubusercontent.com' }).identity.issuers[0]!.kind, 'github');
  assert.equal(cfg({ issuer: 'https://idp.example.com' }).identity.issuers[0]!.kind, 'generic');
});

test('a preset with a missing or stray parameter, or with issuer too, is a config error naming the key', () => {
  const problems = (issuer: Record<string, unknown>): string[] => {
    try {
      cfg(issuer);
      return [];
    } catch (err) {
      return (err as ConfigError).problems.map((p) => `${p.path}: ${p.message}`);
    }
  };
  assert.match(problems({ preset: 'github-enterprise-server' }).join(), /identity\.issuers\[0\]\.preset: .*needs host/);
  assert.match(problems({ preset: 'github', host: 'x.example.com' }).join(), /identity\.issuers\[0\]\.host: host goes with preset: github-enterprise-server/);
  assert.match(problems({ preset: 'github', issuer: 'https://x.example.com' }).join(), /issuer: preset github sets the issuer/);
  assert.match(problems({}).join(), /give issuer/);
});

test('claim rules: lists, numbers and booleans load as strings; a bad regex names its path', () => {
  const c = cfg({ issuer: 'https://idp.example.com' }, [
    { name: 'g', issuer: 'i', credential: 'c', claims: { repository_id: 123, ref_protected: true, event_name: ['push', 'workflow_dispatch'] } },
  ]);
  assert.deepEqual(c.identity.grants[0]!.claims, { repository_id: '123', ref_protected: 'true', event_name: ['push', 'workflow_dispatch'] });
  assert.throws(
    () => cfg({ issuer: 'https://idp.example.com' }, [{ name: 'g', issuer: 'i', credential: 'c', claims: { ref: 'regex:(' } }]),
    (err: unknown) => err instanceof ConfigError && err.problems.some((p) => p.path === 'identity.grants[0].claims.ref' && /bad regex/.test(p.message)),
  );
});

test('sessionTtl defaults to 6h and ambient to off', () => {
  const c = parseConfig({});
  assert.equal(c.identity.sessionTtl, 6 * 3_600_000);
  assert.equal(c.identity.ambient, false);
});
