// Free text from a person or an agent (a decider's note or reason, a request shown in a Slack
// message) is cut to a cap before it is kept. String#slice counts UTF-16 units: cut after the
// first half of a surrogate pair (an emoji) it leaves a lone surrogate, which is not a character,
// has no UTF-8 form (written out it becomes U+FFFD or, JSON-escaped, is refused by strict parsers)
// and can go on into the hold's outcome, the recording and the log.

const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g;

function isHighSurrogate(code: number): boolean {
  return code >= 0xd800 && code <= 0xdbff;
}

/**
 * `text` cut to at most `max` UTF-16 units on a code-point boundary; a lone surrogate the text
 * already held (JSON's "\ud83d" parses to one) becomes U+FFFD, so the result is well-formed.
 */
export function cutText(text: string, max: number): string {
  let out = text;
  if (out.length > max) out = out.slice(0, max > 0 && isHighSurrogate(out.charCodeAt(max - 1)) ? max - 1 : max);
  return out.replace(LONE_SURROGATE, '\uFFFD');
}
