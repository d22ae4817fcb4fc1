// A collector that dies says nothing more, so no `unreachable` status ever comes: the TenantHub notices the
// silence on its alarm, marks the devices `offline` (stored, streamed) and the collector offline, and an
// offline rule fires through the usual engine and hysteresis and notifies. A restarted collector brings the
// devices back and the alert resolves. Every real part: simulator, enrolled collector, nats-server, workerd,
// Postgres, a loopback webhook receiver.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { NatsConnection } from '@nats-io/transport-node';
import { AlertNotice } from '@tod/contracts';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ManualClock } from '../collector/src/clock';
import type { Collector } from '../collector/src/collector';
import { restartCollector, startEnrolledCollector, stepWhenIdle } from '../collector/tests/harness';
import { createWorld, type World } from '../edge/tests/fixtures';
import { type HttpReceiver, httpReceiver } from '../edge/tests/receivers';
import { SseClient } from '../edge/tests/sse-client';
import { type Fleet, startFleet } from '../simulator/src/fleet';

let w: World;
let fleet: Fleet;
let hook: HttpReceiver;
let nc: NatsConnection | null = null;
let collector: Collector | null = null;
let stateDir = '';
const clock = new ManualClock(Date.now());
const POLL_STEP_MS = 61_000;

async function poll<T>(get: () => T | Promise<T>, what: string, timeoutMs = 60_000): Promise<NonNullable<T>> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await get();
    if (v) return v as NonNullable<T>;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

async function json<T>(res: Response, status: number): Promise<T> {
  const text = await res.text();
  expect(res.status, text).toBe(status);
  return JSON.parse(text) as T;
}

beforeAll(async () => {
  [w, hook, fleet] = await Promise.all([
    // Silent for 3 s = offline (production: 180 s, three 60 s polls).
    createWorld({ nats: true, vars: { DEVICE_OFFLINE_AFTER_SECONDS: '3' } }),
    httpReceiver(),
    startFleet({ devices: 1, tls: false }),
  ]);
  stateDir = await mkdtemp(join(tmpdir(), 'tod-device-offline-'));
});
afterAll(async () => {
  await collector?.stop(2000);
  await nc?.close();
  await fleet?.stop();
  await w?.sql.end();
  if (stateDir) await rm(stateDir, { recursive: true, force: true });
});

type StatusBody = { deviceId: string; data: { status: string; reason?: string } };
type AlertBody = { kind: string; alert: { id: string; deviceId: string; state: string } };

describe('a collector that dies', () => {
  it('makes its devices and itself offline, fires the offline rule, and resolves when it is back', async () => {
    const created = await w.a.admin.post('/api/collectors', { name: 'site' });
    const { id: collectorId, enrollToken } = (await created.json()) as { id: string; enrollToken: string };
    const sim = fleet.manifest.devices[0]!;
    const device = await json<{ id: string }>(
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
    const channel = await json<{ id: string }>(
      await w.a.admin.post('/api/notification-channels', {
        name: 'noc hook',
        kind: 'webhook',
        config: { url: `${hook.url}/alerts` },
        secrets: { signingSecret: 'hook-secret-offline-0123456789' },
      }),
      201,
    );
    await json(
      await w.a.operator.post('/api/alert-rules', {
        name: 'Device offline',
        metric: 'device_offline',
        severity: 'critical',
        channelIds: [channel.id],
      }),
      201,
    );
    const sse = await SseClient.open(w.a.viewer, '/api/sse?topics=status,alerts');
    expect(sse.status).toBe(200);
    const statuses = () =>
      sse
        .deviceEvents()
        .filter((e) => e.event === 'status' && e.body.deviceId === device.id)
        .map((e) => (e.body as unknown as StatusBody).data);
    const alerts = () =>
      sse.events.filter((e) => e.event === 'alert').map((e) => JSON.parse(e.data) as AlertBody);
    const collectorEvents = () =>
      sse.events
        .filter((e) => e.event === 'collector')
        .map((e) => JSON.parse(e.data) as { collectorId: string; status: string });
    const notices = () => hook.requests.map((r) => AlertNotice.parse(JSON.parse(r.body)));
    const collectorStatus = async () =>
      (await json<{ status: string }>(await w.a.viewer.get(`/api/collectors/${collectorId}`), 200)).status;
    const deviceRow = async () =>
      (await w.sql<{ status: string }[]>`SELECT status FROM devices WHERE id = ${device.id}`)[0]!.status;

    ({ nc, collector } = await startEnrolledCollector({ edgeUrl: w.edge.url, enrollToken, stateDir, clock }));
    await poll(() => collector!.deviceCount === 1, 'the collector to know the device');
    await stepWhenIdle(collector, clock, POLL_STEP_MS);
    await poll(() => statuses().some((s) => s.status === 'online'), 'the device online');
    expect(await collectorStatus()).toBe('online');

    // The collector dies: nothing more from it.
    await collector.stop(2000);
    await nc.close();
    collector = null;
    nc = null;

    const offline = await poll(
      () => statuses().find((s) => s.status === 'offline'),
      'an offline status from the hub',
    );
    expect(offline.reason).toMatch(/no report from its collector/);
    const fired = await poll(
      () => alerts().find((a) => a.kind === 'fired' && a.alert.deviceId === device.id),
      'the offline alert',
    );
    // Hysteresis: it fired on the second offline sample, not the first.
    expect(statuses().filter((s) => s.status === 'offline').length).toBeGreaterThanOrEqual(2);
    await poll(() => notices().some((n) => n.event === 'firing'), 'the firing webhook');
    expect(notices()[0]).toMatchObject({ event: 'firing', alert: { id: fired.alert.id } });
    expect(await deviceRow()).toBe('offline');
    await poll(async () => (await collectorStatus()) === 'offline', 'the collector offline');
    await poll(
      () => collectorEvents().some((c) => c.collectorId === collectorId && c.status === 'offline'),
      'the collector offline on SSE',
    );

    // Back: the restarted collector polls, the device is online, and two good polls resolve the alert.
    ({ nc, collector } = await restartCollector({ stateDir, clock }));
    await poll(() => collector!.deviceCount === 1, 'the restarted collector to know the device');
    const resolved = () => alerts().find((a) => a.kind === 'resolved' && a.alert.id === fired.alert.id);
    await poll(async () => {
      await stepWhenIdle(collector!, clock, POLL_STEP_MS);
      await new Promise((r) => setTimeout(r, 500));
      return resolved();
    }, 'the resolution');
    expect(statuses().at(-1)?.status).toBe('online');
    await poll(() => notices().some((n) => n.event === 'resolved'), 'the resolved webhook');
    expect(notices().map((n) => n.event)).toEqual(['firing', 'resolved']);
    expect(await deviceRow()).toBe('online');
    await poll(async () => (await collectorStatus()) === 'online', 'the collector online again');
    sse.close();
  }, 240_000);
});
