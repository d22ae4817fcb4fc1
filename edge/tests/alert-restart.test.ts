// Alert state across an edge restart that loses the Durable Objects' storage (workerd without persistence,
// like a redeployment to a fresh location): the TenantHub reads the engine's hysteresis state and the open
// alerts back from Postgres, so a breach run keeps its count, an open alert is not fired twice while the
// breach goes on, and it resolves when the condition clears.
import { randomUUID } from 'node:crypto';
import { type JetStreamClient, jetstream, jetstreamManager } from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/nats-core';
import { connect } from '@nats-io/transport-node';
import { type DeviceEvent, EVENT_STREAM, eventSubject } from '@tod/contracts';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startEdge } from '../../tests/env/edge';
import { Session } from './client';
import { createWorld, type World } from './fixtures';
import { SseClient } from './sse-client';

let w: World;
let nc: NatsConnection;
let js: JetStreamClient;
let collector = '';
let pending = '';
let firing = '';

async function insertId(query: string, params: string[]): Promise<string> {
  const [row] = await w.sql.unsafe<{ id: string }[]>(query, params);
  return row!.id;
}

beforeAll(async () => {
  w = await createWorld({ nats: true });
  nc = await connect({ servers: w.natsUrl! });
  const jsm = await jetstreamManager(nc);
  await jsm.streams.add({
    name: EVENT_STREAM.name,
    subjects: [...EVENT_STREAM.subjects],
    duplicate_window: EVENT_STREAM.duplicateWindowMs * 1_000_000,
  });
  js = jetstream(nc);
  collector = await insertId('INSERT INTO collectors (tenant_id, name) VALUES ($1, $2) RETURNING id', [
    w.tenantA,
    'site',
  ]);
  const dev =
    'INSERT INTO devices (tenant_id, name, host, collector_id) VALUES ($1, $2, $3, $4) RETURNING id';
  pending = await insertId(dev, [w.tenantA, 'pending', '10.0.0.1', collector]);
  firing = await insertId(dev, [w.tenantA, 'firing', '10.0.0.2', collector]);
  return () => w.sql.end();
});
afterAll(async () => {
  await nc?.close();
});

const base = Date.now();
let tick = 0;
/** A resource sample, each later than the one before. */
async function sample(deviceId: string, cpuLoad: number): Promise<string> {
  const e: DeviceEvent = {
    v: 1,
    id: randomUUID(),
    tenantId: w.tenantA,
    deviceId,
    collectorId: collector,
    at: new Date(base + ++tick * 1000).toISOString(),
    kind: 'resource',
    data: {
      identity: 'r',
      cpuLoad,
      freeMemory: 100,
      totalMemory: 200,
      freeHdd: 10,
      totalHdd: 20,
      uptimeSeconds: 60,
      version: '7.16',
      boardName: 'RB5009',
      architecture: 'arm64',
    },
  };
  await js.publish(eventSubject(e.tenantId, e.deviceId, e.kind), JSON.stringify(e), { msgID: e.id });
  return e.id;
}

async function poll<T>(fn: () => Promise<T | undefined | false>, what: string, timeoutMs = 30_000) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn();
    if (v) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

const alertRows = (deviceId: string) =>
  w.sql<{ state: string; resolution: string | null }[]>`
    SELECT state, resolution FROM alerts WHERE device_id = ${deviceId} ORDER BY started_at`;
const stored = async (ids: string[]) =>
  (await w.sql<{ n: number }[]>`SELECT count(*)::int AS n FROM ingested_events WHERE id = ANY(${ids})`)[0]!
    .n === ids.length;
const engineState = async (deviceId: string) =>
  (
    await w.sql<{ state: { keys: Record<string, { breaches: number; firing: boolean }> } }[]>`
      SELECT state FROM alert_engine_state WHERE device_id = ${deviceId}`
  )[0]?.state;

describe('alert state across an edge restart', () => {
  it('keeps a pending breach count and an open alert, fires nothing twice and resolves', async () => {
    const res = await w.a.operator.post('/api/alert-rules', {
      name: 'CPU hot',
      metric: 'cpu_load',
      comparison: 'gt',
      threshold: 90,
      severity: 'warning',
      fireAfter: 3,
      clearAfter: 2,
    });
    expect(res.status, await res.clone().text()).toBe(201);
    const ruleId = ((await res.json()) as { id: string }).id;

    // Before: `pending` has 2 of the 3 breaches it needs; `firing` fired after 3.
    const before = [
      await sample(pending, 95),
      await sample(pending, 96),
      await sample(firing, 95),
      await sample(firing, 96),
      await sample(firing, 97),
    ];
    await poll(() => stored(before), 'the first samples stored');
    await poll(async () => (await alertRows(firing)).length === 1, 'the first alert');
    expect(await alertRows(pending)).toEqual([]);
    expect((await engineState(pending))?.keys[`${ruleId}|`]).toMatchObject({ breaches: 2, firing: false });
    expect((await engineState(firing))?.keys[`${ruleId}|`]).toMatchObject({ firing: true });

    // The edge goes away with its Durable Objects' storage, and a new one starts.
    await w.edge.stop();
    const edge2 = await startEdge(w.vars);
    const viewer = new Session(edge2);
    viewer.cookies = w.a.viewer.cookies;
    const sse = await SseClient.open(viewer, '/api/sse?topics=alerts');
    expect(sse.status).toBe(200);
    const alertEvents = () =>
      sse.events
        .filter((e) => e.event === 'alert')
        .map((e) => JSON.parse(e.data) as { kind: string; alert: { deviceId: string } });

    // One more breach is the third for `pending`: it fires now, not after three more.
    const after = [await sample(pending, 97), await sample(firing, 98), await sample(firing, 99)];
    await poll(() => stored(after), 'the samples after the restart stored');
    await sse.until(
      () => alertEvents().find((a) => a.kind === 'fired' && a.alert.deviceId === pending),
      20_000,
      'the pending alert firing',
    );
    expect(await alertRows(pending)).toEqual([{ state: 'firing', resolution: null }]);
    // The open alert goes on: no second alert, no second firing.
    expect(await alertRows(firing)).toEqual([{ state: 'firing', resolution: null }]);
    expect(alertEvents().filter((a) => a.alert.deviceId === firing)).toEqual([]);

    // It clears: two good samples resolve the alert raised before the restart.
    const clear = [await sample(firing, 10), await sample(firing, 11)];
    await poll(() => stored(clear), 'the clearing samples stored');
    await sse.until(
      () => alertEvents().find((a) => a.kind === 'resolved' && a.alert.deviceId === firing),
      20_000,
      'the old alert resolving',
    );
    expect(await alertRows(firing)).toEqual([{ state: 'resolved', resolution: 'auto' }]);
    expect(await engineState(firing)).toBeUndefined();
    sse.close();
  }, 120_000);
});
