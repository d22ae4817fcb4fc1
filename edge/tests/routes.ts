// Every API route with the least role it needs, a valid body, and how to get a fresh target for routes
// that destroy or change state. The role matrix, the isolation probes and the bad-input sweep iterate it.
import type { World } from './fixtures';
import { ALERTING_ROUTES } from './routes-alerting';
import { CONFIG_ROUTES } from './routes-config';
import { CONFIG_BATCH_ROUTES } from './routes-config-batch';

export type MinRole = 'super_admin' | 'admin' | 'operator' | 'viewer';

export interface RouteCase {
  method: 'GET' | 'POST' | 'PATCH' | 'PUT' | 'DELETE';
  /** path with `:id` where a resource id goes */
  path: string;
  min: MinRole;
  /** false for routes API keys may not use */
  apiKeys?: boolean;
  /** false for routes outside any tenant */
  tenant?: boolean;
  ok: number;
  body?: () => Record<string, unknown>;
  /** a text/csv body instead of JSON */
  csv?: () => string;
  /** a fresh id of tenant `t` for `:id` */
  target?: (w: World, t: string) => Promise<string>;
}

let n = 0;
const uniq = () => `${Date.now().toString(36)}${(n++).toString(36)}`;

async function insert(w: World, query: string, params: (string | null)[]): Promise<string> {
  const [row] = await w.sql.unsafe<{ id: string }[]>(query, params);
  return row!.id;
}
const device = (w: World, t: string) =>
  insert(w, `INSERT INTO devices (tenant_id, name, host) VALUES ($1, $2, '10.9.9.9') RETURNING id`, [
    t,
    `d-${uniq()}`,
  ]);
const group = (w: World, t: string) =>
  insert(w, 'INSERT INTO device_groups (tenant_id, name) VALUES ($1, $2) RETURNING id', [t, `g-${uniq()}`]);
const tag = (w: World, t: string) =>
  insert(w, 'INSERT INTO tags (tenant_id, name) VALUES ($1, $2) RETURNING id', [t, `t-${uniq()}`]);
const collector = (w: World, t: string) =>
  insert(w, 'INSERT INTO collectors (tenant_id, name) VALUES ($1, $2) RETURNING id', [t, `c-${uniq()}`]);
const user = (w: World, t: string) =>
  insert(w, `INSERT INTO users (tenant_id, email, role) VALUES ($1, $2, 'viewer') RETURNING id`, [
    t,
    `u-${uniq()}@x.test`,
  ]);
const invitation = (w: World, t: string) =>
  insert(
    w,
    `INSERT INTO invitations (tenant_id, email, role, token_hash, expires_at)
     VALUES ($1, $2, 'viewer', gen_random_bytes(32), now() + interval '1 day') RETURNING id`,
    [t, `i-${uniq()}@x.test`],
  );
const apiKey = (w: World, t: string) =>
  insert(
    w,
    `INSERT INTO api_keys (tenant_id, name, prefix, key_hash, role)
     VALUES ($1, $2, 'mktp_x', gen_random_bytes(32), 'viewer') RETURNING id`,
    [t, `k-${uniq()}`],
  );
const tenant = (w: World) =>
  insert(w, 'INSERT INTO tenants (name, slug) VALUES ($1, $1) RETURNING id', [`t-${uniq()}`]);

export const ROUTES: RouteCase[] = [
  { method: 'GET', path: '/api/auth/me', min: 'viewer', tenant: false, ok: 200 },
  { method: 'GET', path: '/api/tenants', min: 'super_admin', tenant: false, apiKeys: false, ok: 200 },
  {
    method: 'POST',
    path: '/api/tenants',
    min: 'super_admin',
    tenant: false,
    apiKeys: false,
    ok: 201,
    body: () => ({ name: 'New', slug: `n-${uniq()}` }),
  },
  {
    method: 'GET',
    path: '/api/tenants/:id',
    min: 'super_admin',
    tenant: false,
    apiKeys: false,
    ok: 200,
    target: tenant,
  },
  {
    method: 'PATCH',
    path: '/api/tenants/:id',
    min: 'super_admin',
    tenant: false,
    apiKeys: false,
    ok: 200,
    target: tenant,
    body: () => ({ name: 'Renamed' }),
  },
  {
    method: 'DELETE',
    path: '/api/tenants/:id',
    min: 'super_admin',
    tenant: false,
    apiKeys: false,
    ok: 204,
    target: tenant,
  },

  { method: 'GET', path: '/api/devices', min: 'viewer', ok: 200 },
  {
    method: 'POST',
    path: '/api/devices',
    min: 'operator',
    ok: 201,
    body: () => ({
      name: `dev-${uniq()}`,
      host: '192.0.2.1',
      credentials: { username: 'admin', password: 'pw' },
    }),
  },
  {
    method: 'POST',
    path: '/api/devices/import',
    min: 'operator',
    ok: 201,
    csv: () => `name,host,username,password\nimp-${uniq()},10.2.0.1,admin,pw\n`,
  },
  { method: 'GET', path: '/api/devices/:id', min: 'viewer', ok: 200, target: device },
  {
    method: 'PATCH',
    path: '/api/devices/:id',
    min: 'operator',
    ok: 200,
    target: device,
    body: () => ({ notes: 'x' }),
  },
  { method: 'DELETE', path: '/api/devices/:id', min: 'operator', ok: 204, target: device },
  {
    method: 'GET',
    path: `/api/devices/:id/metrics?kind=resource&from=${new Date(Date.now() - 3_600_000).toISOString()}`,
    min: 'viewer',
    ok: 200,
    target: device,
  },

  { method: 'GET', path: '/api/device-groups', min: 'viewer', ok: 200 },
  {
    method: 'POST',
    path: '/api/device-groups',
    min: 'operator',
    ok: 201,
    body: () => ({ name: `grp-${uniq()}` }),
  },
  { method: 'GET', path: '/api/device-groups/:id', min: 'viewer', ok: 200, target: group },
  {
    method: 'PATCH',
    path: '/api/device-groups/:id',
    min: 'operator',
    ok: 200,
    target: group,
    body: () => ({ description: 'd' }),
  },
  {
    method: 'PUT',
    path: '/api/device-groups/:id/devices',
    min: 'operator',
    ok: 204,
    target: group,
    body: () => ({ deviceIds: [] }),
  },
  { method: 'DELETE', path: '/api/device-groups/:id', min: 'operator', ok: 204, target: group },

  { method: 'GET', path: '/api/tags', min: 'viewer', ok: 200 },
  { method: 'POST', path: '/api/tags', min: 'operator', ok: 201, body: () => ({ name: `tag-${uniq()}` }) },
  { method: 'GET', path: '/api/tags/:id', min: 'viewer', ok: 200, target: tag },
  {
    method: 'PATCH',
    path: '/api/tags/:id',
    min: 'operator',
    ok: 200,
    target: tag,
    body: () => ({ color: '#ff0000' }),
  },
  {
    method: 'PUT',
    path: '/api/tags/:id/devices',
    min: 'operator',
    ok: 204,
    target: tag,
    body: () => ({ deviceIds: [] }),
  },
  { method: 'DELETE', path: '/api/tags/:id', min: 'operator', ok: 204, target: tag },

  { method: 'GET', path: '/api/collectors', min: 'viewer', ok: 200 },
  { method: 'POST', path: '/api/collectors', min: 'admin', ok: 201, body: () => ({ name: `col-${uniq()}` }) },
  { method: 'GET', path: '/api/collectors/:id', min: 'viewer', ok: 200, target: collector },
  { method: 'POST', path: '/api/collectors/:id/enroll-token', min: 'admin', ok: 201, target: collector },
  { method: 'POST', path: '/api/collectors/:id/revoke', min: 'admin', ok: 200, target: collector },

  { method: 'GET', path: '/api/users', min: 'admin', ok: 200 },
  { method: 'GET', path: '/api/users/:id', min: 'admin', ok: 200, target: user },
  {
    method: 'PATCH',
    path: '/api/users/:id',
    min: 'admin',
    ok: 200,
    target: user,
    body: () => ({ name: 'Renamed' }),
  },
  { method: 'DELETE', path: '/api/users/:id', min: 'admin', ok: 204, target: user },

  { method: 'GET', path: '/api/invitations', min: 'admin', ok: 200 },
  {
    method: 'POST',
    path: '/api/invitations',
    min: 'admin',
    ok: 201,
    body: () => ({ email: `inv-${uniq()}@x.test`, role: 'viewer' }),
  },
  { method: 'DELETE', path: '/api/invitations/:id', min: 'admin', ok: 204, target: invitation },

  { method: 'GET', path: '/api/api-keys', min: 'admin', apiKeys: false, ok: 200 },
  {
    method: 'POST',
    path: '/api/api-keys',
    min: 'admin',
    apiKeys: false,
    ok: 201,
    body: () => ({ name: `key-${uniq()}`, role: 'viewer' }),
  },
  { method: 'DELETE', path: '/api/api-keys/:id', min: 'admin', apiKeys: false, ok: 204, target: apiKey },

  { method: 'GET', path: '/api/audit-logs', min: 'admin', ok: 200 },
  { method: 'GET', path: '/api/audit-logs/export.csv', min: 'admin', ok: 200 },
  { method: 'GET', path: '/api/kms-events', min: 'admin', ok: 200 },
  { method: 'POST', path: '/api/kms-events/rewrap', min: 'admin', apiKeys: false, ok: 200 },

  { method: 'GET', path: '/api/hub/stats', min: 'admin', ok: 200 },
  { method: 'POST', path: '/api/hub/maintenance', min: 'admin', ok: 200 },
  { method: 'GET', path: '/api/settings/backup-policy', min: 'admin', ok: 200 },
  {
    method: 'PUT',
    path: '/api/settings/backup-policy',
    min: 'admin',
    ok: 200,
    body: () => ({ nightlyWindow: '02:00-04:00' }),
  },
  ...ALERTING_ROUTES,
  ...CONFIG_BATCH_ROUTES,
  ...CONFIG_ROUTES,
];
