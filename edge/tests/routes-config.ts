// The configuration-operation routes (issue #8) for the role matrix, the isolation probes and the bad-input
// sweep (see routes.ts). The matrix world has no collector: routes that need the device's collector answer
// 409 `no_collector` once the role and the tenant were checked.
import type { World } from './fixtures';
import type { RouteCase } from './routes';

let n = 0;
const uniq = () => `${Date.now().toString(36)}c${(n++).toString(36)}`;

async function insert(w: World, query: string, params: (string | null)[]): Promise<string> {
  const [row] = await w.sql.unsafe<{ id: string }[]>(query, params);
  return row!.id;
}

const device = (w: World, t: string) =>
  insert(w, `INSERT INTO devices (tenant_id, name, host) VALUES ($1, $2, '10.9.9.7') RETURNING id`, [
    t,
    `cd-${uniq()}`,
  ]);

const operation = async (w: World, t: string) =>
  insert(
    w,
    `INSERT INTO config_operations (tenant_id, device_id, kind, mode, state, commands)
     VALUES ($1, $2, 'changes', 'safe', 'applying', '["/system identity set name=x"]') RETURNING id`,
    [t, await device(w, t)],
  );

const snapshot = async (w: World, t: string) =>
  insert(
    w,
    `INSERT INTO config_snapshots (tenant_id, device_id, seq, taken_at, trigger, content_hash, size, sensitive,
       content_enc) VALUES ($1, $2, 1, now(), 'manual', repeat('a', 64), 1, false, '\\x00') RETURNING id`,
    [t, await device(w, t)],
  );

export const CONFIG_ROUTES: RouteCase[] = [
  {
    method: 'GET',
    path: '/api/devices/:id/config/menu?path=/ip/address',
    min: 'viewer',
    ok: 409,
    target: device,
  },
  {
    method: 'POST',
    path: '/api/devices/:id/config/preview',
    min: 'viewer',
    ok: 200,
    target: device,
    body: () => ({
      changes: [
        { action: 'add', path: '/ip/address', values: { address: '10.0.0.1/24', interface: 'ether2' } },
      ],
    }),
  },
  {
    method: 'POST',
    path: '/api/devices/:id/config/apply',
    min: 'operator',
    ok: 409,
    target: device,
    body: () => ({
      changes: [{ action: 'set', path: '/system/identity', values: { name: 'x' } }],
      mode: 'safe',
    }),
  },
  { method: 'POST', path: '/api/devices/:id/config/binary-backup', min: 'operator', ok: 409, target: device },
  { method: 'GET', path: '/api/config-operations', min: 'viewer', ok: 200 },
  { method: 'GET', path: '/api/config-operations/:id', min: 'viewer', ok: 200, target: operation },
  { method: 'POST', path: '/api/config-operations/:id/confirm', min: 'operator', ok: 409, target: operation },
  {
    method: 'POST',
    path: '/api/config-backups/:id/restore',
    min: 'operator',
    ok: 409,
    target: snapshot,
    body: () => ({ mode: 'safe' }),
  },
];
