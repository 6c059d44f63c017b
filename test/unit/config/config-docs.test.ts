// Issue #16: every whole airlock.yaml the docs show is a config Airlock accepts. Each ```yaml block
// in README.md and docs/*.md is a whole config unless its fence says otherwise:
//   ```yaml partial          part of an airlock.yaml (it names what it leaves out)
//   ```yaml github-actions   a GitHub Actions workflow, not Airlock's config
//   ```yaml gitlab-ci        a .gitlab-ci.yml job, not Airlock's config
// A whole config must validate against docs/config.schema.json, load with the real loader from a
// file, and pass serve's own refusals; every other YAML block must at least parse.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseDocument } from 'yaml';
import { loadConfig } from '../../../appliance/config/load-config.js';
import { startupErrors } from '../../../appliance/config/startup-checks.js';
import { docPages, fencedBlocks, REPO_ROOT, type FencedBlock } from '../../fixtures/doc-pages.js';
import { configValidator } from '../../fixtures/config-json-schema.js';

const MARKERS = new Set(['partial', 'github-actions', 'gitlab-ci']);

const yamlBlocks = (): FencedBlock[] =>
  docPages()
    .flatMap(fencedBlocks)
    .filter((b) => b.info[0] === 'yaml' || b.info[0] === 'yml');
const where = (b: FencedBlock): string => `${b.file.slice(REPO_ROOT.length + 1)}:${b.line}`;
const isWholeConfig = (b: FencedBlock): boolean => b.info.length === 1;

function parseYaml(b: FencedBlock): unknown {
  const doc = parseDocument(b.text, { uniqueKeys: true });
  assert.deepEqual(
    doc.errors.map((e) => e.message),
    [],
    `${where(b)}: not valid YAML`,
  );
  return doc.toJS();
}

/** Loads the text as airlock.yaml with the loader `serve` uses; returns its problems. */
function loadProblems(text: string): string[] {
  const dir = mkdtempSync(join(tmpdir(), 'airlock-docs-'));
  try {
    writeFileSync(join(dir, 'airlock.yaml'), text);
    const { config } = loadConfig({ configFile: 'airlock.yaml', cwd: dir });
    return startupErrors(config);
  } catch (err) {
    return [String(err instanceof Error ? err.message : err)];
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

test('every yaml fence is a whole config or carries a known marker, and parses', () => {
  const blocks = yamlBlocks();
  assert.ok(blocks.length >= 10, `the scan finds the docs' YAML blocks (${blocks.length})`);
  for (const b of blocks) {
    assert.ok(
      b.info.length <= 2 && (b.info.length === 1 || MARKERS.has(b.info[1]!)),
      `${where(b)}: unknown fence marker "${b.info.join(' ')}" (use one of ${[...MARKERS].join(', ')})`,
    );
    parseYaml(b);
  }
});

test('every whole config in the docs validates against docs/config.schema.json', () => {
  const validate = configValidator();
  const whole = yamlBlocks().filter(isWholeConfig);
  assert.ok(whole.length >= 6, `the docs hold whole configs to check (${whole.length})`);
  for (const b of whole) {
    const ok = validate(parseYaml(b));
    assert.ok(ok, `${where(b)}: ${JSON.stringify(validate.errors)}`);
  }
});

test("every whole config in the docs loads with the real config loader and passes serve's checks", () => {
  for (const b of yamlBlocks().filter(isWholeConfig)) {
    assert.deepEqual(loadProblems(b.text), [], where(b));
  }
});

test('the check has teeth: a misspelled key in a docs example fails both the schema and the loader', () => {
  const b = yamlBlocks().find((x) => isWholeConfig(x) && /^identity:/m.test(x.text));
  assert.ok(b, 'a whole config with identity: exists');
  const broken = b.text.replace(/^identity:/m, 'identiti:');
  assert.equal(configValidator()(parseDocument(broken).toJS()), false);
  assert.match(loadProblems(broken).join('\n'), /identiti: unknown key/);
});
