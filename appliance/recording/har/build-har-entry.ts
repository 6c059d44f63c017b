// One HAR entry from one journal exchange line. Pure, and defensive: a journal is read back from
// disk, so every number is coerced to something Chrome's importer and har-schema accept.
import { isIP } from 'node:net';
import type { HarContent, HarEntry, HarEntryAirlock, HarNameValue, HarTimings } from './har-types.js';
import type { JournalBeginLine, JournalBody, JournalExchangeLine } from '../journal/index.js';
import type { HeaderPair } from '../../lib/exchange-types.js';
import { isDecision } from '../../lib/decision.js';

export const NO_RESPONSE_ERROR = 'no response recorded: Airlock stopped before the exchange completed';

function int(v: unknown, fallback: number): number {
  return typeof v === 'number' && Number.isFinite(v) ? Math.trunc(v) : fallback;
}
function str(v: unknown, fallback = ''): string {
  return typeof v === 'string' ? v : fallback;
}
/** Required phases: never negative. */
function phase(v: unknown): number {
  return typeof v === 'number' && Number.isFinite(v) && v >= 0 ? v : 0;
}
/** Optional phases: -1 when the phase did not happen. */
function optPhase(v: unknown): number {
  return typeof v === 'number' && Number.isFinite(v) && v >= 0 ? v : -1;
}
function isoDate(v: unknown): string {
  const d = new Date(str(v));
  return Number.isNaN(d.getTime()) ? new Date(0).toISOString() : d.toISOString();
}

// Array.isArray would narrow a readonly array type to any[]; this keeps the element type.
const isList = (v: unknown): v is readonly unknown[] => Array.isArray(v);

function headerList(headers: readonly HeaderPair[] | undefined): HarNameValue[] {
  if (!isList(headers)) return [];
  return headers.map((h) => ({ name: str(h?.[0]), value: str(h?.[1]) }));
}

function headerValue(headers: readonly HeaderPair[] | undefined, name: string): string | undefined {
  if (!isList(headers)) return undefined;
  return headers.find((h) => str(h?.[0]).toLowerCase() === name)?.[1];
}

function queryString(url: string): HarNameValue[] {
  try {
    return [...new URL(url).searchParams].map(([name, value]) => ({ name, value }));
  } catch {
    return [];
  }
}

function timingsOf(t: JournalExchangeLine['timings'] | undefined): { timings: HarTimings; time: number } {
  const timings: HarTimings = {
    blocked: optPhase(t?.blocked),
    dns: optPhase(t?.dns),
    connect: optPhase(t?.connect),
    ssl: optPhase(t?.ssl),
    send: phase(t?.send),
    wait: phase(t?.wait),
    receive: phase(t?.receive),
  };
  // HAR counts ssl inside connect, so it is not added again.
  const parts = [timings.blocked, timings.dns, timings.connect, timings.send, timings.wait, timings.receive];
  const time = parts.reduce((sum, p) => (p > 0 ? sum + p : sum), 0);
  return { timings, time: Math.round(time * 1000) / 1000 };
}

function contentOf(body: JournalBody, mimeType: string): HarContent {
  const size = int(body.contentSize, 0);
  const content: HarContent = { size, mimeType };
  if (typeof body.text === 'string') content.text = body.text;
  else if (typeof body.base64 === 'string') {
    content.text = body.base64;
    content.encoding = 'base64';
  }
  if (body.decoded === true && !body.truncated) {
    const saved = size - int(body.wireSize, size);
    if (saved >= 0) content.compression = saved;
  }
  if (typeof body.note === 'string') content.comment = body.note;
  return content;
}

function truncationNote(what: string, body: JournalBody): string {
  return `${what} body truncated: ${int(body.capturedBytes, 0)} of ${int(body.wireSize, 0)} bytes recorded`;
}

export function buildHarEntry(line: JournalExchangeLine): HarEntry {
  const rq = line.request;
  const rs = line.response;
  // A journal line with an unparseable URL (damaged file) must not make the whole HAR invalid.
  const url = URL.canParse(str(rq?.url)) ? str(rq?.url) : 'http://unparseable-url.invalid/';
  const { timings, time } = timingsOf(line.timings);
  const comments: string[] = [];
  const airlock: HarEntryAirlock = {
    decision: isDecision(line.airlock?.decision) ? line.airlock.decision : 'unknown',
    ...(typeof line.airlock?.errorCode === 'string' ? { errorCode: line.airlock.errorCode } : {}),
    ...codeOf(line.airlock),
    ...(typeof line.airlock?.forwarded === 'boolean' ? { forwarded: line.airlock.forwarded } : {}),
    ...(typeof line.airlock?.grant === 'string' ? { grant: line.airlock.grant } : {}),
    ...(typeof line.airlock?.credential === 'string' ? { credential: line.airlock.credential } : {}),
    stripped: Array.isArray(line.airlock?.stripped) ? line.airlock.stripped.map((s) => str(s)) : [],
    injected: Array.isArray(line.airlock?.injected) ? line.airlock.injected.map((s) => str(s)) : [],
    ...(typeof line.airlock?.session === 'string' ? { session: line.airlock.session } : {}),
    ...(isStringRecord(line.airlock?.identity) ? { identity: line.airlock.identity } : {}),
    ...guardFields(line.airlock),
  };
  const truncated: NonNullable<HarEntryAirlock['truncated']> = {};

  const request: HarEntry['request'] = {
    method: str(rq?.method, 'GET'),
    url,
    httpVersion: str(rq?.httpVersion, 'HTTP/1.1'),
    cookies: [],
    headers: headerList(rq?.headers),
    queryString: queryString(url),
    headersSize: int(rq?.headersSize, -1),
    bodySize: rq?.body ? int(rq.body.wireSize, -1) : 0,
  };
  const rqBody = rq?.body;
  if (rqBody) {
    const mimeType = str(headerValue(rq.headers, 'content-type'), 'application/octet-stream');
    if (typeof rqBody.text === 'string' && rqBody.text !== '') {
      request.postData = { mimeType, text: rqBody.text, ...(rqBody.note ? { comment: rqBody.note } : {}) };
    } else if (typeof rqBody.base64 === 'string' && rqBody.base64 !== '') {
      airlock.requestBodyBase64 = rqBody.base64;
      comments.push('binary request body: base64 in _airlock.requestBodyBase64 (HAR 1.2 postData cannot hold base64)');
    }
    if (rqBody.note) comments.push(`request: ${rqBody.note}`);
    if (rqBody.truncated) {
      Object.assign(truncated, {
        request: true,
        requestBodySize: int(rqBody.wireSize, -1),
        requestBytesRecorded: int(rqBody.capturedBytes, 0),
      });
      comments.push(truncationNote('request', rqBody));
    }
  }

  let response: HarEntry['response'];
  if (rs) {
    const body = rs.body;
    response = {
      status: int(rs.status, 0),
      statusText: str(rs.statusText),
      httpVersion: str(rs.httpVersion, 'HTTP/1.1'),
      cookies: [],
      headers: headerList(rs.headers),
      content: body ? contentOf(body, str(headerValue(rs.headers, 'content-type'), 'x-unknown')) : { size: 0, mimeType: 'x-unknown' },
      redirectURL: str(headerValue(rs.headers, 'location')),
      headersSize: int(rs.headersSize, -1),
      bodySize: body ? int(body.wireSize, -1) : -1,
    };
    if (body?.note) comments.push(`response: ${body.note}`);
    if (body?.truncated) {
      Object.assign(truncated, {
        response: true,
        responseBodySize: int(body.wireSize, -1),
        responseBytesRecorded: int(body.capturedBytes, 0),
      });
      comments.push(truncationNote('response', body));
    }
  } else {
    response = {
      status: 0,
      statusText: '',
      httpVersion: '',
      cookies: [],
      headers: [],
      content: { size: 0, mimeType: 'x-unknown' },
      redirectURL: '',
      headersSize: -1,
      bodySize: -1,
    };
  }
  if (Object.keys(truncated).length > 0) airlock.truncated = truncated;
  const error = typeof line.error === 'string' ? line.error : rs ? undefined : 'no response';

  const entry: HarEntry = {
    startedDateTime: isoDate(line.startedDateTime),
    time,
    request,
    response,
    cache: {},
    timings,
    _resourceType: 'fetch',
    _airlock: airlock,
  };
  if (typeof line.serverIPAddress === 'string' && isIP(line.serverIPAddress) !== 0) entry.serverIPAddress = line.serverIPAddress;
  if (typeof line.connection === 'string') entry.connection = line.connection;
  if (comments.length > 0) entry.comment = comments.join('; ');
  if (error !== undefined) entry._error = error;
  return entry;
}

/** `_airlock.code`: the journal's `code`, or for lines written before it existed, `errorCode`. */
function codeOf(a: JournalExchangeLine['airlock'] | undefined): { code?: string } {
  const c = typeof a?.code === 'string' ? a.code : typeof a?.errorCode === 'string' ? a.errorCode : undefined;
  return c === undefined ? {} : { code: c };
}

/** The guardrails' fields (policy rule, approval, masking), copied when well-formed. */
function guardFields(a: JournalExchangeLine['airlock'] | undefined): Pick<HarEntryAirlock, 'rule' | 'approval' | 'masked'> {
  const out: { -readonly [K in 'rule' | 'approval' | 'masked']?: HarEntryAirlock[K] } = {};
  if (a?.rule && typeof a.rule === 'object') out.rule = a.rule;
  const ap = a?.approval;
  if (ap && typeof ap.by === 'string' && typeof ap.at === 'string') {
    out.approval = {
      by: ap.by,
      at: ap.at,
      ...(typeof ap.note === 'string' ? { note: ap.note } : {}),
      ...(typeof ap.channel === 'string' ? { channel: ap.channel } : {}),
    };
  }
  if (Array.isArray(a?.masked)) out.masked = a.masked.map((s) => str(s));
  return out;
}

// The _error of an entry whose code is HELD_ABORTED (error-codes/proxy.ts): recorded, never answered.
const HELD_ABORTED_ERROR = 'held-then-aborted: the request was held for approval and Airlock stopped before a decision; it was never forwarded';

/** A request that was begun but never recorded (crash, or closed mid-flight). */
export function buildNoResponseEntry(begin: JournalBeginLine): HarEntry {
  return buildHarEntry({
    type: 'exchange',
    id: str(begin.id),
    startedDateTime: str(begin.startedDateTime),
    request: { method: str(begin.method, 'GET'), url: str(begin.url), httpVersion: 'HTTP/1.1', headers: [], headersSize: -1, body: null },
    response: null,
    error: begin.note === 'held' ? HELD_ABORTED_ERROR : NO_RESPONSE_ERROR,
    timings: { blocked: -1, dns: -1, connect: -1, ssl: -1, send: 0, wait: 0, receive: 0 },
    airlock: { decision: 'error', stripped: [], injected: [], forwarded: begin.note !== 'held' },
  });
}

/** A journal line is read back from disk: only a flat string map is taken as an identity. */
function isStringRecord(v: unknown): v is Record<string, string> {
  return typeof v === 'object' && v !== null && !Array.isArray(v) && Object.values(v).every((x) => typeof x === 'string');
}
