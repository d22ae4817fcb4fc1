// The live pipeline end to end with every real part: a simulated RouterOS device, a collector enrolled through
// the edge and polling it, nats-server, the TenantHub in workerd and Postgres. The device's status and samples
// reach an SSE client of its tenant and the database; when the device goes down the client sees it, and again
// when it comes back.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { jetstreamManager } from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/transport-node';
import { EVENT_STREAM, eventSubject, MetricsResponse } from '@tod/contracts';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ManualClock } from '../collector/src/clock';
import type { Collector } from '../collector/src/collector';
import { startEnrolledCollector, stepWhenIdle } from '../collector/tests/harness';
import { createWorld, type World } from '../edge/tests/fixtures';
import { SseClient } from '../edge/tests/sse-client';
import { type Fleet, startFleet } from '../simulator/src/fleet';

let w: World;
let fleet: Fleet;
let nc: NatsConnection;
let collector: Collector;
let stateDir = '';
const clock = new ManualClock(Date.now());
// The edge registers devices with a 60 s poll interval.
const POLL_STEP_MS = 61_000;

async function poll(done: () => boolean | Promise<boolean>, what: string, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await done())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

beforeAll(async () => {
  w = await createWorld({ nats: true });
  stateDir = await mkdtemp(join(tmpdir(), 'tod-live-pipeline-'));
  fleet = await startFleet({ devices: 1, tls: false });
});
afterAll(async () => {
  await collector?.stop(2000);
  await nc?.close();
  await fleet?.stop();
  await w?.sql.end();
  if (stateDir) await rm(stateDir, { recursive: true, force: true });
});

type StatusBody = { deviceId: string; data: { status: string } };

describe('simulator → collector → NATS → TenantHub → SSE and Postgres', () => {
  it('streams a device’s status and samples, and its going down and coming back', async () => {
    const created = await w.a.admin.post('/api/collectors', { name: 'site' });
    const { id: collectorId, enrollToken } = (await created.json()) as { id: string; enrollToken: string };
    ({ nc, collector } = await startEnrolledCollector({
      edgeUrl: w.edge.url,
      enrollToken,
      stateDir,
      clock,
      // The first backup right after the first poll.
      env: { BACKUP_STARTUP_SPREAD_S: '0' },
    }));

    const sse = await SseClient.open(w.a.viewer, '/api/sse?topics=status,metrics');
    expect(sse.status).toBe(200);
    const sim = fleet.manifest.devices[0]!;
    const res = await w.a.operator.post('/api/devices', {
      name: 'sim-1',
      host: sim.host,
      port: sim.port,
      tlsMode: 'plain',
      collectorId,
      credentials: fleet.manifest.credentials,
    });
    expect(res.status, await res.clone().text()).toBe(201);
    const { id: deviceId } = (await res.json()) as { id: string };

    const statuses = () =>
      sse
        .deviceEvents()
        .filter((e) => e.event === 'status' && e.body.deviceId === deviceId)
        .map((e) => (e.body as unknown as StatusBody).data.status);
    // The collector's clock is driven by the test: one poll interval per step.
    await poll(() => collector.deviceCount === 1, 'the collector to know the device');
    await stepWhenIdle(collector, clock, POLL_STEP_MS);
    await sse.until(() => statuses().includes('online'), 30_000, 'the device online');
    await sse.until(
      () => sse.deviceEvents().find((e) => e.event === 'resource' && e.body.deviceId === deviceId),
      30_000,
      'a resource sample',
    );
    const [row] = await w.sql<
      { status: string; last_seen_at: Date | null; routeros_version: string | null; tenant_id: string }[]
    >`
      SELECT status, last_seen_at, routeros_version, tenant_id FROM devices WHERE id = ${deviceId}`;
    expect(row!.status).toBe('online');
    expect(row!.last_seen_at).not.toBeNull();
    expect(row!.routeros_version).toBe(sim.version);

    // The first configuration backup travels sealed to the tenant's export key: the stream holds no
    // configuration text, and the edge opened and stored it.
    const snapshots = () =>
      w.sql<{ n: number }[]>`SELECT count(*)::int AS n FROM config_snapshots WHERE device_id = ${deviceId}`;
    await poll(async () => (await snapshots())[0]!.n === 1, 'the first configuration backup stored');
    const jsm = await jetstreamManager(nc);
    const msg = await jsm.streams.getMessage(EVENT_STREAM.name, {
      last_by_subj: eventSubject(row!.tenant_id, deviceId, 'config-snapshot'),
    });
    const wire = msg!.string();
    expect(wire).toContain('"sealedExport"');
    expect(wire).not.toContain('/system identity');
    const download = await w.a.operator.get(`/api/devices/${deviceId}/config/snapshots`);
    expect(download.status).toBe(200);

    await fleet.device(0).setFaults({ unreachable: true });
    await stepWhenIdle(collector, clock, POLL_STEP_MS);
    await sse.until(() => statuses().slice(-1)[0] !== 'online', 45_000, 'the device down');
    expect(statuses().slice(-1)[0]).toBe('unreachable');
    await fleet.device(0).clearFaults();
    await stepWhenIdle(collector, clock, POLL_STEP_MS);
    await sse.until(() => statuses().slice(-1)[0] === 'online', 45_000, 'the device back online');
    sse.close();

    const metrics = await w.a.viewer.get(
      // The collector's clock ran ahead of the wall clock by the steps the test took.
      `/api/devices/${deviceId}/metrics?kind=resource&from=${new Date(Date.now() - 3_600_000).toISOString()}&to=${new Date(clock.now() + 60_000).toISOString()}`,
    );
    expect(metrics.status).toBe(200);
    const body = MetricsResponse.parse(await metrics.json());
    expect(body.resolution).toBe('raw');
    expect(body.points.length).toBeGreaterThan(0);
  }, 150_000);
});
