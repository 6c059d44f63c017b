// Issue #16 moved the README's sections into docs/: every relative link in README.md and docs/
// must reach a file, and every #anchor a heading of that page (GitHub's slugs), so a move or a
// renamed heading cannot leave a dead link behind.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { docPages, fencedBlocks, REPO_ROOT } from '../../fixtures/doc-pages.js';

/** GitHub's heading anchor: lower case, punctuation other than - and _ dropped, spaces to hyphens. */
function slug(heading: string): string {
  return heading
    .trim()
    .toLowerCase()
    .replace(/[^\p{L}\p{N}\- _]/gu, '')
    .replace(/ /g, '-');
}

/** The page's text outside fenced blocks (a link inside a code block is not a link). */
function prose(file: string): string {
  const lines = readFileSync(file, 'utf8').split('\n');
  const inBlock = new Set<number>();
  for (const b of fencedBlocks(file)) {
    const n = b.text.split('\n').length - 1;
    for (let i = b.line; i <= b.line + n; i += 1) inBlock.add(i);
  }
  return lines.filter((_, i) => !inBlock.has(i + 1)).join('\n');
}

function anchors(file: string): Set<string> {
  return new Set([...prose(file).matchAll(/^#{1,6} (.+)$/gm)].map((m) => slug(m[1]!)));
}

test('every relative link in README.md and docs/ reaches a file, and every anchor a heading', () => {
  const bad: string[] = [];
  let checked = 0;
  for (const page of docPages()) {
    for (const m of prose(page).matchAll(/\]\(([^)\s]+)\)/g)) {
      const link = m[1]!;
      if (/^[a-z]+:/i.test(link)) continue;
      const [path = '', frag] = link.split('#');
      const target = path === '' ? page : join(dirname(page), path);
      checked += 1;
      const from = relative(REPO_ROOT, page);
      if (!existsSync(target)) bad.push(`${from}: ${link} (no such file)`);
      else if (frag !== undefined && target.endsWith('.md') && !anchors(target).has(frag)) bad.push(`${from}: ${link} (no such heading)`);
    }
  }
  assert.ok(checked > 40, `the scan finds the links (${checked})`);
  assert.deepEqual(bad, []);
});

test('the slug rule matches GitHub on the headings the docs link to', () => {
  assert.equal(slug("Datadog's own tools"), 'datadogs-own-tools');
  assert.equal(slug('Approvals across a fleet: the bus, the console and Slack'), 'approvals-across-a-fleet-the-bus-the-console-and-slack');
  assert.equal(slug('What `install.sh` installs'), 'what-installsh-installs');
});
