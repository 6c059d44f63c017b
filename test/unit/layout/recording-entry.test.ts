// Each part of appliance/recording/ (journal/, index/, har/, integrity/, session/) is used from outside only
// through its index.ts, so the index says what the part offers and everything else may change freely.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { importEdges } from './import-graph.js';

const repoRoot = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..', '..');
const RECORDING = 'appliance/recording';
const PARTS = ['har', 'index', 'integrity', 'journal', 'session'];

function partOf(path: string): string | null {
  if (!path.startsWith(`${RECORDING}/`)) return null;
  const rest = path.slice(RECORDING.length + 1).split('/');
  return rest.length === 2 ? (rest[0] ?? null) : null;
}

test('recording/ holds only its parts, and each has an index.ts', () => {
  const entries = readdirSync(join(repoRoot, RECORDING), { withFileTypes: true });
  assert.deepEqual(
    entries.filter((e) => !e.isDirectory()).map((e) => e.name),
    [],
    'loose files in recording/',
  );
  assert.deepEqual(entries.map((e) => e.name).sort(), PARTS);
  for (const p of PARTS) assert.ok(existsSync(join(repoRoot, RECORDING, p, 'index.ts')), `${p}/index.ts`);
});

test("code outside a part of recording/ imports only that part's index.js", () => {
  const edges = importEdges(repoRoot, ['appliance', 'test', 'certs']);
  const intoRecording = edges.filter((e) => partOf(e.to) !== null);
  assert.ok(intoRecording.length > 50, `found only ${intoRecording.length} imports of recording/`);
  const bad = intoRecording.filter((e) => partOf(e.from) !== partOf(e.to) && !e.to.endsWith('/index.ts')).map((e) => `${e.from} imports ${e.to}`);
  assert.deepEqual(bad, [], `import the part's index.js instead:\n  ${bad.join('\n  ')}`);
});
