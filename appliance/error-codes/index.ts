// The error table, composed from its areas; errors.ts is the face the rest of the appliance imports.
import { CONFIG_ERRORS } from './config.js';
import { OPERATOR_ERRORS } from './operator.js';
import { PROXY_ERRORS } from './proxy.js';
import type { ErrorArea, ErrorSpec } from './spec.js';

export type { ErrorArea, ErrorSpec };

export const ERRORS = { ...PROXY_ERRORS, ...OPERATOR_ERRORS, ...CONFIG_ERRORS } as const satisfies Record<string, ErrorSpec>;

export type ErrorCode = keyof typeof ERRORS;

/** The codes answered over HTTP (proxy, control socket, console): the ones an AirlockError carries. */
export type HttpErrorCode = { [K in ErrorCode]: (typeof ERRORS)[K]['status'] extends number ? K : never }[ErrorCode];

const AREAS: readonly (readonly [ErrorArea, Readonly<Record<string, ErrorSpec>>])[] = [
  ['proxy', PROXY_ERRORS],
  ['operator', OPERATOR_ERRORS],
  ['config', CONFIG_ERRORS],
];

export function isErrorCode(code: unknown): code is ErrorCode {
  return typeof code === 'string' && Object.hasOwn(ERRORS, code);
}

/** A code read from outside (an X-Airlock-Error header, a caught error): itself if it is in the table, else `fallback`. */
export function codeOr(code: unknown, fallback: ErrorCode): ErrorCode {
  return isErrorCode(code) ? code : fallback;
}

export function areaOf(code: ErrorCode): ErrorArea {
  for (const [area, table] of AREAS) if (Object.hasOwn(table, code)) return area;
  throw new Error(`unreachable: ${code} is in no area`);
}

/** Every table entry with its code and area, in table order (for the generated reference). */
export function errorEntries(): { readonly code: ErrorCode; readonly area: ErrorArea; readonly spec: ErrorSpec }[] {
  return AREAS.flatMap(([area, table]) => Object.entries(table).map(([code, spec]) => ({ code: code as ErrorCode, area, spec })));
}
