// The TenantHub against a NATS server with JWT auth: the hub logs in with the edge's own minted credentials,
// creates the stream and its consumer, and stores what a collector (restricted to its tenant's subjects)
// publishes.
import { randomUUID } from 'node:crypto';
import { jetstream } from '@nats-io/jetstream';
import { createUser } from '@nats-io/nkeys';
import { connect } from '@nats-io/transport-node';
import { collectorInboxPrefix, type DeviceEvent, eventSubject, HubStats } from '@tod/contracts';
import { beforeAll, describe, expect, it } from 'vitest';
import { mintCollectorJwt, natsAuthOptions } from '../src/services/nats-auth';
import { createWorld, type World } from './fixtures';
import { SseClient } from './sse-client';

let w: World;

beforeAll(async () => {
  w = await createWorld({ nats: 'auth' });
  return () => w.sql.end();
});

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

describe('TenantHub with NATS JWT auth', () => {
  it('stores and streams what a tenant-restricted collector publishes', async () => {
    const [col] = await w.sql<{ id: string }[]>`
      INSERT INTO collectors (tenant_id, name) VALUES (${w.tenantA}, 'site') RETURNING id`;
    const [dev] = await w.sql<{ id: string }[]>`
      INSERT INTO devices (tenant_id, name, host, collector_id)
      VALUES (${w.tenantA}, 'r1', '10.0.0.1', ${col!.id}) RETURNING id`;
    // The hub starts, logs in and creates the stream (a collector may not).
    await poll(async () => {
      const res = await w.a.admin.get('/api/hub/stats');
      return res.status === 200 && HubStats.parse(await res.json()).connected;
    }, 'the hub to connect');
    const sse = await SseClient.open(w.a.viewer, '/api/sse');
    expect(sse.status).toBe(200);

    const key = createUser();
    const jwt = await mintCollectorJwt(
      { accountPublicKey: w.vars.NATS_ACCOUNT_PUBLIC_KEY!, signingSeed: w.vars.NATS_ACCOUNT_SIGNING_SEED! },
      { tenantId: w.tenantA, collectorId: col!.id, userPublicKey: key.getPublicKey() },
    );
    const nc = await connect({
      servers: w.natsUrl!,
      inboxPrefix: collectorInboxPrefix(col!.id),
      ...natsAuthOptions({ jwt, seed: new TextDecoder().decode(key.getSeed()) }),
    });
    try {
      const e: DeviceEvent = {
        v: 1,
        id: randomUUID(),
        tenantId: w.tenantA,
        deviceId: dev!.id,
        collectorId: col!.id,
        at: new Date().toISOString(),
        kind: 'status',
        data: { status: 'online', consecutiveFailures: 0 },
      };
      await jetstream(nc).publish(eventSubject(e.tenantId, e.deviceId, e.kind), JSON.stringify(e), {
        msgID: e.id,
      });
      await sse.until(() => sse.deviceEvents().find((x) => x.body.id === e.id), 20_000, 'the event');
      const [row] = await w.sql<
        { n: number }[]
      >`SELECT count(*)::int AS n FROM ingested_events WHERE id = ${e.id}`;
      expect(row!.n).toBe(1);
    } finally {
      sse.close();
      await nc.close();
    }
  });
});
