import http from 'node:http';

export interface ControlReply {
  status: number;
  body: Record<string, unknown>;
  /** On a refusal: the X-Airlock-Error code and the message from Airlock's error shape. */
  code?: string;
  message?: string;
}

/** A refusal's code and words, from `X-Airlock-Error` and `{"errors":["airlock: ..."]}`. */
function refusalOf(status: number, header: string | string[] | undefined, body: Record<string, unknown>): { code?: string; message?: string } {
  if (status < 400) return {};
  const errors = body['errors'];
  const first = Array.isArray(errors) && typeof errors[0] === 'string' ? errors[0].replace(/^airlock: /, '') : undefined;
  return {
    ...(typeof header === 'string' ? { code: header } : {}),
    ...(first !== undefined ? { message: first } : {}),
  };
}

/** Calls the running server's control socket; null when no server is listening there. */
export function callControl(socketPath: string, method: string, path: string, timeoutMs = 15_000, body?: unknown): Promise<ControlReply | null> {
  return new Promise((resolve, reject) => {
    const req = http.request({ socketPath, method, path, timeout: timeoutMs }, (res) => {
      const chunks: Buffer[] = [];
      let size = 0;
      res.on('data', (c: Buffer) => {
        size += c.length;
        if (size > 1_048_576) req.destroy(new Error('control reply too large'));
        else chunks.push(c);
      });
      res.on('end', () => {
        let body: Record<string, unknown> = {};
        try {
          body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as Record<string, unknown>;
        } catch {
          body = {};
        }
        const status = res.statusCode ?? 0;
        resolve({ status, body, ...refusalOf(status, res.headers['x-airlock-error'], body) });
      });
    });
    req.on('timeout', () => req.destroy(new Error('the control socket did not answer in time')));
    req.on('error', (err: NodeJS.ErrnoException) => {
      if (err.code === 'ENOENT' || err.code === 'ECONNREFUSED') resolve(null);
      else reject(err);
    });
    if (body === undefined) req.end();
    else req.end(JSON.stringify(body));
  });
}
