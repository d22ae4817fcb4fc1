// Device leases against a real nats-server: one holder at a time, renewals, a restarted holder taking its own
// leases back at once, release, expiry by the bucket's TTL, and a holder riding out a lease-store outage only
// until its lease would have expired.
import { Kvm } from '@nats-io/kv';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { LEASES_BUCKET } from '@tod/contracts';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freshNats } from '../../tests/env';
import { systemClock } from '../src/clock';
import { DeviceLeases, type LeaseAttempt } from '../src/schedule/leases';
import { until } from './harness';

const TENANT = '8c1d3c52-1b1e-4c3f-9a55-0a00000000c1';
const A = '8c1d3c52-1b1e-4c3f-9a55-0c00000000c1';
const B = '8c1d3c52-1b1e-4c3f-9a55-0c00000000c2';
const DEVICE = '8c1d3c52-1b1e-4c3f-9a55-0d00000000c1';

let nats: Awaited<ReturnType<typeof freshNats>>;
const connections: NatsConnection[] = [];

async function leases(collectorId: string, ttlMs: number, attempts: LeaseAttempt[] = []) {
  const nc = await connect({ servers: nats.url, maxReconnectAttempts: -1, reconnectTimeWait: 100 });
  connections.push(nc);
  return new DeviceLeases({
    nc,
    tenantId: TENANT,
    collectorId,
    ttlMs,
    clock: systemClock,
    onAttempt: (o) => attempts.push(o),
  });
}

beforeAll(async () => {
  nats = await freshNats();
});

afterAll(async () => {
  for (const nc of connections) await nc.close().catch(() => {});
});

describe('device leases', () => {
  it('has one holder at a time, and a restarted holder takes its own lease back at once', async () => {
    const aAttempts: LeaseAttempt[] = [];
    const a = await leases(A, 60_000, aAttempts);
    const b = await leases(B, 60_000);
    expect(await a.acquire(DEVICE)).toBe(true);
    expect(await b.acquire(DEVICE)).toBe(false);
    expect(await a.acquire(DEVICE)).toBe(true);
    expect(aAttempts).toEqual(['acquired', 'renewed']);

    // Same collector id after a restart (kill -9): no wait for the TTL.
    const restartedAttempts: LeaseAttempt[] = [];
    const restarted = await leases(A, 60_000, restartedAttempts);
    expect(await restarted.acquire(DEVICE)).toBe(true);
    expect(restartedAttempts).toEqual(['reclaimed']);
    // (A collector identity is one process: the state directory holds its key, so the dead process is not
    // coming back with the same id while the new one runs.)
    expect(await b.acquire(DEVICE)).toBe(false);

    await restarted.releaseAll();
    expect(restarted.heldCount).toBe(0);
    expect(await b.acquire(DEVICE)).toBe(true);
    await b.releaseAll();
  });

  it('frees the lease of a holder that stopped renewing once the bucket TTL passes', async () => {
    // A bucket of its own, with a short TTL (max_age is bucket-wide).
    const kvm = new Kvm(await connect({ servers: nats.url }));
    await (await kvm.open(LEASES_BUCKET)).destroy();
    const a = await leases(A, 1500);
    const b = await leases(B, 1500);
    expect(await a.acquire(DEVICE)).toBe(true);
    a.abandon();
    expect(await b.acquire(DEVICE)).toBe(false);
    await until(() => b.acquire(DEVICE), Boolean, 10_000);
    expect(b.holds(DEVICE)).toBe(true);
  });

  it('keeps a held lease through a lease-store outage only until it would have expired', async () => {
    const attempts: LeaseAttempt[] = [];
    const a = await leases(A, 60_000, attempts);
    const other = '8c1d3c52-1b1e-4c3f-9a55-0d00000000c2';
    expect(await a.acquire(other)).toBe(true);
    await nats.stop();
    // Held: polling goes on (events wait in the outbox). Never held: not polled without the store.
    expect(await a.acquire(other)).toBe(true);
    expect(await a.acquire('8c1d3c52-1b1e-4c3f-9a55-0d00000000c3')).toBe(false);
    expect(attempts.slice(-2)).toEqual(['kept', 'error']);
  }, 30_000);
});
