import { appendIndex } from '../recording/index/index.js';
import { readSummary, writeSummary } from '../recording/journal/index.js';

/** Records in the sidecar (and the index) that the session reached the sink: prune may now remove it. */
export async function markShipped(sessionsDir: string, id: string, at: string): Promise<void> {
  const s = await readSummary(sessionsDir, id);
  if (!s) return;
  const shipped = { ...s, shippedAt: at };
  await writeSummary(sessionsDir, shipped, { sync: true });
  await appendIndex(sessionsDir, shipped);
}
