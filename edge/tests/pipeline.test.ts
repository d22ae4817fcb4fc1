// The live pipeline from outside: a collector-like publisher puts events on JetStream (real nats-server), the
// TenantHub in workerd stores them in Postgres exactly once and streams them over /api/sse; events a tenant's
// collectors may not send are dropped and counted; tenants never see each other's streams.
import { randomUUID } from 'node:crypto';
import { type JetStreamClient, jetstream, jetstreamManager } from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/nats-core';
import { connect } from '@nats-io/transport-node';
import { type DeviceEvent, EVENT_STREAM, eventSubject, HubStats } from '@tod/contracts';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startEdge } from '../../tests/env/edge';
import { Session } from './client';
import { createWorld, type World } from './fixtures';
import { SseClient } from './sse-client';

let w: World;
let nc: NatsConnection;
let js: JetStreamClient;
let collectorA = '';
let collectorB = '';
let deviceA1 = '';
let deviceA2 = '';
let deviceB = '';

async function insertId(query: string, params: string[]): Promise<string> {
  const [row] = await w.sql.unsafe<{ id: string }[]>(query, params);
  return row!.id;
}

beforeAll(async () => {
  w = await createWorld({ nats: true, vars: { SSE_HEARTBEAT_SECONDS: '1' } });
  nc = await connect({ servers: w.natsUrl! });
  const jsm = await jetstreamManager(nc);
  await jsm.streams.add({
    name: EVENT_STREAM.name,
    subjects: [...EVENT_STREAM.subjects],
    duplicate_window: EVENT_STREAM.duplicateWindowMs * 1_000_000,
  });
  js = jetstream(nc);
  const col = 'INSERT INTO collectors (tenant_id, name) VALUES ($1, $2) RETURNING id';
  const dev =
    'INSERT INTO devices (tenant_id, name, host, collector_id) VALUES ($1, $2, $3, $4) RETURNING id';
  collectorA = await insertId(col, [w.tenantA, 'site-a']);
  collectorB = await insertId(col, [w.tenantB, 'site-b']);
  deviceA1 = await insertId(dev, [w.tenantA, 'a1', '10.0.0.1', collectorA]);
  deviceA2 = await insertId(dev, [w.tenantA, 'a2', '10.0.0.2', collectorA]);
  deviceB = await insertId(dev, [w.tenantB, 'b1', '10.1.0.1', collectorB]);
  return () => w.sql.end();
});
afterAll(async () => {
  await nc?.close();
});

function statusEvent(
  tenantId: string,
  deviceId: string,
  collectorId: string,
  status: 'online' | 'unreachable' = 'online',
  at = new Date(),
): DeviceEvent {
  return {
    v: 1,
    id: randomUUID(),
    tenantId,
    deviceId,
    collectorId,
    at: at.toISOString(),
    kind: 'status',
    data: { status, consecutiveFailures: status === 'online' ? 0 : 1 },
  };
}

function resourceEvent(deviceId: string, cpuLoad: number, at = new Date()): DeviceEvent {
  return {
    v: 1,
    id: randomUUID(),
    tenantId: w.tenantA,
    deviceId,
    collectorId: collectorA,
    at: at.toISOString(),
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
}

/** Publishes like the collector's relay: on the event's subject with its id as Nats-Msg-Id. */
async function publish(e: DeviceEvent, subject = eventSubject(e.tenantId, e.deviceId, e.kind), msgID = e.id) {
  await js.publish(subject, JSON.stringify(e), { msgID });
}

async function stats(s: Session = w.a.admin): Promise<HubStats> {
  const res = await s.get('/api/hub/stats');
  expect(res.status, await res.clone().text()).toBe(200);
  return HubStats.parse(await res.json());
}

async function poll<T>(
  fn: () => Promise<T | undefined | false>,
  what: string,
  timeoutMs = 20_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn();
    if (v) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

async function storedCount(ids: string[]): Promise<number> {
  const [row] = await w.sql<
    { n: number }[]
  >`SELECT count(*)::int AS n FROM ingested_events WHERE id = ANY(${ids})`;
  return row!.n;
}

const openSse = (s: Session, query = '', headers: Record<string, string> = {}) =>
  SseClient.open(s, `/api/sse${query}`, headers);

describe('ingest', () => {
  it('stores a published event once and streams it to an SSE client of the tenant', async () => {
    const sse = await openSse(w.a.viewer);
    expect(sse.status).toBe(200);
    await sse.until(() => sse.events.find((e) => e.event === 'snapshot'), 15_000, 'snapshot');
    const e = statusEvent(w.tenantA, deviceA1, collectorA, 'unreachable');
    await publish(e);
    const got = await sse.until(
      () => sse.deviceEvents().find((x) => x.body.id === e.id),
      20_000,
      'the status event',
    );
    expect(got.event).toBe('status');
    expect(Number(got.id)).toBeGreaterThan(0);
    const [d] = await w.sql<{ status: string; status_at: Date }[]>`
      SELECT status, status_at FROM devices WHERE id = ${deviceA1}`;
    expect(d!.status).toBe('unreachable');
    expect(d!.status_at.toISOString()).toBe(e.at);
    expect(await storedCount([e.id])).toBe(1);
    sse.close();
  });

  it('stores a redelivered event only once', async () => {
    const e = resourceEvent(deviceA1, 42);
    await publish(e);
    // The same event again under another Nats-Msg-Id: JetStream keeps both, the ledger only the first.
    const before = (await stats()).duplicates;
    await publish(e, undefined, `${e.id}-again`);
    await poll(async () => (await stats()).duplicates > before, 'the duplicate to be seen');
    expect(await storedCount([e.id])).toBe(1);
    const [m] = await w.sql<{ n: number }[]>`
      SELECT count(*)::int AS n FROM metric_resource WHERE device_id = ${deviceA1} AND time = ${e.at}`;
    expect(m!.n).toBe(1);
  });

  it('stores a config snapshot once in the batch and streams a summary without the export text', async () => {
    const secret = 'set-by-test-Zk39-wifi-passphrase';
    const snapshotEvent = (text: string): DeviceEvent => ({
      v: 1,
      id: randomUUID(),
      tenantId: w.tenantA,
      deviceId: deviceA2,
      collectorId: collectorA,
      at: new Date().toISOString(),
      kind: 'config-snapshot',
      data: {
        trigger: 'change',
        sensitive: true,
        export: `# by RouterOS 7.16\n/interface wireless security-profiles\nset default wpa2-pre-shared-key="${secret}"\n${text}\n`,
        routerosVersion: '7.16 (stable)',
      },
    });
    const sse = await openSse(w.a.viewer, '?topics=config');
    await sse.until(() => sse.events.find((e) => e.event === 'snapshot'), 15_000, 'snapshot');
    const first = snapshotEvent('/system identity set name=a2');
    const same = snapshotEvent('/system identity set name=a2');
    await publish(first);
    await publish(same);
    // Redelivered under another Nats-Msg-Id: the ledger stores it once, so no second snapshot either.
    await publish(first, undefined, `${first.id}-again`);
    type Summary = { eventId: string; status: string; snapshotId: string; seq: number; deviceId: string };
    const summaries = () =>
      sse.events.filter((e) => e.event === 'config-backup').map((e) => JSON.parse(e.data) as Summary);
    await sse.until(() => summaries().length >= 2, 20_000, 'the backup summaries');
    expect(summaries()).toEqual([
      expect.objectContaining({ eventId: first.id, status: 'created', seq: 1, deviceId: deviceA2 }),
      expect.objectContaining({ eventId: same.id, status: 'unchanged', seq: 1 }),
    ]);
    const raw = sse.events.filter((e) => e.event === 'config-snapshot');
    expect(raw.length).toBeGreaterThanOrEqual(2);
    expect(JSON.parse(raw[0]!.data).data).toMatchObject({ trigger: 'change', sensitive: true });
    for (const e of sse.events) expect(e.data).not.toContain(secret);
    const rows = await w.sql<{ id: string; seq: number; source_event_id: string; content_enc: Buffer }[]>`
      SELECT id, seq, source_event_id, content_enc FROM config_snapshots WHERE device_id = ${deviceA2}`;
    expect(rows.map((r) => [r.id, r.seq, r.source_event_id])).toEqual([
      [summaries()[0]!.snapshotId, 1, first.id],
    ]);
    expect(rows[0]!.content_enc.toString('latin1')).not.toContain(secret);
    const [d] = await w.sql<
      { last_seen_at: Date | null }[]
    >`SELECT last_seen_at FROM devices WHERE id = ${deviceA2}`;
    expect(d!.last_seen_at).not.toBeNull();
    sse.close();
  });

  it('drops and counts events about another tenant’s device, another collector’s device and invalid ones', async () => {
    const before = await stats();
    // Tenant A's subject, naming tenant B's device.
    const foreign = statusEvent(w.tenantA, deviceB, collectorA);
    await publish(foreign);
    // A's device, claimed by B's collector.
    const wrongCollector = statusEvent(w.tenantA, deviceA2, collectorB);
    await publish(wrongCollector);
    // Envelope of tenant B on tenant A's subject.
    const mismatched = statusEvent(w.tenantB, deviceB, collectorB);
    await publish(mismatched, eventSubject(w.tenantA, deviceB, 'status'));
    await js.publish(eventSubject(w.tenantA, deviceA1, 'status'), 'not json', { msgID: randomUUID() });
    const after = await poll(async () => {
      const s = await stats();
      return s.dropped.foreignDevice > before.dropped.foreignDevice &&
        s.dropped.wrongCollector > before.dropped.wrongCollector &&
        s.dropped.invalid >= before.dropped.invalid + 2
        ? s
        : undefined;
    }, 'the drops to be counted');
    expect(after.dropped.foreignDevice).toBe(before.dropped.foreignDevice + 1);
    expect(after.dropped.wrongCollector).toBe(before.dropped.wrongCollector + 1);
    expect(after.dropped.invalid).toBe(before.dropped.invalid + 2);
    expect(await storedCount([foreign.id, wrongCollector.id, mismatched.id])).toBe(0);
    const [b] = await w.sql<{ status: string }[]>`SELECT status FROM devices WHERE id = ${deviceB}`;
    expect(b!.status).toBe('unknown');
  });
});

describe('SSE', () => {
  it('never shows tenant B a tenant A event', async () => {
    const sseB = await openSse(w.b.admin);
    expect(sseB.status).toBe(200);
    await sseB.until(() => sseB.events.find((e) => e.event === 'snapshot'), 15_000, 'B snapshot');
    const a = statusEvent(w.tenantA, deviceA2, collectorA);
    const b = statusEvent(w.tenantB, deviceB, collectorB);
    await publish(a);
    await publish(b);
    await sseB.until(() => sseB.deviceEvents().find((x) => x.body.id === b.id), 20_000, 'B event');
    expect(sseB.deviceEvents().every((x) => x.body.deviceId === deviceB)).toBe(true);
    const snapshot = JSON.parse(sseB.events.find((e) => e.event === 'snapshot')!.data) as {
      devices: { deviceId: string }[];
    };
    expect(snapshot.devices.map((d) => d.deviceId)).toEqual([deviceB]);
    sseB.close();
  });

  it('resumes after Last-Event-ID without gaps', async () => {
    const first = await openSse(w.a.viewer);
    const e0 = statusEvent(w.tenantA, deviceA1, collectorA);
    await publish(e0);
    const seen = await first.until(() => first.deviceEvents().find((x) => x.body.id === e0.id), 20_000, 'e0');
    first.close();
    const missed = [
      resourceEvent(deviceA1, 1),
      resourceEvent(deviceA2, 2),
      statusEvent(w.tenantA, deviceA2, collectorA),
    ];
    for (const e of missed) await publish(e);
    // Wait until the hub has processed them, then resume.
    await poll(async () => (await storedCount(missed.map((e) => e.id))) === 3, 'missed events stored');
    const again = await openSse(w.a.viewer, '', { 'last-event-id': seen.id });
    await again.until(() => again.deviceEvents().length >= 3, 20_000, 'the missed events');
    const got = again.deviceEvents().map((x) => x.body.id);
    expect(got.slice(0, 3)).toEqual(missed.map((e) => e.id));
    expect(again.events.some((e) => e.event === 'snapshot')).toBe(false);
    again.close();
  });

  it('gives viewers, operators and admins of the tenant the same stream', async () => {
    const clients = await Promise.all([w.a.viewer, w.a.operator, w.a.admin].map((s) => openSse(s)));
    const e = statusEvent(w.tenantA, deviceA2, collectorA);
    await publish(e);
    const got = await Promise.all(
      clients.map((c) =>
        c.until(() => c.deviceEvents().find((x) => x.body.id === e.id), 20_000, 'the event'),
      ),
    );
    expect(new Set(got.map((g) => g.id)).size).toBe(1);
    for (const c of clients) c.close();
  });

  it('sends a fresh snapshot when Last-Event-ID cannot be resumed', async () => {
    const sse = await openSse(w.a.viewer, '', { 'last-event-id': '999999999' });
    await sse.until(() => sse.events.find((e) => e.event === 'snapshot'), 20_000, 'the snapshot');
    const e = statusEvent(w.tenantA, deviceA1, collectorA);
    await publish(e);
    await sse.until(() => sse.deviceEvents().find((x) => x.body.id === e.id), 20_000, 'the next event');
    sse.close();
  });

  it('filters by topic', async () => {
    const sse = await openSse(w.a.viewer, '?topics=metrics');
    const s = statusEvent(w.tenantA, deviceA1, collectorA);
    const r = resourceEvent(deviceA1, 7);
    await publish(s);
    await publish(r);
    await sse.until(() => sse.deviceEvents().find((x) => x.body.id === r.id), 20_000, 'the metrics event');
    expect(sse.deviceEvents().every((x) => x.event !== 'status')).toBe(true);
    sse.close();
    expect((await openSse(w.a.viewer, '?topics=bogus')).status).toBe(400);
  });

  it('sends heartbeats', async () => {
    const sse = await openSse(w.a.viewer);
    await sse.until(() => sse.comments.includes('heartbeat'), 10_000, 'a heartbeat');
    sse.close();
  });

  it('requires a session, an API key or an SSE token', async () => {
    expect((await openSse(new Session(w.edge))).status).toBe(401);
    expect((await openSse(new Session(w.edge), '?token=nonsense')).status).toBe(401);
    expect((await openSse(w.a.keyViewer)).status).toBe(200);
    const res = await w.a.viewer.post('/api/sse/token');
    expect(res.status).toBe(200);
    const { token } = (await res.json()) as { token: string };
    const anon = new Session(w.edge);
    const sse = await openSse(anon, `?token=${encodeURIComponent(token)}`);
    expect(sse.status).toBe(200);
    const e = statusEvent(w.tenantA, deviceA1, collectorA);
    await publish(e);
    await sse.until(() => sse.deviceEvents().find((x) => x.body.id === e.id), 20_000, 'event via token');
    sse.close();
    expect((await new Session(w.edge).post('/api/sse/token')).status).toBe(401);
    expect((await openSse(w.a.viewer, '', { 'last-event-id': 'garbage' })).status).toBe(400);
  });

  it('lets only admins read the hub counters', async () => {
    expect((await w.a.viewer.get('/api/hub/stats')).status).toBe(403);
    expect((await w.a.operator.get('/api/hub/stats')).status).toBe(403);
    expect((await new Session(w.edge).get('/api/hub/stats')).status).toBe(401);
    const b = await stats(w.b.admin);
    expect(b.tenantId).toBe(w.tenantB);
  });
});

describe('restart', () => {
  it('loses nothing and stores nothing twice when the edge is killed mid-flow, and SSE resumes', async () => {
    const sse = await openSse(w.a.viewer);
    const mark = statusEvent(w.tenantA, deviceA1, collectorA);
    await publish(mark);
    const seen = await sse.until(() => sse.deviceEvents().find((x) => x.body.id === mark.id), 20_000, 'mark');
    sse.close();

    const events: DeviceEvent[] = [];
    const base = Date.now() - 60_000;
    for (let i = 0; i < 400; i++) {
      events.push(resourceEvent(i % 2 ? deviceA1 : deviceA2, i % 100, new Date(base + i)));
    }
    // Publish in the background while the edge goes down and a new one comes up.
    const publishing = (async () => {
      for (const e of events) await publish(e);
    })();
    await poll(async () => (await storedCount(events.map((e) => e.id))) > 50, 'some events stored');
    await w.edge.stop();
    await publishing;
    const edge2 = await startEdge(w.vars);
    const viewer = new Session(edge2);
    viewer.cookies = w.a.viewer.cookies;
    const admin = new Session(edge2);
    admin.cookies = w.a.admin.cookies;
    await stats(admin); // wakes the hub (in production its alarm does)
    await poll(
      async () => (await storedCount(events.map((e) => e.id))) === events.length,
      'all stored',
      30_000,
    );
    const [dups] = await w.sql<{ n: number }[]>`
      SELECT count(*)::int AS n FROM (SELECT id FROM ingested_events GROUP BY tenant_id, id HAVING count(*) > 1) d`;
    expect(dups!.n).toBe(0);
    const [rows] = await w.sql<{ n: number }[]>`
      SELECT count(*)::int AS n FROM metric_resource WHERE time >= ${new Date(base).toISOString()}
        AND time < ${new Date(base + 400).toISOString()}`;
    expect(rows!.n).toBe(events.length);

    // A client that saw `mark` before the restart gets every event after it (from JetStream: the new hub's
    // ring starts empty).
    const resumed = await openSse(viewer, '', { 'last-event-id': seen.id });
    const wanted = new Set(events.map((e) => e.id));
    await resumed.until(
      () => resumed.deviceEvents().filter((x) => wanted.has(x.body.id)).length === events.length,
      30_000,
      'every event after the mark',
    );
    const ids = resumed.deviceEvents().map((x) => Number(x.id));
    expect([...ids].sort((a, b) => a - b)).toEqual(ids);
    expect(new Set(ids).size).toBe(ids.length);
    resumed.close();
  }, 120_000);
});
