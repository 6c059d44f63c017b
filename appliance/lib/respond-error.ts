import type { ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import { toErrorResponse } from '../errors.js';

/** Answers an HTTP request with Airlock's error shape (the one error-to-response function). */
export function respondError(res: ServerResponse, err: unknown): number {
  const r = toErrorResponse(err);
  if (res.headersSent) {
    res.destroy();
    return r.status;
  }
  res.writeHead(r.status, r.headers);
  res.end(r.body);
  return r.status;
}

/** Refuses a CONNECT on its raw socket (no HTTP response object exists there). */
export function refuseConnect(socket: Duplex, err: unknown): number {
  const r = toErrorResponse(err);
  if (socket.writable) {
    const head = [`HTTP/1.1 ${r.status} ${statusText(r.status)}`];
    for (const [k, v] of Object.entries(r.headers)) head.push(`${k}: ${v}`);
    head.push('connection: close');
    socket.end(`${head.join('\r\n')}\r\n\r\n${r.body}`);
  }
  return r.status;
}

function statusText(status: number): string {
  switch (status) {
    case 400:
      return 'Bad Request';
    case 403:
      return 'Forbidden';
    case 407:
      return 'Proxy Authentication Required';
    case 421:
      return 'Misdirected Request';
    case 502:
      return 'Bad Gateway';
    case 503:
      return 'Service Unavailable';
    default:
      return 'Error';
  }
}
