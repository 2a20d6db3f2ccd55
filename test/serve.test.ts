/**
 * The local HTTP host: listens on 127.0.0.1 only, refuses requests without
 * the token, serves the renderer folder and nothing outside it, and carries
 * API calls and pushed events to and from the same handlers IPC uses.
 */
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { API_NAMES, type WorkbenchEvent } from '../main/api/contract.js';
import { createHandlers, type WorkbenchService } from '../main/api/handlers.js';
import { startServer, type RunningServer } from '../main/serve/server.js';

let dir: string;
let server: RunningServer;
let emit: (event: WorkbenchEvent) => void = () => undefined;
const received: unknown[] = [];

function fakeService(): WorkbenchService {
  const service = Object.fromEntries(
    API_NAMES.map((name) => [name, async () => ({ answeredBy: name })]),
  ) as unknown as WorkbenchService;
  service.getRun = async (payload) => {
    received.push(payload);
    return { id: payload.runId } as never;
  };
  service.onEvent = (listener) => {
    emit = listener;
    return () => {
      emit = () => undefined;
    };
  };
  return service;
}

/** A raw request, so the Host header can be set (fetch forbids it). */
function rawGet(url: string, headers: Record<string, string>): Promise<number> {
  return new Promise((resolve, reject) => {
    http.get(url, { headers }, (res) => {
      res.resume();
      resolve(res.statusCode ?? 0);
    }).on('error', reject);
  });
}

beforeAll(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sgnas-serve-'));
  fs.writeFileSync(path.join(dir, 'index.html'), '<!doctype html><title>workbench</title>');
  fs.mkdirSync(path.join(dir, 'assets'));
  fs.writeFileSync(path.join(dir, 'assets', 'app.js'), 'console.log(1);');
  fs.writeFileSync(path.join(os.tmpdir(), 'sgnas-serve-secret.txt'), 'secret');
  const service = fakeService();
  const handlers = createHandlers(service);
  server = await startServer({ port: 0, rendererDir: dir, handlers, service });
});

afterAll(async () => {
  await server.close();
  fs.rmSync(dir, { recursive: true, force: true });
  fs.rmSync(path.join(os.tmpdir(), 'sgnas-serve-secret.txt'), { force: true });
});

describe('serve host', () => {
  it('listens on 127.0.0.1 and prints a URL that carries the token', () => {
    expect(server.url).toBe(`http://127.0.0.1:${server.port}/?token=${server.token}`);
    expect(server.token.length).toBeGreaterThanOrEqual(40); // 32 random bytes, base64url
  });

  it('answers /api/health 200 with the token as query or bearer header, 401 without', async () => {
    const base = `http://127.0.0.1:${server.port}/api/health`;

    expect((await fetch(`${base}?token=${server.token}`)).status).toBe(200);
    const bearer = await fetch(base, { headers: { Authorization: `Bearer ${server.token}` } });
    expect(bearer.status).toBe(200);
    expect(await bearer.json()).toMatchObject({ ok: true, value: { status: 'ok' } });

    expect((await fetch(base)).status).toBe(401);
    expect((await fetch(`${base}?token=wrong`)).status).toBe(401);
    expect((await fetch(base, { headers: { Authorization: 'Bearer x' } })).status).toBe(401);
  });

  it('refuses every API call without the token, before it reaches a handler', async () => {
    const response = await fetch(`http://127.0.0.1:${server.port}/api/getRun`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ runId: 'abc' }),
    });
    expect(response.status).toBe(401);
    expect(received).toHaveLength(0);
  });

  it('round-trips a call: JSON payload in, the envelope out', async () => {
    const response = await fetch(`http://127.0.0.1:${server.port}/api/getRun`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json', Authorization: `Bearer ${server.token}` },
      body: JSON.stringify({ runId: 'abc' }),
    });
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({ ok: true, value: { id: 'abc' } });
    expect(received).toEqual([{ runId: 'abc' }]);
  });

  it('answers a malformed payload 400 naming the field, an unknown call 404', async () => {
    const post = (name: string, body: string) =>
      fetch(`http://127.0.0.1:${server.port}/api/${name}`, {
        method: 'POST',
        headers: { 'Content-Type': 'application/json', Authorization: `Bearer ${server.token}` },
        body,
      });

    const bad = await post('getRun', JSON.stringify({ runId: 7 }));
    expect(bad.status).toBe(400);
    expect((await bad.json()).error.message).toMatch(/runId/);

    const notJson = await post('getRun', '{runId:');
    expect(notJson.status).toBe(400);
    expect((await notJson.json()).error.message).toMatch(/not JSON/);

    expect((await post('dropTables', '{}')).status).toBe(404);
  });

  it('serves the renderer with the CSP header, and no file outside its folder', async () => {
    const page = await fetch(`http://127.0.0.1:${server.port}/`);
    expect(page.status).toBe(200);
    expect(page.headers.get('content-security-policy')).toMatch(/^default-src 'self'/);
    expect(page.headers.get('referrer-policy')).toBe('no-referrer');
    expect(await page.text()).toContain('<title>workbench</title>');

    const asset = await fetch(`http://127.0.0.1:${server.port}/assets/app.js`);
    expect(asset.headers.get('content-type')).toMatch(/text\/javascript/);

    const escape = await fetch(`http://127.0.0.1:${server.port}/..%2fsgnas-serve-secret.txt`);
    expect(escape.status).toBe(404);
  });

  it('refuses requests addressed to another host name (DNS rebinding)', async () => {
    const url = `http://127.0.0.1:${server.port}/api/health?token=${server.token}`;
    expect(await rawGet(url, { Host: `evil.example:${server.port}` })).toBe(421);
    expect(await rawGet(url, { Host: `localhost:${server.port}` })).toBe(200);
  });

  it('streams pushed events as server-sent events', async () => {
    const controller = new AbortController();
    const response = await fetch(
      `http://127.0.0.1:${server.port}/api/events?token=${server.token}`,
      { signal: controller.signal },
    );
    expect(response.headers.get('content-type')).toMatch(/text\/event-stream/);
    const reader = response.body!.getReader();
    await reader.read(); // the ': connected' comment: the listener is registered

    const event: WorkbenchEvent = { type: 'status', event: { runId: 'r1', status: 'completed' } };
    emit(event);
    const { value } = await reader.read();
    controller.abort();

    expect(new TextDecoder().decode(value)).toBe(`data: ${JSON.stringify(event)}\n\n`);
  });
});
