// The HAR 1.2 objects Airlock writes (only the fields it fills), plus its `_` extensions.
import type { EntryChain, LogChain } from '../integrity/index.js';
import type { ExchangeAirlock } from '../../lib/exchange-types.js';
import type { Decision } from '../../lib/decision.js';

export interface HarNameValue {
  name: string;
  value: string;
}

export interface HarContent {
  size: number;
  mimeType: string;
  compression?: number;
  text?: string;
  encoding?: 'base64';
  comment?: string;
}

interface HarPostData {
  mimeType: string;
  text: string;
  comment?: string;
}

export interface HarTimings {
  blocked: number;
  dns: number;
  connect: number;
  ssl: number;
  send: number;
  wait: number;
  receive: number;
}

export interface HarEntryAirlock extends Omit<ExchangeAirlock, 'decision'> {
  /** As journalled; "unknown" when the journal line named none (a damaged file). */
  decision: Decision | 'unknown';
  truncated?: {
    request?: true;
    response?: true;
    requestBodySize?: number;
    requestBytesRecorded?: number;
    responseBodySize?: number;
    responseBytesRecorded?: number;
  };
  /** A non-text request body, base64 of its (redacted) bytes: HAR 1.2's postData has no encoding field. */
  requestBodyBase64?: string;
  chain?: EntryChain;
}

export interface HarEntry {
  startedDateTime: string;
  time: number;
  request: {
    method: string;
    url: string;
    httpVersion: string;
    cookies: HarNameValue[];
    headers: HarNameValue[];
    queryString: HarNameValue[];
    headersSize: number;
    bodySize: number;
    postData?: HarPostData;
  };
  response: {
    status: number;
    statusText: string;
    httpVersion: string;
    cookies: HarNameValue[];
    headers: HarNameValue[];
    content: HarContent;
    redirectURL: string;
    headersSize: number;
    bodySize: number;
  };
  cache: Record<string, never>;
  timings: HarTimings;
  serverIPAddress?: string;
  connection?: string;
  comment?: string;
  _resourceType: 'fetch';
  _error?: string;
  _airlock: HarEntryAirlock;
}

/** log._airlock: who the session belongs to. */
export interface HarLogAirlock {
  session: string;
  key: string;
  issuer: string;
  iss: string;
  sub: string;
  grant: string;
  credential: string;
  claims: Readonly<Record<string, unknown>>;
  openedAt: string;
  closedAt: string | null;
  closeReason: string | null;
  replayOf?: string;
  chain?: LogChain;
}
