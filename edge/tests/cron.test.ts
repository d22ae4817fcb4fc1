// The edge's cron trigger wakes the TenantHub of every tenant with an enrolled collector, so a hub nobody
// woke (no request, its alarm lost) consumes what waits for it. Triggered through workerd's
// /cdn-cgi/handler/scheduled, as the Workers runtime runs a cron.
import { randomUUID } from 'node:crypto';
import { type JetStreamManager, jetstream, jetstreamManager } from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/nats-core';
import { connect } from '@nats-io/transport-node';
import { type DeviceEvent, EVENT_STREAM, eventSubject } from '@tod/contracts';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createWorld, type World } from './fixtures';

let w: World;
let nc: NatsConnection;
let jsm: JetStreamManager;

beforeAll(async () => {
  w = await createWorld({ nats: true });
  nc = await connect({ servers: w.natsUrl! });
  jsm = await jetstreamManager(nc);
  await jsm.streams.add({
    name: EVENT_STREAM.name,
    subjects: [...EVENT_STREAM.subjects],
    duplicate_window: EVENT_STREAM.duplicateWindowMs * 1_000_000,
  });
  return () => w.sql.end();
});
afterAll(async () => {
  await nc?.close();
});

async function collectorWithDevice(tenantId: string, status: 'online' | 'revoked') {
  const [c] = await w.sql<{ id: string }[]>`
    INSERT INTO collectors (tenant_id, name, status, enrolled_at) VALUES (${tenantId}, 'site', ${status}, now())
    RETURNING id`;
  const [d] = await w.sql<{ id: string }[]>`
    INSERT INTO devices (tenant_id, name, host, collector_id) VALUES (${tenantId}, 'r1', '10.0.0.1', ${c!.id})
    RETURNING id`;
  return { collectorId: c!.id, deviceId: d!.id };
}

const consumers = async () => {
  const names: string[] = [];
  for await (const c of jsm.consumers.list(EVENT_STREAM.name)) names.push(c.name);
  return names;
};

describe('cron', () => {
  it('wakes the hubs of tenants with an enrolled collector, which then consume what waits', async () => {
    const a = await collectorWithDevice(w.tenantA, 'online');
    await collectorWithDevice(w.tenantB, 'revoked');
    const event: DeviceEvent = {
      v: 1,
      id: randomUUID(),
      tenantId: w.tenantA,
      deviceId: a.deviceId,
      collectorId: a.collectorId,
      at: new Date().toISOString(),
      kind: 'status',
      data: { status: 'online', consecutiveFailures: 0 },
    };
    await jetstream(nc).publish(eventSubject(w.tenantA, a.deviceId, 'status'), JSON.stringify(event), {
      msgID: event.id,
    });
    // Nothing has woken a hub: no consumer, nothing stored.
    expect(await consumers()).toEqual([]);

    const res = await w.edge.fetch('/cdn-cgi/handler/scheduled?cron=*+*+*+*+*');
    expect(res.status, await res.text()).toBe(200);

    const deadline = Date.now() + 30_000;
    for (;;) {
      const [row] = await w.sql<{ n: number }[]>`
        SELECT count(*)::int AS n FROM ingested_events WHERE id = ${event.id}`;
      if (row!.n === 1) break;
      if (Date.now() > deadline) throw new Error('the event was not stored after the cron');
      await new Promise((r) => setTimeout(r, 100));
    }
    const [device] = await w.sql<{ status: string }[]>`SELECT status FROM devices WHERE id = ${a.deviceId}`;
    expect(device!.status).toBe('online');
    // Only tenant A's hub: B's only collector is revoked.
    expect(await consumers()).toEqual([`tenant-hub-${w.tenantA}`]);
  }, 60_000);
});
