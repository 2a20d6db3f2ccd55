/**
 * The local host of the workbench: serves the built renderer and the same
 * API the Electron main process serves over IPC, for a browser on this
 * machine (or through an SSH tunnel) and for the end-to-end tests.
 *
 * - Listens on 127.0.0.1 only, and answers only requests addressed to it
 *   (Host header), so a web page elsewhere cannot reach it by DNS rebinding.
 * - Every /api request needs the random token: `?token=` or
 *   `Authorization: Bearer <token>`; without it the answer is 401.
 * - POST /api/<call> takes the payload as JSON and answers the envelope
 *   {ok, value} or {ok: false, error}; GET /api/events streams events as
 *   server-sent events; GET /api/health answers 200.
 * - The static files (the renderer bundle, no data) need no token.
 */
import { randomBytes, timingSafeEqual } from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';

import type { ApiErrorCode, ApiResponse } from '../api/contract.js';
import { dispatch, type ApiHandlers, type WorkbenchService } from '../api/handlers.js';
import { CONTENT_SECURITY_POLICY_HEADER } from '../electron/windowOptions.js';

export interface ServeOptions {
  /** 0 picks a free port. */
  port: number;
  /** The built renderer folder (out/renderer). */
  rendererDir: string;
  handlers: ApiHandlers;
  service: Pick<WorkbenchService, 'onEvent'>;
  /** A fixed token (tests); a random 32-byte one when omitted. */
  token?: string;
}

export interface RunningServer {
  /** The page's full URL, token included. */
  url: string;
  port: number;
  token: string;
  /** Stops listening, ends event streams, resolves when closed. */
  close(): Promise<void>;
}

const HOST = '127.0.0.1';
const MAX_BODY_BYTES = 1024 * 1024;
const KEEPALIVE_MS = 15_000;

const STATUS_OF: Record<ApiErrorCode, number> = {
  'invalid-payload': 400,
  'unknown-call': 404,
  'not-found': 404,
  conflict: 409,
  failed: 500,
};

const CONTENT_TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.woff2': 'font/woff2',
  '.wasm': 'application/wasm',
};

/** Headers every response carries. */
function baseHeaders(): Record<string, string> {
  return {
    'Content-Security-Policy': CONTENT_SECURITY_POLICY_HEADER,
    'X-Content-Type-Options': 'nosniff',
    // The token travels in the page URL: never send it on as a referrer.
    'Referrer-Policy': 'no-referrer',
    'X-Frame-Options': 'DENY',
    'Cross-Origin-Opener-Policy': 'same-origin',
    'Cross-Origin-Resource-Policy': 'same-origin',
  };
}

function sendJson(res: http.ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, {
    ...baseHeaders(),
    'Content-Type': 'application/json; charset=utf-8',
    'Cache-Control': 'no-store',
  });
  res.end(JSON.stringify(body));
}

function sendError(res: http.ServerResponse, status: number, code: ApiErrorCode, message: string) {
  const body: ApiResponse<never> = { ok: false, error: { code, message } };
  sendJson(res, status, body);
}

/** Constant-time token comparison (a length mismatch is simply false). */
function tokenMatches(given: string | null, token: string): boolean {
  if (!given) return false;
  const a = Buffer.from(given);
  const b = Buffer.from(token);
  return a.length === b.length && timingSafeEqual(a, b);
}

/** The token a request carries, from the bearer header or the query. */
function requestToken(req: http.IncomingMessage, url: URL): string | null {
  const auth = req.headers.authorization;
  if (auth?.startsWith('Bearer ')) return auth.slice('Bearer '.length).trim();
  return url.searchParams.get('token');
}

/** Reads a JSON body up to MAX_BODY_BYTES. */
function readJsonBody(req: http.IncomingMessage): Promise<unknown> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > MAX_BODY_BYTES) {
        reject(new Error(`request body over ${MAX_BODY_BYTES} bytes`));
        req.destroy();
        return;
      }
      chunks.push(chunk);
    });
    req.on('end', () => {
      const text = Buffer.concat(chunks).toString('utf8');
      if (text.trim() === '') return resolve({});
      try {
        resolve(JSON.parse(text));
      } catch (err) {
        reject(new Error(`request body is not JSON (${(err as Error).message})`));
      }
    });
    req.on('error', reject);
  });
}

/** Serves a file of the renderer folder; refuses anything outside it. */
function serveStatic(res: http.ServerResponse, rendererDir: string, urlPath: string): void {
  const root = path.resolve(rendererDir);
  const decoded = decodeURIComponent(urlPath).replace(/^\/+/, '');
  const relative = urlPath === '/' ? 'index.html' : decoded;
  const file = path.resolve(root, relative);

  if (!file.startsWith(root + path.sep) || !fs.existsSync(file) || !fs.statSync(file).isFile()) {
    res.writeHead(404, { ...baseHeaders(), 'Content-Type': 'text/plain; charset=utf-8' });
    res.end(`not found: ${urlPath}`);
    return;
  }

  const type = CONTENT_TYPES[path.extname(file)] ?? 'application/octet-stream';
  res.writeHead(200, { ...baseHeaders(), 'Content-Type': type, 'Cache-Control': 'no-cache' });
  fs.createReadStream(file).pipe(res);
}

/**
 * Starts the host.
 *
 * @example
 *   const server = await startServer({ port: 0, rendererDir: 'out/renderer',
 *     handlers, service });
 *   console.log(server.url); // http://127.0.0.1:41234/?token=...
 * @throws Error when the renderer folder has no index.html (build it first
 *   with `npx electron-vite build`), or the port is taken.
 */
export async function startServer(options: ServeOptions): Promise<RunningServer> {
  if (!fs.existsSync(path.join(options.rendererDir, 'index.html'))) {
    throw new Error(
      `no built renderer in ${options.rendererDir} (index.html missing); ` +
        'run `npx electron-vite build` first',
    );
  }

  const token = options.token ?? randomBytes(32).toString('base64url');
  const streams = new Set<http.ServerResponse>();
  let port = 0;

  const server = http.createServer((req, res) => {
    handleRequest(req, res).catch((err: Error) => {
      if (!res.headersSent) sendError(res, 500, 'failed', err.message);
      else res.end();
    });
  });

  async function handleRequest(req: http.IncomingMessage, res: http.ServerResponse) {
    const allowedHosts = [`${HOST}:${port}`, `localhost:${port}`];
    if (!allowedHosts.includes(req.headers.host ?? '')) {
      sendError(res, 421, 'failed', `this host answers only to ${allowedHosts.join(' or ')}`);
      return;
    }

    const url = new URL(req.url ?? '/', `http://${HOST}:${port}`);
    if (!url.pathname.startsWith('/api/')) {
      if (req.method !== 'GET' && req.method !== 'HEAD') {
        sendError(res, 405, 'failed', `${req.method} is not allowed on ${url.pathname}`);
        return;
      }
      serveStatic(res, options.rendererDir, url.pathname);
      return;
    }

    if (!tokenMatches(requestToken(req, url), token)) {
      sendError(res, 401, 'failed', 'missing or wrong token: use the URL the server printed');
      return;
    }

    const route = url.pathname.slice('/api/'.length);
    if (route === 'health' && req.method === 'GET') {
      sendJson(res, 200, { ok: true, value: { status: 'ok', pid: process.pid } });
      return;
    }
    if (route === 'events' && req.method === 'GET') {
      openEventStream(req, res);
      return;
    }
    if (req.method !== 'POST') {
      sendError(res, 405, 'failed', `use POST for /api/${route}`);
      return;
    }
    if (!(req.headers['content-type'] ?? '').startsWith('application/json')) {
      sendError(res, 415, 'invalid-payload', 'send the payload as Content-Type application/json');
      return;
    }

    let payload: unknown;
    try {
      payload = await readJsonBody(req);
    } catch (err) {
      sendError(res, 400, 'invalid-payload', `${route}: ${(err as Error).message}`);
      return;
    }

    const response = await dispatch(options.handlers, route, payload);
    sendJson(res, response.ok ? 200 : STATUS_OF[response.error.code], response);
  }

  function openEventStream(req: http.IncomingMessage, res: http.ServerResponse) {
    res.writeHead(200, {
      ...baseHeaders(),
      'Content-Type': 'text/event-stream; charset=utf-8',
      'Cache-Control': 'no-store',
      Connection: 'keep-alive',
    });
    res.write(': connected\n\n');
    streams.add(res);

    const unsubscribe = options.service.onEvent((event) => {
      res.write(`data: ${JSON.stringify(event)}\n\n`);
    });
    const keepalive = setInterval(() => res.write(': keepalive\n\n'), KEEPALIVE_MS);
    req.on('close', () => {
      clearInterval(keepalive);
      unsubscribe();
      streams.delete(res);
    });
  }

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, HOST, () => {
      server.off('error', reject);
      resolve();
    });
  });
  port = (server.address() as AddressInfo).port;

  return {
    url: `http://${HOST}:${port}/?token=${token}`,
    port,
    token,
    close: () =>
      new Promise<void>((resolve, reject) => {
        for (const stream of streams) stream.end();
        server.closeAllConnections();
        server.close((err) => (err ? reject(err) : resolve()));
      }),
  };
}
