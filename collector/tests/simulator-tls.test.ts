// TLS tiers, failure statuses and the circuit breaker, through the whole collector against simulated devices
// serving a CA-signed certificate, a self-signed one, or anonymous DH. Each device's policy decides which
// tiers may be tried; a policy that forbids the fallback a device would need ends as tls_failed.
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import type { DeviceRegistration } from '@tod/contracts';
import pino from 'pino';
import { beforeAll, describe, expect, it } from 'vitest';
import { type Fleet, startFleet } from '../../simulator/src/fleet';
import { freshNats } from '../../tests/env';
import { onFileEnd } from '../../tests/env/cleanup';
import { ManualClock } from '../src/clock';
import { Collector } from '../src/collector';
import { loadCollectorConfig } from '../src/config';
import { ensureEventStream } from '../src/relay/relay';
import {
  type CollectorKeys,
  makeCa,
  newCollectorKeys,
  pollSteps,
  registerDevice,
  StreamTap,
  tempDir,
  until,
  uuid,
} from './harness';

const TENANT = uuid(0xa, 2);

let nc: NatsConnection;
let tap: StreamTap;
let caFile: string;
let caFleet: Fleet;
let selfSignedFleet: Fleet;
let adhFleet: Fleet;

beforeAll(async () => {
  const nats = await freshNats();
  nc = await connect({ servers: nats.url });
  onFileEnd(() => nc.close());
  await ensureEventStream(nc);
  tap = await StreamTap.start(nc);
  const dir = await tempDir('tod-col-tls-');
  const ca = makeCa(dir);
  caFile = join(dir, 'devices-ca.pem');
  await writeFile(caFile, ca.caCert);
  caFleet = await startFleet({ devices: 1, boards: ['rb5009'], tls: { mode: 'ca-signed', ...ca } });
  selfSignedFleet = await startFleet({ devices: 5, boards: ['rb5009'], tls: { mode: 'self-signed' } });
  adhFleet = await startFleet({ devices: 1, boards: ['hap-ax3'], tls: { mode: 'adh' } });
  onFileEnd(async () => {
    await Promise.all([caFleet.stop(), selfSignedFleet.stop(), adhFleet.stop()]);
  });
});

interface Rig {
  collector: Collector;
  clock: ManualClock;
  keys: CollectorKeys;
  collectorId: string;
}

async function startCollector(
  n: number,
  env: Record<string, string> = {},
  random?: () => number,
): Promise<Rig> {
  const keys = await newCollectorKeys();
  const clock = new ManualClock(Date.now());
  const collectorId = uuid(0xc, n);
  const collector = new Collector({
    nc,
    identity: { tenantId: TENANT, collectorId, privateKey: keys.privateKey },
    config: loadCollectorConfig({
      TOD_COLLECTOR_STATE_DIR: await tempDir('tod-col-tls-state-'),
      CONNECT_TIMEOUT_S: '5',
      COMMAND_TIMEOUT_S: '5',
      ...env,
    }),
    logger: pino({ level: 'silent' }),
    clock,
    ...(random ? { random } : {}),
  });
  await collector.start();
  onFileEnd(() => collector.stop(2000));
  return { collector, clock, keys, collectorId };
}

const on = (fleet: Fleet, i: number) => ({
  port: fleet.manifest.devices[i]!.port,
  tlsPort: fleet.manifest.devices[i]!.tlsPort!,
});

describe('TLS tiers and failure statuses', () => {
  it('uses the best tier each policy allows and reports what forbids the rest', async () => {
    const rig = await startCollector(1, { TLS_CA_FILE: caFile });
    await selfSignedFleet.device(1).setFaults({ tlsFailure: 'reset' });
    await selfSignedFleet.device(2).setFaults({ tlsFailure: 'plaintext' });
    await selfSignedFleet.device(3).setFaults({ unreachable: true });
    const cases: {
      name: string;
      at: { port: number; tlsPort: number };
      tlsMode: DeviceRegistration['tlsMode'];
      password?: string;
      expect: Record<string, unknown>;
    }[] = [
      {
        name: 'CA-signed, strict',
        at: on(caFleet, 0),
        tlsMode: 'strict',
        expect: { status: 'online', tlsTier: 'verified' },
      },
      {
        name: 'CA-signed, self-signed allowed: still verified',
        at: on(caFleet, 0),
        tlsMode: 'self_signed',
        expect: { status: 'online', tlsTier: 'verified' },
      },
      {
        name: 'CA-signed, plain only',
        at: on(caFleet, 0),
        tlsMode: 'plain',
        expect: { status: 'online', tlsTier: 'plain' },
      },
      {
        name: 'self-signed, strict',
        at: on(selfSignedFleet, 0),
        tlsMode: 'strict',
        expect: { status: 'tls_failed' },
      },
      {
        name: 'self-signed, allowed',
        at: on(selfSignedFleet, 0),
        tlsMode: 'self_signed',
        expect: { status: 'online', tlsTier: 'self_signed' },
      },
      {
        name: 'self-signed, any',
        at: on(selfSignedFleet, 0),
        tlsMode: 'any',
        expect: { status: 'online', tlsTier: 'self_signed' },
      },
      {
        name: 'anonymous DH, strict',
        at: on(adhFleet, 0),
        tlsMode: 'strict',
        expect: { status: 'tls_failed' },
      },
      {
        name: 'anonymous DH, self-signed allowed',
        at: on(adhFleet, 0),
        tlsMode: 'self_signed',
        expect: { status: 'online', tlsTier: 'self_signed' },
      },
      {
        name: 'TLS reset, any: plain fallback',
        at: on(selfSignedFleet, 1),
        tlsMode: 'any',
        expect: { status: 'online', tlsTier: 'plain' },
      },
      {
        name: 'TLS reset, no plain fallback',
        at: on(selfSignedFleet, 1),
        tlsMode: 'self_signed',
        expect: { status: 'tls_failed' },
      },
      {
        name: 'plain text on the TLS port, no plain fallback',
        at: on(selfSignedFleet, 2),
        tlsMode: 'self_signed',
        expect: { status: 'tls_failed' },
      },
      {
        name: 'plain text on the TLS port, any: plain fallback',
        at: on(selfSignedFleet, 2),
        tlsMode: 'any',
        expect: { status: 'online', tlsTier: 'plain' },
      },
      {
        name: 'wrong password over TLS',
        at: on(selfSignedFleet, 0),
        tlsMode: 'self_signed',
        password: 'not-admin',
        expect: { status: 'auth_failed' },
      },
      {
        name: 'wrong password, plain',
        at: on(selfSignedFleet, 0),
        tlsMode: 'plain',
        password: 'not-admin',
        expect: { status: 'auth_failed' },
      },
      {
        name: 'connection refused',
        at: on(selfSignedFleet, 3),
        tlsMode: 'any',
        expect: { status: 'unreachable' },
      },
    ];
    const ids = cases.map((_, i) => uuid(0xd, 0x100 + i));
    for (const [i, c] of cases.entries()) {
      await registerDevice(nc, { tenantId: TENANT, collectorId: rig.collectorId }, rig.keys.publicKey, {
        deviceId: ids[i]!,
        ...c.at,
        tlsMode: c.tlsMode,
        ...(c.password ? { password: c.password } : {}),
      });
    }
    await until(
      () => rig.collector.deviceCount,
      (n) => n === cases.length,
      10_000,
      'registry',
    );
    await rig.clock.advance(10_000);
    const seen = await until(
      () =>
        ids.map((id) => {
          const e = tap.of(id, 'status')[0];
          return e?.kind === 'status' ? e.data : undefined;
        }),
      (s) => s.every((x) => x !== undefined),
      30_000,
      'a status per device',
    );
    const got = cases.map((c, i) => ({ name: c.name, ...seen[i] }));
    expect(got).toEqual(cases.map((c) => expect.objectContaining({ name: c.name, ...c.expect })));
    // The failures carry their reason; a TLS failure names TLS, a refused login never echoes the password.
    const byName = (n: string) => got.find((g) => g.name === n)!;
    expect(byName('self-signed, strict').reason).toMatch(/^TLS: /);
    expect(byName('wrong password over TLS').reason).not.toContain('not-admin');
    // Online devices published their resource too (right after their status); failed ones only their status.
    const online = ids.filter((_, i) => cases[i]!.expect.status === 'online');
    await until(
      () => online.filter((id) => tap.of(id, 'resource').length === 0),
      (waiting) => waiting.length === 0,
      20_000,
      'resource events of the online devices',
    );
    await tap.settle(nc, rig.collector);
    cases.forEach((c, i) => {
      expect(tap.of(ids[i]!, 'resource').length > 0).toBe(c.expect.status === 'online');
    });
  });
});

describe('circuit breaker', () => {
  it('opens after N consecutive failures, backs off doubling up to the cap, and closes on success', async () => {
    // First poll due at once (random 0), so every poll starts and ends exactly on its due time.
    const rig = await startCollector(
      2,
      { BREAKER_THRESHOLD: '3', BREAKER_BASE_S: '30', BREAKER_MAX_S: '60' },
      () => 0,
    );
    // Failing by refusing the login: a fault cleared in place. (Clearing `unreachable` makes the simulator
    // listen again on the same ephemeral port, which another socket on a busy machine may have taken.)
    const device = selfSignedFleet.device(4);
    await device.setFaults({ refuseLogin: true });
    const id = uuid(0xd, 0x200);
    await registerDevice(nc, { tenantId: TENANT, collectorId: rig.collectorId }, rig.keys.publicKey, {
      deviceId: id,
      ...on(selfSignedFleet, 4),
      tlsMode: 'plain',
      pollIntervalSeconds: 10,
    });
    await until(
      () => rig.collector.deviceCount,
      (n) => n === 1,
      10_000,
      'registry',
    );
    const m = rig.collector.metrics;
    /** One interval of virtual time: the device is either polled (its status is published) or skipped. */
    const step = async (ms = 10_000): Promise<'poll' | 'skip'> => {
      const steps = pollSteps(m);
      const skips = m.breakerSkips.get();
      const statuses = tap.of(id, 'status').length;
      await rig.clock.advance(ms);
      await until(
        () => pollSteps(m),
        (n) => n === steps + 1,
        15_000,
        'one scheduler step',
      );
      if (m.breakerSkips.get() > skips) return 'skip';
      await until(
        () => tap.of(id, 'status').length,
        (n) => n === statuses + 1,
        15_000,
        'status event',
      );
      await tap.settle(nc, rig.collector);
      return 'poll';
    };
    const outcomes: string[] = [await step(0)];
    for (let i = 1; i < 12; i++) outcomes.push(await step());
    // 3 failures open it for 30 s (2 skipped intervals), the trial fails: 60 s (5 skipped), the next trial
    // fails again and the backoff stays at the 60 s cap.
    expect(outcomes).toEqual([
      'poll',
      'poll',
      'poll',
      'skip',
      'skip',
      'poll',
      'skip',
      'skip',
      'skip',
      'skip',
      'skip',
      'poll',
    ]);
    expect(tap.of(id, 'status').map((e) => e.kind === 'status' && e.data.consecutiveFailures)).toEqual([
      1, 2, 3, 4, 5,
    ]);
    expect(tap.of(id, 'status').every((e) => e.kind === 'status' && e.data.status === 'auth_failed')).toBe(
      true,
    );

    await device.clearFaults();
    const after: string[] = [];
    for (let i = 0; i < 8; i++) after.push(await step());
    expect(after).toEqual(['skip', 'skip', 'skip', 'skip', 'skip', 'poll', 'poll', 'poll']);
    const statuses = tap.of(id, 'status').slice(5);
    expect(statuses.map((e) => e.kind === 'status' && [e.data.status, e.data.consecutiveFailures])).toEqual([
      ['online', 0],
      ['online', 0],
      ['online', 0],
    ]);
    expect(m.breakerSkips.get()).toBe(12);
  });
});
