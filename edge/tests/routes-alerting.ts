// The alerting routes for the role matrix, the isolation probes and the bad-input sweep (see routes.ts).
// Valid bodies carry no numbers: the sweep swaps every field for a number and expects a 400.
import type { World } from './fixtures';
import type { RouteCase } from './routes';

let n = 0;
const uniq = () => `${Date.now().toString(36)}a${(n++).toString(36)}`;

async function insert(w: World, query: string, params: (string | null)[]): Promise<string> {
  const [row] = await w.sql.unsafe<{ id: string }[]>(query, params);
  return row!.id;
}

const rule = (w: World, t: string) =>
  insert(
    w,
    `INSERT INTO alert_rules (tenant_id, name, metric) VALUES ($1, $2, 'device_offline') RETURNING id`,
    [t, `r-${uniq()}`],
  );

const alert = async (w: World, t: string) => {
  const device = await insert(
    w,
    `INSERT INTO devices (tenant_id, name, host) VALUES ($1, $2, '10.9.9.8') RETURNING id`,
    [t, `ad-${uniq()}`],
  );
  return insert(
    w,
    `INSERT INTO alerts (tenant_id, rule_name, metric, severity, device_id, started_at)
     VALUES ($1, 'Down', 'device_offline', 'critical', $2, now()) RETURNING id`,
    [t, device],
  );
};

const maintenanceWindow = (w: World, t: string) =>
  insert(
    w,
    `INSERT INTO maintenance_windows (tenant_id, name, kind, starts_at, ends_at)
     VALUES ($1, $2, 'once', now(), now() + interval '1 hour') RETURNING id`,
    [t, `mw-${uniq()}`],
  );

/** A webhook channel without a signing secret: "send test" records a failure without any network. */
const channel = (w: World, t: string) =>
  insert(
    w,
    `INSERT INTO notification_channels (tenant_id, name, kind, config)
     VALUES ($1, $2, 'webhook', '{"url":"http://127.0.0.1:1/hook"}') RETURNING id`,
    [t, `ch-${uniq()}`],
  );

export const ALERTING_ROUTES: RouteCase[] = [
  { method: 'GET', path: '/api/alert-rules', min: 'viewer', ok: 200 },
  {
    method: 'POST',
    path: '/api/alert-rules',
    min: 'operator',
    ok: 201,
    body: () => ({ name: `rule-${uniq()}`, metric: 'device_offline', severity: 'critical' }),
  },
  { method: 'GET', path: '/api/alert-rules/:id', min: 'viewer', ok: 200, target: rule },
  {
    method: 'PATCH',
    path: '/api/alert-rules/:id',
    min: 'operator',
    ok: 200,
    target: rule,
    body: () => ({ name: `renamed-${uniq()}` }),
  },
  { method: 'DELETE', path: '/api/alert-rules/:id', min: 'operator', ok: 204, target: rule },

  { method: 'GET', path: '/api/alerts', min: 'viewer', ok: 200 },
  { method: 'GET', path: '/api/alerts/:id', min: 'viewer', ok: 200, target: alert },
  { method: 'POST', path: '/api/alerts/:id/acknowledge', min: 'operator', ok: 200, target: alert },
  { method: 'POST', path: '/api/alerts/:id/resolve', min: 'operator', ok: 200, target: alert },

  { method: 'GET', path: '/api/maintenance-windows', min: 'viewer', ok: 200 },
  {
    method: 'POST',
    path: '/api/maintenance-windows',
    min: 'operator',
    ok: 201,
    body: () => ({
      name: `mw-${uniq()}`,
      kind: 'once',
      startsAt: '2026-12-01T02:00:00Z',
      endsAt: '2026-12-01T04:00:00+01:00',
    }),
  },
  { method: 'GET', path: '/api/maintenance-windows/:id', min: 'viewer', ok: 200, target: maintenanceWindow },
  {
    method: 'PATCH',
    path: '/api/maintenance-windows/:id',
    min: 'operator',
    ok: 200,
    target: maintenanceWindow,
    body: () => ({ name: `mw2-${uniq()}` }),
  },
  {
    method: 'DELETE',
    path: '/api/maintenance-windows/:id',
    min: 'operator',
    ok: 204,
    target: maintenanceWindow,
  },

  { method: 'GET', path: '/api/notification-channels', min: 'operator', ok: 200 },
  {
    method: 'POST',
    path: '/api/notification-channels',
    min: 'admin',
    ok: 201,
    body: () => ({
      name: `hook-${uniq()}`,
      kind: 'webhook',
      config: { url: 'https://hooks.example.test/tod' },
      secrets: { signingSecret: 'a-signing-secret-of-some-length' },
    }),
  },
  { method: 'GET', path: '/api/notification-channels/:id', min: 'operator', ok: 200, target: channel },
  {
    method: 'PATCH',
    path: '/api/notification-channels/:id',
    min: 'admin',
    ok: 200,
    target: channel,
    body: () => ({ name: `ch2-${uniq()}` }),
  },
  { method: 'DELETE', path: '/api/notification-channels/:id', min: 'admin', ok: 204, target: channel },
  { method: 'POST', path: '/api/notification-channels/:id/test', min: 'admin', ok: 200, target: channel },
  {
    method: 'GET',
    path: '/api/notification-channels/:id/deliveries',
    min: 'operator',
    ok: 200,
    target: channel,
  },
];
