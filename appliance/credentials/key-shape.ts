// What a Datadog key looks like, to redact one wherever it turns up (not to refuse it: the
// shape alone proves nothing). API keys are 32 hex characters, legacy application keys 40, and
// current application keys `ddapp_` and 34 letters or digits. A shape only counts as a whole
// word: not inside a longer run of letters and digits, so a 64-hex SHA-256 or a 36-hex run does
// not match, nor does the hex tail of an alphanumeric identifier. `_`, `-`, `.`, `/`, quotes
// and the like are word boundaries.
const KEY_SHAPE = /(?<![A-Za-z0-9])(?:[0-9A-Fa-f]{40}|[0-9A-Fa-f]{32}|ddapp_[A-Za-z0-9]{20,})(?![A-Za-z0-9])/g;
// A cheap test first: text without 32 hex digits in a row or "ddapp_" cannot match.
const MAYBE = /[0-9A-Fa-f]{32}|ddapp_/;

/** Every key-shaped value in `text`, once each, in order of appearance. */
export function findKeyShapes(text: string): string[] {
  if (!MAYBE.test(text)) return [];
  return [...new Set(text.match(KEY_SHAPE) ?? [])];
}

/** `text` with every key-shaped value replaced by `replacement`. */
export function redactKeyShapes(text: string, replacement: string): string {
  if (!MAYBE.test(text)) return text;
  return text.replace(KEY_SHAPE, replacement);
}

// The start of a key at the very end of a text cut short: 8+ hex digits or `ddapp_...`.
const KEY_SHAPED_TAIL = /(?<![A-Za-z0-9])(?:[0-9A-Fa-f]{8,39}|ddapp_[A-Za-z0-9]*)$/;

/** For a text cut at a cap: a trailing run that could be the first part of a key is replaced. */
export function redactKeyShapedTail(text: string, replacement: string): string {
  return text.replace(KEY_SHAPED_TAIL, replacement);
}
