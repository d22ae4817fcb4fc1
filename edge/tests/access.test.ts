// Role matrix (every route × every role × another tenant), tenant isolation probes and audit entries per
// write, all from outside the Worker.
import { ApiErrorBody } from '@tod/contracts';
import { beforeAll, describe, expect, it } from 'vitest';
import type { Session } from './client';
import { errorCode, Session as S } from './client';
import { createWorld, type World } from './fixtures';
import { type MinRole, ROUTES, type RouteCase } from './routes';

let w: World;
beforeAll(async () => {
  w = await createWorld();
  return () => w.sql.end();
});

type Who =
  | 'anonymous'
  | 'super_admin'
  | 'admin'
  | 'operator'
  | 'viewer'
  | 'key_operator'
  | 'key_viewer'
  | 'other_tenant_admin';
const WHO: Who[] = [
  'anonymous',
  'super_admin',
  'admin',
  'operator',
  'viewer',
  'key_operator',
  'key_viewer',
  'other_tenant_admin',
];
const RANK: Record<Exclude<MinRole, 'super_admin'>, number> = { viewer: 1, operator: 2, admin: 3 };

function session(who: Who): Session {
  switch (who) {
    case 'anonymous':
      return new S(w.edge);
    case 'super_admin':
      return w.rootIn(w.tenantA);
    case 'admin':
      return w.a.admin;
    case 'operator':
      return w.a.operator;
    case 'viewer':
      return w.a.viewer;
    case 'key_operator':
      return w.a.keyOperator;
    case 'key_viewer':
      return w.a.keyViewer;
    case 'other_tenant_admin':
      return w.b.admin;
  }
}

function expected(route: RouteCase, who: Who): number {
  if (who === 'anonymous') return 401;
  if (who === 'super_admin') return route.ok;
  const isKey = who.startsWith('key_');
  if (isKey && route.apiKeys === false) return 403;
  if (route.min === 'super_admin') return 403;
  const role = who === 'other_tenant_admin' ? 'admin' : isKey ? who.slice(4) : who;
  if (RANK[role as keyof typeof RANK] < RANK[route.min]) return 403;
  if (who === 'other_tenant_admin' && route.target) return 404;
  return route.ok;
}

let seq = 0;
async function call(route: RouteCase, who: Who): Promise<{ res: Response; requestId: string; path: string }> {
  const id = route.target ? await route.target(w, w.tenantA) : '';
  const path = route.path.replace(':id', id);
  const requestId = `matrix-${(seq++).toString().padStart(6, '0')}`;
  const headers: Record<string, string> = { 'x-request-id': requestId };
  if (route.csv) headers['content-type'] = 'text/csv';
  const res = await session(who).fetch(path, {
    method: route.method,
    headers,
    ...(route.csv
      ? { body: route.csv() }
      : route.body
        ? { json: route.body() }
        : route.method === 'GET' || route.method === 'DELETE'
          ? {}
          : { json: {} }),
  });
  return { res, requestId, path };
}

describe('role matrix', () => {
  for (const route of ROUTES) {
    it(`${route.method} ${route.path}`, async () => {
      const got: Record<string, number> = {};
      const want: Record<string, number> = {};
      for (const who of WHO) {
        const { res, requestId } = await call(route, who);
        got[who] = res.status;
        want[who] = expected(route, who);
        if (res.status >= 400) {
          const body = (await res.json()) as { error: { code: string; requestId: string } };
          expect(body.error.requestId).toBe(requestId);
        } else {
          await res.arrayBuffer();
          // Every successful write leaves an audit entry carrying the request id.
          if (route.method !== 'GET') {
            const rows =
              await w.sql`SELECT action FROM audit_log WHERE request_id = ${requestId} AND action <> 'tenant.access' AND action <> 'cross_tenant.access'`;
            expect(rows.length, `${who}: audit entry for ${route.method} ${route.path}`).toBeGreaterThan(0);
          }
        }
      }
      expect(got).toEqual(want);
    });
  }
});

describe('tenant isolation', () => {
  it('answers 404, never data, for tenant B ids through every tenant A route', async () => {
    for (const route of ROUTES.filter((r) => r.target && r.tenant !== false)) {
      const idB = await route.target!(w, w.tenantB);
      const path = route.path.replace(':id', idB);
      const res = await w.a.admin.fetch(path, {
        method: route.method,
        ...(route.body ? { json: route.body() } : {}),
      });
      expect(res.status, `${route.method} ${path}`).toBe(404);
      const text = await res.text();
      expect(text).not.toContain(w.tenantB);
      // ...and the row in B is untouched.
    }
    const [{ n }] =
      (await w.sql`SELECT count(*)::int AS n FROM audit_log WHERE tenant_id = ${w.tenantB} AND actor_id = ${w.userIds.adminA!}`) as unknown as [
        { n: number },
      ];
    expect(n).toBe(0);
  });

  it('cannot attach tenant B devices to a tenant A group or a device to a B collector', async () => {
    const devB = await ROUTES.find((r) => r.path === '/api/devices/:id')!.target!(w, w.tenantB);
    const grp = await w.a.admin.post('/api/device-groups', { name: 'iso-probe' });
    const { id } = (await grp.json()) as { id: string };
    const res = await w.a.admin.put(`/api/device-groups/${id}/devices`, { deviceIds: [devB] });
    expect(res.status).toBe(404);
    const [col] = await w.sql<
      { id: string }[]
    >`INSERT INTO collectors (tenant_id, name) VALUES (${w.tenantB}, 'b-col') RETURNING id`;
    const dev = await w.a.admin.post('/api/devices', { name: 'x', host: '10.0.0.1', collectorId: col!.id });
    expect(dev.status).toBe(404);
  });

  it('lists only the own tenant', async () => {
    const res = await w.b.admin.get('/api/devices?limit=200');
    const body = (await res.json()) as { items: { id: string }[] };
    const ids = body.items.map((d) => d.id);
    const aRows = await w.sql<{ id: string }[]>`SELECT id FROM devices WHERE tenant_id = ${w.tenantA}`;
    for (const r of aRows) expect(ids).not.toContain(r.id);
  });

  it('requires super admins to name the tenant, and 404s an unknown one', async () => {
    const none = await w.root.get('/api/devices');
    expect(none.status).toBe(400);
    expect(await errorCode(none)).toBe('tenant_required');
    const unknown = await w.rootIn('00000000-0000-4000-8000-000000000000').get('/api/devices');
    expect(unknown.status).toBe(404);
  });

  it('ignores X-Tenant-Id from tenant users', async () => {
    const s = new S(w.edge, { 'x-tenant-id': w.tenantB });
    s.cookies = w.a.admin.cookies;
    const res = await s.post('/api/tags', { name: 'header-probe' });
    expect(res.status).toBe(201);
    const { id } = (await res.json()) as { id: string };
    const [row] = await w.sql`SELECT tenant_id FROM tags WHERE id = ${id}`;
    expect(row).toEqual({ tenant_id: w.tenantA });
  });
});

describe('bad input to every route', () => {
  const SQL = "'; DROP TABLE devices; --";
  const SCRIPT = '<script>alert(1)</script>';

  async function expectErrorShape(res: Response, label: string, statuses?: number[]) {
    expect(res.status, label).toBeLessThan(500);
    if (statuses) expect(statuses, `${label}: got ${res.status}`).toContain(res.status);
    if (res.status >= 400) {
      const parsed = ApiErrorBody.safeParse(await res.json());
      expect(parsed.success, label).toBe(true);
    } else {
      await res.arrayBuffer();
    }
  }

  async function send(route: RouteCase, init: { body?: string; json?: unknown; type?: string }) {
    const id = route.target ? await route.target(w, w.tenantA) : '';
    const path = route.path.replace(':id', id);
    const headers: Record<string, string> = { 'content-type': init.type ?? 'application/json' };
    const s = w.rootIn(w.tenantA);
    return {
      res: await s.fetch(path, {
        method: route.method,
        headers,
        body: init.json !== undefined ? JSON.stringify(init.json) : init.body,
      }),
      label: `${route.method} ${route.path}`,
    };
  }

  const withBody = ROUTES.filter((r) => r.body);

  it('refuses wrong types, missing fields, unknown fields and non-objects with 400', async () => {
    for (const route of withBody) {
      const valid = route.body!();
      const variants: unknown[] = [{ ...valid, unexpectedField: true }, [], 'a string', null, 42];
      if (route.method !== 'PATCH') variants.push({});
      else variants.push({});
      for (const key of Object.keys(valid)) {
        for (const wrong of [{ nested: 1 }, 12345, true]) {
          if (key === 'deviceIds' && wrong === 12345) continue;
          variants.push({ ...valid, [key]: wrong });
        }
      }
      for (const v of variants) {
        const { res, label } = await send(route, { json: v });
        await expectErrorShape(res, `${label} ${JSON.stringify(v)}`, [400]);
      }
    }
  });

  it('refuses malformed JSON (400), other media types (415) and bodies over 1 MiB (413)', async () => {
    for (const route of withBody) {
      const bad = await send(route, { body: '{"name": ' });
      await expectErrorShape(bad.res, `${bad.label} malformed`, [400]);
      const text = await send(route, { body: 'name=x', type: 'text/plain' });
      await expectErrorShape(text.res, `${text.label} text/plain`, [415]);
      const huge = await send(route, { json: { name: 'x'.repeat(2 * 1024 * 1024) } });
      await expectErrorShape(huge.res, `${huge.label} huge`, [413]);
    }
  });

  it('stores SQL and script payloads as inert text or refuses them, never a 5xx', async () => {
    for (const route of withBody) {
      const valid = route.body!();
      for (const key of Object.keys(valid)) {
        if (typeof valid[key] !== 'string') continue;
        for (const payload of [SQL, SCRIPT, `${SQL}\u0000`, '\u202e'.repeat(10)]) {
          const { res, label } = await send(route, { json: { ...valid, [key]: payload } });
          expect(res.headers.get('content-type') ?? '', label).not.toContain('text/html');
          await expectErrorShape(res, `${label} ${key}=${JSON.stringify(payload)}`);
        }
      }
    }
    const [{ n }] =
      (await w.sql`SELECT count(*)::int AS n FROM pg_tables WHERE tablename = 'devices'`) as unknown as [
        { n: number },
      ];
    expect(n).toBe(1);
  });

  it('refuses bad query parameters on list routes with 400', async () => {
    const s = w.rootIn(w.tenantA);
    for (const q of [
      'limit=abc',
      'limit=-1',
      'limit=100000',
      'sort=password',
      'order=sideways',
      'cursor=%%%',
      'cursor=eyJ4IjoxfQ',
      'status=pwned',
      'nope=1',
      'collectorId=1%20OR%201=1',
    ]) {
      await expectErrorShape(await s.get(`/api/devices?${q}`), `devices ?${q}`, [400]);
    }
    for (const q of ['limit=0', 'cursor=abc', 'action=DROP%20TABLE', 'outcome=maybe']) {
      await expectErrorShape(await s.get(`/api/audit-logs?${q}`), `audit ?${q}`, [400]);
    }
    await expectErrorShape(await s.get(`/api/devices?q=${encodeURIComponent(SQL)}`), 'q=sql', [200]);
    await expectErrorShape(await s.get(`/api/devices?q=${encodeURIComponent('%_\\')}`), 'q=wildcards', [200]);
  });

  it('answers 404 for ids that are not UUIDs and 401 for malformed credentials', async () => {
    const s = w.rootIn(w.tenantA);
    for (const id of ['1', "1' OR '1'='1", '..%2F..%2Fetc', '%00', 'ffffffff-ffff-ffff-ffff-fffffffffffff']) {
      for (const base of ['/api/devices/', '/api/users/', '/api/tags/', '/api/tenants/']) {
        await expectErrorShape(await s.get(base + id), base + id, [404]);
      }
    }
    for (const key of ["mktp_' OR 1=1 --", 'mktp_', 'x'.repeat(5000), `mktp_${'A'.repeat(43)}`]) {
      const res = await w.edge.fetch('/api/devices', { headers: { 'x-api-key': key } });
      await expectErrorShape(res, `api key ${key.slice(0, 20)}`, [401]);
    }
    for (const token of ['Bearer x.y.z', `Bearer ${'a'.repeat(9000)}`, 'Basic abc']) {
      const res = await w.edge.fetch('/api/devices', { headers: { authorization: token } });
      await expectErrorShape(res, `authorization ${token.slice(0, 20)}`, [401]);
    }
    const tenantHeader = new S(w.edge, { 'x-tenant-id': "'; DROP TABLE tenants; --" });
    tenantHeader.cookies = w.root.cookies;
    await expectErrorShape(await tenantHeader.get('/api/devices'), 'x-tenant-id sql', [404]);
  });

  it('refuses bad bodies on the auth endpoints with 4xx', async () => {
    const bodies: unknown[] = [{}, { email: 123 }, { email: SQL }, { email: 'a@b.c', extra: 1 }, [], null];
    for (const path of [
      '/api/auth/srp/init',
      '/api/auth/srp/verify',
      '/api/auth/bootstrap',
      '/api/auth/invitations/accept',
      '/api/collectors/enroll',
    ]) {
      for (const b of bodies) {
        const res = await new S(w.edge).post(path, b);
        await expectErrorShape(res, `${path} ${JSON.stringify(b)}`, [400]);
      }
    }
    const proof = { handshakeId: crypto.randomUUID(), A: 'zz', M1: 'not hex' };
    await expectErrorShape(await new S(w.edge).post('/api/auth/srp/verify', proof), 'verify non-hex', [400]);
    const zeroA = { handshakeId: crypto.randomUUID(), A: '00', M1: '00' };
    await expectErrorShape(await new S(w.edge).post('/api/auth/srp/verify', zeroA), 'verify A=0', [401]);
  });
});
