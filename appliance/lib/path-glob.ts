// The one path pattern language, shared by policy `match` paths and `airlock sessions grep --path`:
// `*` matches characters within one segment (a whole-segment `*` at least one), `**` as a whole
// segment matches any number of segments (zero included), `?` one character; case is ignored.
// Everything else is literal: picomatch would read ( ) [ ] { } + @ ! as regex, braces or extglobs.
import picomatch from 'picomatch';

export class GlobError extends Error {}

const OPTIONS: picomatch.PicomatchOptions = { dot: true, nocase: true, nobrace: true, noextglob: true, nonegate: true };

export function pathGlob(pattern: string): RegExp {
  for (const seg of pattern.split('/')) {
    if (seg.includes('**') && seg !== '**') throw new GlobError(`"**" must be a whole segment: ${JSON.stringify(seg)}`);
  }
  return picomatch.makeRe(pattern.replace(/[^A-Za-z0-9*?/]/g, '\\$&'), OPTIONS);
}
