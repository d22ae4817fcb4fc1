import { HealthResponse, ReadinessResponse } from '@tod/contracts';
import { beforeAll, describe, expect, it } from 'vitest';
import { freshDatabase, freshNats } from '../../tests/env';
import { type EdgeHandle, startEdge, TEST_SECRETS } from '../../tests/env/edge';

let edge: EdgeHandle;
let deadEdge: EdgeHandle;

beforeAll(async () => {
  const [db, nats] = await Promise.all([freshDatabase(), freshNats()]);
  edge = await startEdge({ DATABASE_URL: db.appUrl, NATS_WS_URL: nats.wsUrl, ...TEST_SECRETS });
  // Same Worker pointed at ports nothing listens on.
  deadEdge = await startEdge({
    DATABASE_URL: 'postgres://tod_app:x@127.0.0.1:1/none',
    NATS_WS_URL: 'ws://127.0.0.1:1',
    ...TEST_SECRETS,
  });
});

describe('health', () => {
  it('answers liveness with the version', async () => {
    const res = await edge.fetch('/health');
    expect(res.status).toBe(200);
    expect(HealthResponse.parse(await res.json()).version).toBe('0.1.0');
    expect(res.headers.get('x-request-id')).toMatch(/^[0-9a-f-]{36}$/);
  });

  it('is ready when Postgres and NATS are reachable', async () => {
    const res = await edge.fetch('/health/ready');
    const body = ReadinessResponse.parse(await res.json());
    expect(body.checks.postgres).toMatchObject({ ok: true });
    expect(body.checks.nats, JSON.stringify(body.checks.nats)).toMatchObject({ ok: true });
    expect(res.status).toBe(200);
  });

  it('is not ready (503) when they are not, without leaking URLs or credentials', async () => {
    const res = await deadEdge.fetch('/health/ready');
    expect(res.status).toBe(503);
    const text = await res.text();
    const body = ReadinessResponse.parse(JSON.parse(text));
    expect(body.status).toBe('not_ready');
    expect(body.checks.postgres.ok).toBe(false);
    expect(body.checks.nats.ok).toBe(false);
    expect(text).not.toContain('tod_app:x');
    expect(text).not.toContain(TEST_SECRETS.JWT_SECRET_KEY);
  });

  it('answers unknown routes with the JSON error shape and echoes a sane request id', async () => {
    const res = await edge.fetch('/api/nope', { headers: { 'x-request-id': 'req-12345678' } });
    expect(res.status).toBe(404);
    expect(await res.json()).toEqual({
      error: { code: 'not_found', message: 'no route for GET /api/nope', requestId: 'req-12345678' },
    });
    expect(res.headers.get('x-request-id')).toBe('req-12345678');
  });

  it('sends strict security headers', async () => {
    const res = await edge.fetch('/health');
    expect(res.headers.get('x-frame-options')).toBe('DENY');
    expect(res.headers.get('strict-transport-security')).toContain('max-age=');
    expect(res.headers.get('content-security-policy')).toContain("frame-ancestors 'none'");
  });
});
