import { test } from 'node:test';
import assert from 'node:assert/strict';
import { chmod, mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { writeFileAtomic, writeFully } from '../../../appliance/lib/file-io.js';

async function scratch(t: { after: (fn: () => Promise<void>) => void }): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'airlock-fileio-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

test('an atomic write replaces a wider file with a 0600 one and leaves no temp file', async (t) => {
  const dir = await scratch(t);
  const f = join(dir, 'vault.json');
  await writeFile(f, 'old');
  await chmod(f, 0o644);
  await writeFileAtomic(f, 'new', { sync: true });
  assert.equal(await readFile(f, 'utf8'), 'new');
  assert.equal((await stat(f)).mode & 0o777, 0o600);
  assert.deepEqual(await readdir(dir), ['vault.json']);
});

test('concurrent atomic writes of one file each land whole; a failed one leaves nothing behind', async (t) => {
  const dir = await scratch(t);
  const f = join(dir, 'meta.json');
  const texts = Array.from({ length: 8 }, (_, i) => String(i).repeat(10_000));
  await Promise.all(texts.map((text) => writeFileAtomic(f, text, { sync: false })));
  assert.ok(texts.includes(await readFile(f, 'utf8')));
  assert.deepEqual(await readdir(dir), ['meta.json']);
  await assert.rejects(writeFileAtomic(join(dir, 'missing', 'x.json'), 'x', { sync: true }), { code: 'ENOENT' });
  assert.deepEqual(await readdir(dir), ['meta.json']);
});

test('writeFully keeps writing after a short write (what write-file-atomic does not do)', async () => {
  const got: Buffer[] = [];
  const fh = {
    write: async (b: Buffer, off: number, len: number) => {
      const n = Math.min(len, 3);
      got.push(Buffer.from(b.subarray(off, off + n)));
      return { bytesWritten: n };
    },
  };
  await writeFully(fh, 'abcdefgh');
  assert.equal(Buffer.concat(got).toString(), 'abcdefgh');
});
