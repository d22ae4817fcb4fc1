// Role matrix (every route × every role × another tenant), tenant isolation probes and audit entries per
// write, all from outside the Worker.
import { beforeAll, describe, expect, it } from 'vitest';
import type { Session } from './client';
import { Session as S } from './client';
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
  const res = await session(who).fetch(path, {
    method: route.method,
    headers: { 'x-request-id': requestId },
    ...(route.body
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
    expect((await none.json()).error.code).toBe('tenant_required');
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
