// Configuration operations end to end with every real part: a simulated RouterOS device (its own manual
// clock, so its revert scheduler runs when the test says), a collector enrolled through the edge, nats-server,
// the edge in workerd with its TenantHub, and Postgres. Preview gives the exact commands; a standard apply
// changes the device; a safe apply that is confirmed stays, one that is not is reverted by the device; a change
// that disables the API service cuts the collector off, the device reverts by itself and comes back; a device
// error fails with the device's text; a restore of an older snapshot brings its configuration back. Every
// state reaches the browser as SSE `config-operation`.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { NatsConnection } from '@nats-io/transport-node';
import type { MenuResponse, OperationDto } from '@tod/contracts';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { exportConfig } from '../collector/src/backup/export';
import { ManualClock } from '../collector/src/clock';
import type { Collector } from '../collector/src/collector';
import { RouterSession } from '../collector/src/routeros/session';
import { pollSteps, startEnrolledCollector } from '../collector/tests/harness';
import { createWorld, type World } from '../edge/tests/fixtures';
import { SseClient } from '../edge/tests/sse-client';
import { ManualClock as SimClock } from '../simulator/src/device/clock';
import { type Fleet, startFleet } from '../simulator/src/fleet';

let w: World;
let fleet: Fleet;
let nc: NatsConnection;
let collector: Collector;
let stateDir = '';
let collectorStopped = false;
const simClock = new SimClock(Date.now());
const clock = new ManualClock(Date.now());
// The edge registers devices with a 60 s poll interval.
const POLL_STEP_MS = 61_000;

async function poll<T>(
  read: () => Promise<T>,
  done: (v: T) => boolean,
  what: string,
  timeoutMs = 45_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await read();
    if (done(v)) return v;
    if (Date.now() > deadline)
      throw new Error(`timed out waiting for ${what}: ${JSON.stringify(v).slice(0, 500)}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

async function json<T>(res: Response, status: number): Promise<T> {
  const text = await res.text();
  expect(res.status, text).toBe(status);
  return JSON.parse(text) as T;
}

async function onDevice<T>(fn: (s: RouterSession) => Promise<T>): Promise<T> {
  const m = fleet.manifest.devices[0]!;
  const s = await RouterSession.open(
    { host: m.host, port: m.port, tlsPort: m.port, tlsMode: 'plain', username: 'admin', password: 'admin' },
    { connectTimeoutMs: 5000, commandTimeoutMs: 5000 },
  );
  try {
    return await fn(s);
  } finally {
    s.close();
  }
}
const identity = () => onDevice(async (s) => (await s.run('/system/identity/print'))[0]?.name);
const deviceExport = () => onDevice((s) => exportConfig(s, { showSensitive: false, delay: async () => {} }));

beforeAll(async () => {
  [w, fleet] = await Promise.all([
    createWorld({ nats: true }),
    startFleet({ devices: 1, tls: false, clock: simClock, rebootDurationMs: 2000 }),
  ]);
  stateDir = await mkdtemp(join(tmpdir(), 'tod-config-ops-'));
});
afterAll(async () => {
  if (!collectorStopped) await collector?.stop(2000);
  await nc?.close();
  await fleet?.stop();
  await w?.sql.end();
  if (stateDir) await rm(stateDir, { recursive: true, force: true });
});

describe('config editor and safe apply: simulator → collector → edge', () => {
  it('previews, applies, confirms, reverts, survives a lock-out, reports device errors and restores', async () => {
    const created = await w.a.admin.post('/api/collectors', { name: 'site' });
    const { id: collectorId, enrollToken } = (await created.json()) as { id: string; enrollToken: string };
    const sim = fleet.manifest.devices[0]!;
    const { id: deviceId } = await json<{ id: string }>(
      await w.a.operator.post('/api/devices', {
        name: 'edge-router',
        host: sim.host,
        port: sim.port,
        tlsMode: 'plain',
        collectorId,
        credentials: fleet.manifest.credentials,
      }),
      201,
    );
    const sse = await SseClient.open(w.a.viewer, '/api/sse?topics=status,config');
    ({ nc, collector } = await startEnrolledCollector({
      edgeUrl: w.edge.url,
      enrollToken,
      stateDir,
      clock,
      env: { BACKUP_STARTUP_SPREAD_S: '0', COMMAND_TIMEOUT_S: '5', BREAKER_THRESHOLD: '100' },
    }));
    await poll(
      async () => collector.deviceCount,
      (n) => n === 1,
      'the collector to know the device',
    );
    const statuses = () =>
      sse
        .deviceEvents()
        .filter((e) => e.event === 'status' && e.body.deviceId === deviceId)
        .map((e) => (e.body as unknown as { data: { status: string } }).data.status);
    /** One poll interval on both clocks (the device's scheduler runs on its own). */
    // A step ends when the collector's slot (poll, safe-apply check, backup) finished and its status reached
    // the browser, so the next step's poll is due on time.
    const inFlight = () =>
      Number(/tod_collector_polls_in_flight (\d+)/.exec(collector.metrics.render())?.[1]);
    const step = async (ms = POLL_STEP_MS) => {
      const n = statuses().length;
      const steps = pollSteps(collector.metrics);
      simClock.advance(ms);
      await clock.advance(ms);
      await poll(
        async () => [pollSteps(collector.metrics), inFlight()],
        ([k, f]) => k! > steps && f === 0,
        'the slot finished',
      );
      await sse.until(() => statuses().length > n, 45_000, 'the next poll');
    };
    const snapshots = async () =>
      (
        await json<{ items: { id: string; seq: number }[] }>(
          await w.a.viewer.get(`/api/devices/${deviceId}/config/snapshots`),
          200,
        )
      ).items;
    await step();
    await sse.until(() => statuses().includes('online'), 45_000, 'the device online');
    const [first] = await poll(snapshots, (s) => s.length === 1, 'the first snapshot');
    const originalName = await identity();
    const originalExport = (await deviceExport()).text;

    const operation = (id: string) =>
      w.a.viewer.get(`/api/config-operations/${id}`).then((r) => json<OperationDto>(r, 200));
    const sseStates = (id: string) =>
      sse.events
        .filter((e) => e.event === 'config-operation')
        .map((e) => JSON.parse(e.data) as OperationDto)
        .filter((o) => o.id === id)
        .map((o) => o.state);

    // Live menu read: rows with ids, field names; a viewer sees it.
    const menu = await json<MenuResponse>(
      await w.a.viewer.get(`/api/devices/${deviceId}/config/menu?path=/ip/address`),
      200,
    );
    expect(menu.rows.length).toBeGreaterThan(0);
    expect(menu.fields).toEqual(expect.arrayContaining(['.id', 'address', 'interface']));

    // Preview: the exact commands.
    const changes = [
      {
        action: 'add',
        path: '/ip/address',
        values: { address: '10.77.0.1/24', interface: 'ether2', comment: 'lab "B" $x' },
      },
    ];
    expect(
      await json(await w.a.viewer.post(`/api/devices/${deviceId}/config/preview`, { changes }), 200),
    ).toEqual({
      commands: ['/ip address add address=10.77.0.1/24 interface=ether2 comment="lab \\"B\\" \\$x"'],
    });
    expect(
      (await w.a.viewer.post(`/api/devices/${deviceId}/config/apply`, { changes, mode: 'standard' })).status,
    ).toBe(403);
    expect(
      (await w.a.operator.post(`/api/devices/${deviceId}/config/preview`, { changes: [{ action: 'drop' }] }))
        .status,
    ).toBe(400);

    // Standard apply changes the device.
    const std = (
      await json<{ operation: OperationDto }>(
        await w.a.operator.post(`/api/devices/${deviceId}/config/apply`, { changes, mode: 'standard' }),
        202,
      )
    ).operation;
    expect(std).toMatchObject({ state: 'applied', mode: 'standard', kind: 'changes', error: null });
    const addresses = await onDevice((s) => s.run('/ip/address/print'));
    expect(addresses.find((a) => a.address === '10.77.0.1/24')).toMatchObject({ comment: 'lab "B" $x' });
    await sse.until(() => sseStates(std.id).includes('applied'), 45_000, 'applied on SSE');

    // Safe apply + confirm keeps the change.
    const safe = (
      await json<{ operation: OperationDto }>(
        await w.a.operator.post(`/api/devices/${deviceId}/config/apply`, {
          changes: [{ action: 'set', path: '/system/identity', values: { name: 'confirmed-name' } }],
          mode: 'safe',
          timeoutSeconds: 120,
        }),
        202,
      )
    ).operation;
    expect(safe).toMatchObject({ state: 'pending-confirmation', timeoutSeconds: 120 });
    expect(safe.confirmDeadline).not.toBeNull();
    expect((await w.a.viewer.post(`/api/config-operations/${safe.id}/confirm`)).status).toBe(403);
    expect(
      await json(await w.a.operator.post(`/api/config-operations/${safe.id}/confirm`), 200),
    ).toMatchObject({
      state: 'confirmed',
    });
    expect((await w.a.operator.post(`/api/config-operations/${safe.id}/confirm`)).status).toBe(409);
    await step(200_000);
    expect(await identity()).toBe('confirmed-name');
    await sse.until(() => sseStates(safe.id).includes('confirmed'), 45_000, 'confirmed on SSE');

    // Safe apply without confirmation: the device reverts by itself, the operation ends reverted.
    const lapse = (
      await json<{ operation: OperationDto }>(
        await w.a.operator.post(`/api/devices/${deviceId}/config/apply`, {
          script: '/system identity set name=never-confirmed',
          mode: 'safe',
          timeoutSeconds: 30,
        }),
        202,
      )
    ).operation;
    expect(lapse).toMatchObject({ state: 'pending-confirmation', kind: 'script' });
    expect(await identity()).toBe('never-confirmed');
    await step(); // the revert runs at 30 s on the device, which reboots …
    await step(); // … and the next poll finds it without the revert entry
    await poll(
      () => operation(lapse.id),
      (o) => o.state === 'reverted',
      'the revert',
    );
    expect(await identity()).toBe('confirmed-name');
    expect((await w.a.operator.post(`/api/config-operations/${lapse.id}/confirm`)).status).toBe(409);

    // A change that cuts the collector off (API service disabled): unreachable, reverted, back online.
    const services = await json<MenuResponse>(
      await w.a.operator.get(`/api/devices/${deviceId}/config/menu?path=/ip/service`),
      200,
    );
    const api = services.rows.find((r) => r.name === 'api')!;
    const lockout = (
      await json<{ operation: OperationDto }>(
        await w.a.operator.post(`/api/devices/${deviceId}/config/apply`, {
          changes: [{ action: 'disable', path: '/ip/service', id: api['.id'] }],
          mode: 'safe',
          timeoutSeconds: 90,
        }),
        202,
      )
    ).operation;
    expect(lockout.state).toBe('pending-confirmation');
    expect((await w.a.operator.get(`/api/devices/${deviceId}/config/menu?path=/ip/service`)).status).toBe(
      409,
    );
    const seen = statuses().length;
    await step();
    await sse.until(
      () => statuses().length > seen && statuses().at(-1) === 'unreachable',
      45_000,
      'unreachable',
    );
    await step();
    await step();
    await poll(
      () => operation(lockout.id),
      (o) => o.state === 'reverted',
      'the lock-out reverted',
    );
    await sse.until(() => statuses().at(-1) === 'online', 45_000, 'back online');
    await sse.until(() => sseStates(lockout.id).includes('reverted'), 45_000, 'reverted on SSE');
    expect(sseStates(lockout.id)).toEqual(expect.arrayContaining(['pending-confirmation', 'reverted']));

    // A device error fails with the device's own text.
    const bad = (
      await json<{ operation: OperationDto }>(
        await w.a.operator.post(`/api/devices/${deviceId}/config/apply`, {
          changes: [
            { action: 'add', path: '/ip/address', values: { address: '10.78.0.1/24', interface: 'nope0' } },
          ],
          mode: 'safe',
        }),
        202,
      )
    ).operation;
    expect(bad.state).toBe('failed');
    expect(bad.error).toContain('input does not match any value of interface');

    // Restore the first snapshot through safe apply: its configuration comes back.
    await step();
    await poll(snapshots, (s) => s.length >= 2, 'snapshots of the changes');
    const restore = (
      await json<{ operation: OperationDto }>(
        await w.a.operator.post(`/api/config-backups/${first!.id}/restore`, {
          mode: 'safe',
          timeoutSeconds: 120,
        }),
        202,
      )
    ).operation;
    expect(restore).toMatchObject({ kind: 'restore', state: 'pending-confirmation', snapshotId: first!.id });
    expect(JSON.stringify(restore.commands)).not.toContain('/ip address');
    expect(
      await json(await w.a.operator.post(`/api/config-operations/${restore.id}/confirm`), 200),
    ).toMatchObject({
      state: 'confirmed',
    });
    expect(await identity()).toBe(originalName);
    const restored = (await deviceExport()).text;
    expect(restored).not.toContain('10.77.0.1/24');
    const body = (t: string) =>
      t
        .split('\n')
        .filter((l) => l && !l.startsWith('#'))
        .map((l) => l.split(' ').sort().join(' '))
        .sort();
    expect(body(restored)).toEqual(body(originalExport));

    // Listed, filtered, and audited.
    const list = await json<{ items: OperationDto[] }>(
      await w.a.viewer.get(`/api/config-operations?deviceId=${deviceId}&state=reverted`),
      200,
    );
    expect(list.items.map((o) => o.id).sort()).toEqual([lapse.id, lockout.id].sort());
    const audit = await w.sql<{ action: string }[]>`
      SELECT action FROM audit_log WHERE tenant_id = ${w.tenantA} AND action LIKE 'config.%'`;
    expect(new Set(audit.map((a) => a.action))).toEqual(
      new Set(['config.preview', 'config.apply', 'config.confirm', 'config.restore']),
    );
    // Tenant B sees none of it.
    expect((await w.b.admin.get(`/api/config-operations/${restore.id}`)).status).toBe(404);
    expect((await w.b.admin.post(`/api/config-operations/${restore.id}/confirm`)).status).toBe(404);
    expect((await w.b.admin.get(`/api/devices/${deviceId}/config/menu?path=/ip/address`)).status).toBe(404);
    expect(
      (
        await w.b.admin.post(`/api/devices/${deviceId}/config/apply`, {
          script: '/system reboot',
          mode: 'standard',
        })
      ).status,
    ).toBe(404);
    expect(
      (await json<{ items: OperationDto[] }>(await w.b.admin.get('/api/config-operations'), 200)).items,
    ).toEqual([]);

    // Without a collector online: an explicit state, never a 5xx.
    await collector.stop(2000);
    collectorStopped = true;
    const offline = await w.a.operator.get(`/api/devices/${deviceId}/config/menu?path=/ip/address`);
    expect(offline.status).toBe(409);
    expect(((await offline.json()) as { error: { code: string } }).error.code).toBe('collector_offline');
    sse.close();
  }, 300_000);
});
