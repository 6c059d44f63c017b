// No folder of appliance/ may depend, through any chain of imports, on itself. A cycle means a type or
// helper lives in the wrong folder; the fix is to move it (to lib/ or to the folder owning the concept).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describeCycle, folderCycles, folderGraph, importEdges } from './import-graph.js';

// dist/test/unit/layout/ -> the checkout's root, where the .ts sources are.
const repoRoot = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..', '..');

test('the folders of appliance/ import each other without cycles (type-only imports count)', () => {
  const edges = importEdges(repoRoot, ['appliance']);
  assert.ok(edges.length > 300, `the scan found only ${edges.length} imports: is the source tree at ${repoRoot}?`);
  const g = folderGraph(edges);
  const cycles = folderCycles(g).map((c) => describeCycle(g, c));
  assert.deepEqual(cycles, [], `folder-level import cycles:\n  ${cycles.join('\n  ')}`);
});

test('the cycle check finds a cycle made of a type-only import, an export-from and a dynamic import', () => {
  const root = mkdtempSync(join(tmpdir(), 'airlock-layout-'));
  try {
    const put = (path: string, text: string): void => {
      mkdirSync(dirname(join(root, path)), { recursive: true });
      writeFileSync(join(root, path), text);
    };
    put('appliance/a/x.ts', "import type { Y } from '../b/y.js';\nexport type X = Y;\n");
    put('appliance/b/y.ts', "export { z } from '../c/z.js';\nexport type Y = string;\n");
    put('appliance/c/z.ts', "export const z = async () => import('../a/x.js');\n");
    put('appliance/d.ts', "import { z } from './c/z.js';\nexport const d = z;\n");
    const g = folderGraph(importEdges(root, ['appliance']));
    const cycles = folderCycles(g);
    assert.deepEqual(cycles, [{ folders: ['a', 'b', 'c'], path: ['a', 'b', 'c', 'a'] }]);
    const [only] = cycles;
    assert.ok(only);
    assert.equal(
      describeCycle(g, only),
      '{a, b, c}: a -> b (appliance/a/x.ts imports appliance/b/y.ts) -> c (appliance/b/y.ts imports appliance/c/z.ts)' +
        ' -> a (appliance/c/z.ts imports appliance/a/x.ts)',
    );
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});
