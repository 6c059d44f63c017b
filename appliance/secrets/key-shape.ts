// What a Datadog key looks like, to redact one wherever it turns up (not to refuse it: the
// shape alone proves nothing). API keys are 32 hex characters, legacy application keys 40, and
// current application keys `ddapp_` and 34 letters or digits (MIN_WORD or more are taken). A shape
// only counts as a whole word: not inside a longer run of letters and digits, so a 64-hex
// SHA-256 or a 36-hex run does not match, nor does the hex tail of an alphanumeric identifier.
// `_`, `-`, `.`, `/`, quotes and the like are word boundaries.
//
// A hand-written scan rather than a regex: this runs over every request body, and irregexp,
// with no literal to skip ahead by, tries a match at every position. Every shape holds a word of
// at least MIN_WORD letters and digits, so the scan probes one character in MIN_WORD and only
// looks closer where a probe lands in a word.

const MIN_WORD = 20;

// 1: letter or digit; 2: also a hex digit.
const CLASS = new Uint8Array(128);
for (let c = 0; c < 128; c++) {
  const ch = String.fromCharCode(c);
  if (/[0-9a-fA-F]/.test(ch)) CLASS[c] = 2;
  else if (/[g-zG-Z]/.test(ch)) CLASS[c] = 1;
}

function classOf(code: number): number {
  return code < 128 ? CLASS[code]! : 0;
}

function isAllHex(text: string, start: number, end: number): boolean {
  for (let j = start; j < end; j++) if (classOf(text.charCodeAt(j)) !== 2) return false;
  return true;
}

/** Calls `hit(start, end)` for every key-shaped word of `text`, left to right. */
function scan(text: string, hit: (start: number, end: number) => void): void {
  const n = text.length;
  let i = MIN_WORD - 1;
  while (i < n) {
    if (classOf(text.charCodeAt(i)) === 0) {
      i += MIN_WORD;
      continue;
    }
    let start = i;
    while (start > 0 && classOf(text.charCodeAt(start - 1)) !== 0) start--;
    let end = i + 1;
    while (end < n && classOf(text.charCodeAt(end)) !== 0) end++;
    const len = end - start;
    const d = start - 6;
    if (len >= MIN_WORD && d >= 0 && text.startsWith('ddapp_', d) && (d === 0 || classOf(text.charCodeAt(d - 1)) === 0)) {
      hit(d, end);
    } else if ((len === 32 || len === 40) && isAllHex(text, start, end)) {
      hit(start, end);
    }
    // The next word starts at end + 1 at the earliest; if it is long enough it covers end + MIN_WORD.
    i = end + MIN_WORD;
  }
}

/** Every key-shaped value in `text`, once each, in order of appearance. */
export function findKeyShapes(text: string): string[] {
  const out = new Set<string>();
  scan(text, (s, e) => out.add(text.slice(s, e)));
  return [...out];
}

/** `text` with every key-shaped value replaced by `replacement`. */
export function redactKeyShapes(text: string, replacement: string): string {
  let out = '';
  let from = 0;
  scan(text, (s, e) => {
    out += text.slice(from, s) + replacement;
    from = e;
  });
  return from === 0 ? text : out + text.slice(from);
}

/**
 * For a text cut at a cap: a trailing word that could be the first part of a key (8 to 39 hex
 * digits, or `ddapp_` and anything) is replaced.
 */
export function redactKeyShapedTail(text: string, replacement: string): string {
  let start = text.length;
  let allHex = true;
  while (start > 0) {
    const k = classOf(text.charCodeAt(start - 1));
    if (k === 0) break;
    if (k === 1) allHex = false;
    start--;
  }
  const len = text.length - start;
  if (allHex && len >= 8 && len <= 39) return text.slice(0, start) + replacement;
  // `ddapp_` then a (possibly empty) word at the end.
  const d = start - 6;
  if (d >= 0 && text.startsWith('ddapp_', d) && (d === 0 || classOf(text.charCodeAt(d - 1)) === 0)) return text.slice(0, d) + replacement;
  return text;
}
