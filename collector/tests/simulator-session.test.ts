// One persistent API session per device: the collector logs in once and reuses the session poll after poll,
// however long it idles in between; a reboot drops it, the next poll logs in again, and the rates start over.
import { connect, type NatsConnection } from '@nats-io/transport-node';
import pino from 'pino';
import { beforeAll, describe, expect, it } from 'vitest';
import { type Fleet, startFleet } from '../../simulator/src/fleet';
import { freshNats } from '../../tests/env';
import { onFileEnd } from '../../tests/env/cleanup';
import { ManualClock } from '../src/clock';
import { Collector } from '../src/collector';
import { loadCollectorConfig } from '../src/config';
import { ensureEventStream } from '../src/relay/relay';
import { newCollectorKeys, pollSteps, registerDevice, StreamTap, tempDir, until, uuid } from './harness';

const TENANT = uuid(0xa, 6);
const COLLECTOR = uuid(0xc, 6);
const DEVICE = uuid(0xd, 0x600);
const CONNECT_TIMEOUT_S = 1;

let nc: NatsConnection;
let fleet: Fleet;
let collector: Collector;
let tap: StreamTap;
const clock = new ManualClock(Date.now());

beforeAll(async () => {
  const nats = await freshNats();
  nc = await connect({ servers: nats.url });
  onFileEnd(() => nc.close());
  await ensureEventStream(nc);
  tap = await StreamTap.start(nc);
  fleet = await startFleet({ devices: 1, boards: ['rb5009'], tls: false, rebootDurationMs: 50 });
  onFileEnd(() => fleet.stop());
  const keys = await newCollectorKeys();
  collector = new Collector({
    nc,
    identity: { tenantId: TENANT, collectorId: COLLECTOR, privateKey: keys.privateKey },
    config: loadCollectorConfig({
      TOD_COLLECTOR_STATE_DIR: await tempDir('tod-col-session-'),
      CONNECT_TIMEOUT_S: String(CONNECT_TIMEOUT_S),
    }),
    logger: pino({ level: 'silent' }),
    clock,
  });
  await collector.start();
  onFileEnd(() => collector.stop(2000));
  await registerDevice(nc, { tenantId: TENANT, collectorId: COLLECTOR }, keys.publicKey, {
    deviceId: DEVICE,
    port: fleet.manifest.devices[0]!.port,
    tlsMode: 'plain',
  });
  await until(
    () => collector.deviceCount,
    (n) => n === 1,
    10_000,
    'registry',
  );
});

async function poll(): Promise<void> {
  const steps = pollSteps(collector.metrics);
  const statuses = tap.of(DEVICE, 'status').length;
  await clock.advance(10_000);
  await until(
    () => pollSteps(collector.metrics),
    (n) => n === steps + 1,
    20_000,
    'a poll',
  );
  await until(
    () => tap.of(DEVICE, 'status').length,
    (n) => n === statuses + 1,
    20_000,
    'its status',
  );
  await tap.settle(nc, collector);
}

const logins = () =>
  fleet
    .device(0)
    .device.table('log')
    .rows.filter((r) => /logged in/.test(r.message ?? '')).length;

/** Real idle time longer than the connect timeout: the input under test, not a synchronisation. */
const idle = () => new Promise((r) => setTimeout(r, CONNECT_TIMEOUT_S * 1000 + 500));

describe('device session', { timeout: 60_000 }, () => {
  it('logs in once and keeps the session across polls and idle time', async () => {
    for (let i = 0; i < 3; i++) {
      await poll();
      await idle();
    }
    expect(logins()).toBe(1);
    expect(fleet.device(0).server.sessionCount).toBe(1);
    expect(tap.of(DEVICE, 'status').map((e) => e.kind === 'status' && e.data.status)).toEqual([
      'online',
      'online',
      'online',
    ]);
  });

  it('logs in again after a reboot, and the rates start over', async () => {
    fleet.device(0).reboot();
    await until(
      () => fleet.device(0).device.up,
      (up) => up,
      10_000,
      'device back up',
    );
    await poll();
    const status = tap.of(DEVICE, 'status').at(-1);
    // The poll may find the session the reboot dropped; then the next one logs in again.
    if (status?.kind === 'status' && status.data.status !== 'online') await poll();
    expect(tap.of(DEVICE, 'status').at(-1)).toMatchObject({ data: { status: 'online' } });
    expect(logins()).toBe(2);
    const ifaces = tap.of(DEVICE, 'interfaces').at(-1);
    expect(ifaces?.kind === 'interfaces' && ifaces.data.interfaces.some((x) => x.rxBps !== undefined)).toBe(
      false,
    );
    await poll();
    const next = tap.of(DEVICE, 'interfaces').at(-1);
    expect(next?.kind === 'interfaces' && next.data.interfaces.some((x) => x.rxBps !== undefined)).toBe(true);
  });
});
