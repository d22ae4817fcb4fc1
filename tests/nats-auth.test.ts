// NATS JWT auth against a real nats-server in operator mode: the credentials the edge issues a collector
// (collectorNatsPermissions) let it publish its tenant's events and read its own registry keys, and nothing of
// any other tenant or collector.
import { randomUUID } from 'node:crypto';
import { jetstream, jetstreamManager } from '@nats-io/jetstream';
import { type KV, Kvm } from '@nats-io/kv';
import { createUser } from '@nats-io/nkeys';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import {
  collectorInboxPrefix,
  commandSubject,
  DEVICES_BUCKET,
  deviceKey,
  EVENT_STREAM,
  eventStreamConfig,
} from '@tod/contracts';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mintCollectorJwt, natsAuthOptions } from '../edge/src/services/nats-auth';
import type { NatsHandle } from '../scripts/services/nats';
import { freshNats } from './env';

const tenantA = randomUUID();
const tenantB = randomUUID();
const collectorA1 = randomUUID();
const collectorA2 = randomUUID();
const collectorB = randomUUID();
const device = randomUUID();
const ownKey = deviceKey(tenantA, collectorA1, device);
const siblingKey = deviceKey(tenantA, collectorA2, randomUUID());
const otherTenantKey = deviceKey(tenantB, collectorB, randomUUID());

let nats: NatsHandle;
let admin: NatsConnection;
let adminKv: KV;
let collector: NatsConnection;
let kv: KV;

async function connectCollector(tenantId: string, collectorId: string): Promise<NatsConnection> {
  const key = createUser();
  const jwt = await mintCollectorJwt(nats.auth!.signer, {
    tenantId,
    collectorId,
    userPublicKey: key.getPublicKey(),
  });
  return connect({
    servers: nats.url,
    inboxPrefix: collectorInboxPrefix(collectorId),
    ...natsAuthOptions({ jwt, seed: new TextDecoder().decode(key.getSeed()) }),
  });
}

beforeAll(async () => {
  nats = await freshNats({ auth: true });
  admin = await connect({ servers: nats.url, ...(await nats.auth!.adminOptions()) });
  await (await jetstreamManager(admin)).streams.add(eventStreamConfig());
  adminKv = await new Kvm(admin).create(DEVICES_BUCKET, { history: 1 });
  for (const key of [ownKey, siblingKey, otherTenantKey]) await adminKv.put(key, `value of ${key}`);
  collector = await connectCollector(tenantA, collectorA1);
  kv = await new Kvm(collector).create(DEVICES_BUCKET, { history: 1 });
}, 60_000);

afterAll(async () => {
  await collector?.close();
  await admin?.close();
});

async function storedSubjects(): Promise<string[]> {
  const jsm = await jetstreamManager(admin);
  const info = await jsm.streams.info(EVENT_STREAM.name, { subjects_filter: '>' });
  return Object.keys(info.state.subjects ?? {});
}

describe('a collector with the credentials the edge issued', () => {
  it('refuses a connection without credentials', async () => {
    await expect(connect({ servers: nats.url, reconnect: false })).rejects.toThrow(/authorization/i);
  });

  it("publishes its tenant's events into the stream", async () => {
    const ack = await jetstream(collector).publish(`tod.evt.${tenantA}.${device}.status`, '{}', {
      msgID: randomUUID(),
    });
    expect(ack.stream).toBe(EVENT_STREAM.name);
    expect(await storedSubjects()).toContain(`tod.evt.${tenantA}.${device}.status`);
  });

  it("cannot publish another tenant's events", async () => {
    const subject = `tod.evt.${tenantB}.${device}.status`;
    await expect(
      jetstream(collector).publish(subject, '{}', { msgID: randomUUID(), timeout: 2000 }),
    ).rejects.toThrow();
    expect(await storedSubjects()).not.toContain(subject);
  });

  it('reads and lists its own registry keys', async () => {
    expect((await kv.get(ownKey))?.string()).toBe(`value of ${ownKey}`);
    const keys: string[] = [];
    for await (const k of await kv.keys(`${tenantA}.${collectorA1}.>`)) keys.push(k);
    expect(keys).toEqual([ownKey]);
  });

  it("cannot read another collector's or another tenant's keys", async () => {
    await expect(kv.get(siblingKey)).rejects.toThrow(/permission/i);
    await expect(kv.get(otherTenantKey)).rejects.toThrow(/permission/i);
    await expect(
      (async () => {
        for await (const _ of await kv.keys(`${tenantA}.>`)) break;
      })(),
    ).rejects.toThrow(/permission/i);
    // The direct-get form that names the key in the body, not the subject, is not allowed at all.
    await expect(
      collector.request(
        `$JS.API.DIRECT.GET.KV_${DEVICES_BUCKET}`,
        JSON.stringify({ last_by_subj: `$KV.${DEVICES_BUCKET}.${otherTenantKey}` }),
        { timeout: 2000 },
      ),
    ).rejects.toThrow(/permission/i);
  });

  it('answers requests made to it, and only those', async () => {
    const sub = collector.subscribe(commandSubject(tenantA, collectorA1), {
      callback: (_err, msg) => {
        msg.respond(`pong from ${collectorA1}`);
      },
    });
    await collector.flush();
    const reply = await admin.request(commandSubject(tenantA, collectorA1), 'ping', { timeout: 2000 });
    expect(reply.string()).toBe(`pong from ${collectorA1}`);
    sub.unsubscribe();
    const other = collector.subscribe(commandSubject(tenantA, collectorA2));
    await expect(other.closed).resolves.toBeInstanceOf(Error);
  });

  it('cannot write the registry, create streams or subscribe to everything', async () => {
    await expect(kv.put(ownKey, 'forged')).rejects.toThrow(/permission/i);
    expect((await adminKv.get(ownKey))?.string()).toBe(`value of ${ownKey}`);
    const jsm = await jetstreamManager(collector);
    await expect(jsm.streams.add({ name: 'STEAL', subjects: ['tod.>'] })).rejects.toThrow(/permission/i);
    for (const subject of ['>', 'tod.evt.>', `$KV.${DEVICES_BUCKET}.>`, '_INBOX.>']) {
      const sub = collector.subscribe(subject);
      await expect(sub.closed, subject).resolves.toBeInstanceOf(Error);
    }
  });
});
