// Finds and replaces what must not reach the agent, in text held as latin1 (one char per byte,
// so a chunk boundary can never split a character and byte lengths stay exact).
//  - every vaulted secret value, as written or percent-encoded -> [masked:credential]
//    (which values and forms: secrets/scrub.ts, the scrubber the recording uses too)
//  - every configured regex -> [masked:<rule name>]
// Streaming: `tail` characters are held back at each step, so a value split across two chunks
// is still found whole (tail >= longest secret form - 1).
import { prepareSecrets, secretForms } from '../secrets/scrub.js';

export interface Matcher {
  readonly name: string;
  readonly re: RegExp;
}

export interface TextMasker {
  readonly matchers: readonly Matcher[];
  /** How many trailing characters a streaming step must hold back. */
  readonly tail: number;
  /**
   * Every secret form as the bytes it is on the wire, longest first; set only when there are no
   * regex rules, so that "none of these bytes occur" means "maskStep finds nothing" (mask-stream.ts
   * then scans Buffers instead of strings).
   */
  readonly needles: readonly Buffer[] | null;
}

/** Regex matches longer than this are not guaranteed on streamed bodies (documented). */
export const REGEX_WINDOW = 4096;

function escape(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

// Every response builds its maskers from the same few vault values and rules: compiling them
// again per response (escape, sort, one big alternation) was a measurable share of a request's
// CPU. Callers that pass the same arrays each time (the proxy does) hit by identity; others by
// content, in a bounded map. A vault reload or a new rule set is new arrays and new content, so
// nothing stale is ever used.
const CACHE_MAX = 256;
const byContent = new Map<string, TextMasker>();
const byArrays = new WeakMap<readonly string[], WeakMap<readonly object[], TextMasker>>();

export type MaskRegexes = readonly { readonly name: string; readonly regex: string }[];

export function textMasker(secrets: readonly string[], regexes: MaskRegexes): TextMasker {
  let forSecrets = byArrays.get(secrets);
  const hit = forSecrets?.get(regexes);
  if (hit) return hit;
  const key = JSON.stringify([secrets, regexes.map((r) => [r.name, r.regex])]);
  let made = byContent.get(key);
  if (!made) {
    made = buildMasker(secrets, regexes);
    if (byContent.size >= CACHE_MAX) byContent.clear();
    byContent.set(key, made);
  }
  if (!forSecrets) byArrays.set(secrets, (forSecrets = new WeakMap()));
  forSecrets.set(regexes, made);
  return made;
}

// The RegExps are shared between responses: safe, because every use (hits) resets lastIndex and
// runs to the end synchronously.
function buildMasker(secrets: readonly string[], regexes: MaskRegexes): TextMasker {
  const toLatin1 = (s: string): string => Buffer.from(s, 'utf8').toString('latin1');
  // Longest first in bytes, so of two forms starting at one place the alternation takes the whole.
  const forms = [...new Set(secretForms(prepareSecrets(secrets.map((value) => ({ value, label: 'credential' })))).map((f) => toLatin1(f.text)))].sort(
    (a, b) => b.length - a.length,
  );
  const matchers: Matcher[] = [];
  if (forms.length > 0) matchers.push({ name: 'credential', re: new RegExp(forms.map(escape).join('|'), 'g') });
  for (const r of regexes) matchers.push({ name: r.name, re: new RegExp(r.regex, 'g') });
  const longest = forms.reduce((m, v) => Math.max(m, v.length), 0);
  const needles = regexes.length === 0 ? forms.map((f) => Buffer.from(f, 'latin1')) : null;
  return { matchers, tail: Math.max(longest - 1, regexes.length > 0 ? REGEX_WINDOW : 0), needles };
}

interface Hit {
  start: number;
  end: number;
  name: string;
}

function hits(m: TextMasker, text: string): Hit[] {
  const out: Hit[] = [];
  m.matchers.forEach((matcher) => {
    matcher.re.lastIndex = 0;
    for (let x = matcher.re.exec(text); x !== null; x = matcher.re.exec(text)) {
      if (x[0].length === 0) {
        matcher.re.lastIndex++;
        continue;
      }
      out.push({ start: x.index, end: x.index + x[0].length, name: matcher.name });
    }
  });
  // Earliest first; at the same start, credentials (listed first) and then the longest win.
  return out.sort((a, b) => a.start - b.start || b.end - a.end);
}

export interface MaskStep {
  /** Masked text safe to emit now. */
  readonly out: string;
  /** Unprocessed text to prepend to the next chunk. */
  readonly keep: string;
  readonly fired: ReadonlySet<string>;
}

/** One step over `text`; with `final`, everything is processed and nothing kept. */
export function maskStep(m: TextMasker, text: string, final: boolean): MaskStep {
  const fired = new Set<string>();
  if (m.matchers.length === 0) return { out: text, keep: '', fired };
  const safeEnd = final ? text.length : Math.max(0, text.length - m.tail);
  let out = '';
  let pos = 0;
  for (const h of hits(m, text)) {
    if (h.start < pos) continue;
    if (h.start >= safeEnd) break;
    out += text.slice(pos, h.start) + `[masked:${h.name}]`;
    fired.add(h.name);
    pos = h.end;
  }
  const cut = Math.max(pos, safeEnd);
  out += text.slice(pos, cut);
  return { out, keep: text.slice(cut), fired };
}

export function maskBuffer(m: TextMasker, bytes: Buffer): { bytes: Buffer; fired: ReadonlySet<string> } {
  const s = maskStep(m, bytes.toString('latin1'), true);
  return { bytes: s.fired.size > 0 ? Buffer.from(s.out, 'latin1') : bytes, fired: s.fired };
}
