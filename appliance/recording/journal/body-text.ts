import { isUtf8 } from 'node:buffer';
// Control characters that do not occur in text formats; their presence means "binary".
// eslint-disable-next-line no-control-regex -- matching control characters is the point
const BINARY_CONTROL = /[\u0000-\u0008\u000B\u000E-\u001A\u001C-\u001F\u007F]/;

/**
 * The bytes as a string when they are valid UTF-8 text, else null. A body cut at the cap may end
 * inside a multi-byte character: `truncated` lets that incomplete tail go.
 */
export function asText(bytes: Buffer, truncated: boolean): string | null {
  let text: string;
  if (!truncated) {
    // The common case, per exchange: a native validity check, not a TextDecoder built each time.
    if (!isUtf8(bytes)) return null;
    text = bytes.toString('utf8');
  } else {
    try {
      text = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true }).decode(bytes, { stream: true });
    } catch {
      return null;
    }
  }
  return BINARY_CONTROL.test(text) ? null : text;
}
