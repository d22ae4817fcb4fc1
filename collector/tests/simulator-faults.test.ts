// Robustness: every fault mode the simulator can stage, each on its own device of one fleet polled by one
// collector. A hostile or broken device ends as its own status; the healthy devices keep being polled, and the
// process sees no uncaught exception or unhandled rejection (Vitest would fail the file; we also count them).
// The hAP ax³ (RouterOS 7.18: `!empty` replies) is fragmented byte by byte, so every sentence's final zero byte
// arrives alone: the two node-routeros defects the patch fixes, through the whole collector.
import { connect, type NatsConnection } from '@nats-io/transport-node';
import type { DeviceEventStatus, DeviceRegistration, PolledStatus } from '@tod/contracts';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FAULT_KEYS, type FaultSet } from '../../simulator/src/faults/faults';
import { type Fleet, startFleet } from '../../simulator/src/fleet';
import { freshNats } from '../../tests/env';
import { onFileEnd } from '../../tests/env/cleanup';
import { ManualClock } from '../src/clock';
import { Collector } from '../src/collector';
import { loadCollectorConfig } from '../src/config';
import { ensureEventStream } from '../src/relay/relay';
import { newCollectorKeys, pollSteps, registerDevice, StreamTap, tempDir, until, uuid } from './harness';

const TENANT = uuid(0xa, 3);
const COLLECTOR = uuid(0xc, 3);

interface Case {
  name: string;
  board: string;
  faults: FaultSet;
  tlsMode?: DeviceRegistration['tlsMode'];
  /** Statuses this device may report while faulted. */
  expect: PolledStatus[];
}

const CASES: Case[] = [
  { name: 'healthy RB5009', board: 'rb5009', faults: {}, expect: ['online'] },
  { name: 'healthy hAP ax³ (7.18)', board: 'hap-ax3', faults: {}, expect: ['online'] },
  { name: 'latency 50 ms', board: 'rb5009', faults: { latencyMs: 50 }, expect: ['online'] },
  {
    name: 'latency beyond the timeout',
    board: 'rb5009',
    faults: { latencyMs: 5000 },
    expect: ['unreachable'],
  },
  { name: 'hang', board: 'rb5009', faults: { hang: true }, expect: ['unreachable'] },
  { name: 'drop mid-sentence', board: 'rb5009', faults: { dropMidSentence: true }, expect: ['unreachable'] },
  {
    name: 'drop mid-sentence at login',
    board: 'rb5009',
    faults: { dropMidSentence: true, scope: 'all' },
    expect: ['unreachable'],
  },
  {
    name: '7.18 fragmented byte by byte, login included',
    board: 'hap-ax3',
    faults: { fragment: { every: 1, gapMs: 0 }, scope: 'all' },
    expect: ['online'],
  },
  {
    name: 'fragmented every 2 bytes',
    board: 'rb5009',
    faults: { fragment: { every: 2, gapMs: 0 } },
    expect: ['online'],
  },
  { name: 'malformed length', board: 'rb5009', faults: { malformedLength: true }, expect: ['unreachable'] },
  { name: 'garbage', board: 'rb5009', faults: { garbage: true }, expect: ['unreachable'] },
  {
    name: 'garbage at login',
    board: 'rb5009',
    faults: { garbage: true, scope: 'all' },
    expect: ['unreachable'],
  },
  {
    // Well-framed but untagged: nobody waits for it, so it is dropped and the device works.
    name: 'a stray `!oops` sentence before every reply',
    board: 'rb5009',
    faults: { garbage: [0x05, 0x21, 0x6f, 0x6f, 0x70, 0x73, 0x00], scope: 'all' },
    expect: ['online'],
  },
  { name: '!fatal', board: 'rb5009', faults: { fatal: 'out of memory' }, expect: ['unreachable'] },
  { name: 'login refused', board: 'rb5009', faults: { refuseLogin: true }, expect: ['auth_failed'] },
  {
    name: 'TLS reset',
    board: 'rb5009',
    faults: { tlsFailure: 'reset' },
    tlsMode: 'self_signed',
    expect: ['tls_failed'],
  },
  {
    name: 'TLS answered in plain text',
    board: 'rb5009',
    faults: { tlsFailure: 'plaintext' },
    tlsMode: 'self_signed',
    expect: ['tls_failed'],
  },
  {
    name: 'reboot loop',
    board: 'rb5009',
    faults: { rebootLoop: { upMs: 150 } },
    expect: ['unreachable', 'online'],
  },
  { name: 'unreachable', board: 'rb5009', faults: { unreachable: true }, expect: ['unreachable'] },
];
const HEALTHY = [0, 1];
const deviceId = (i: number) => uuid(0xd, 0x300 + i);

let nc: NatsConnection;
let fleet: Fleet;
let collector: Collector;
let tap: StreamTap;
const clock = new ManualClock(Date.now());
const escaped: unknown[] = [];
const onEscape = (err: unknown) => escaped.push(err);

beforeAll(async () => {
  process.on('uncaughtException', onEscape);
  process.on('unhandledRejection', onEscape);
  const nats = await freshNats();
  nc = await connect({ servers: nats.url });
  onFileEnd(() => nc.close());
  await ensureEventStream(nc);
  tap = await StreamTap.start(nc);
  fleet = await startFleet({
    devices: CASES.length,
    boards: CASES.map((c) => c.board),
    tls: { mode: 'self-signed' },
    rebootDurationMs: 100,
  });
  onFileEnd(() => fleet.stop());
  const keys = await newCollectorKeys();
  collector = new Collector({
    nc,
    identity: { tenantId: TENANT, collectorId: COLLECTOR, privateKey: keys.privateKey },
    config: loadCollectorConfig({
      TOD_COLLECTOR_STATE_DIR: await tempDir('tod-col-faults-'),
      CONNECT_TIMEOUT_S: '2',
      COMMAND_TIMEOUT_S: '60',
    }),
    logger: pino({ level: 'silent' }),
    clock,
  });
  await collector.start();
  onFileEnd(() => collector.stop(2000));
  for (const [i, c] of CASES.entries()) {
    await fleet.device(i).setFaults(c.faults);
    const m = fleet.manifest.devices[i]!;
    await registerDevice(nc, { tenantId: TENANT, collectorId: COLLECTOR }, keys.publicKey, {
      deviceId: deviceId(i),
      port: m.port,
      tlsPort: m.tlsPort!,
      tlsMode: c.tlsMode ?? 'plain',
    });
  }
  await until(
    () => collector.deviceCount,
    (n) => n === CASES.length,
    10_000,
    'registry',
  );
});

afterAll(() => {
  process.off('uncaughtException', onEscape);
  process.off('unhandledRejection', onEscape);
});

/** One interval: every device polled once; returns each device's status of this round. */
async function round(): Promise<(DeviceEventStatus | undefined)[]> {
  const steps = pollSteps(collector.metrics);
  const before = CASES.map((_, i) => tap.of(deviceId(i), 'status').length);
  await clock.advance(10_000);
  await until(
    () => pollSteps(collector.metrics),
    (n) => n >= steps + CASES.length,
    120_000,
    'polls',
  );
  const statuses = await until(
    () => CASES.map((_, i) => tap.of(deviceId(i), 'status').slice(before[i]!)),
    (s) => s.every((x) => x.length > 0),
    20_000,
    'a status from every device',
  );
  await tap.settle(nc, collector);
  return statuses.map((s) => {
    const e = s.at(-1)!;
    return e.kind === 'status' ? e.data.status : undefined;
  });
}

describe('every simulator fault mode stays inside its own device', { timeout: 180_000 }, () => {
  it('covers every fault mode the simulator has', () => {
    const used = new Set(CASES.flatMap((c) => Object.keys(c.faults)));
    expect(FAULT_KEYS.filter((k) => !used.has(k))).toEqual([]);
  });

  it('polls the healthy devices every round while the others fail their own way', async () => {
    for (let r = 0; r < 3; r++) {
      const statuses = await round();
      const got = CASES.map((c, i) => ({ name: c.name, status: statuses[i] }));
      expect(got).toEqual(
        CASES.map((c) => ({ name: c.name, status: expect.toBeOneOf(c.expect) as PolledStatus })),
      );
      for (const i of HEALTHY) expect(statuses[i]).toBe('online');
    }
    // Byte-by-byte fragmentation of a 7.18 device: its polls completed, with the `!empty` wireless table.
    const fragmented = CASES.findIndex((c) => c.faults.fragment?.every === 1);
    expect(tap.of(deviceId(fragmented), 'resource')).toHaveLength(3);
    expect(tap.of(deviceId(fragmented), 'wireless').at(-1)?.data).toEqual({ clients: [] });
    expect(escaped).toEqual([]);
  });

  it('recovers every device once its fault is cleared', async () => {
    // Clearing `unreachable` makes the simulator listen again on the same ephemeral port; on a busy machine
    // another socket may have taken it meanwhile, and then that device stays unreachable (the simulator's
    // limit, not the collector's).
    const refused = CASES.findIndex((c) => c.faults.unreachable);
    let portLost = false;
    for (let i = 0; i < CASES.length; i++) {
      try {
        await fleet.device(i).clearFaults();
      } catch (err) {
        if (i !== refused || !/EADDRINUSE/.test(String(err))) throw err;
        portLost = true;
      }
    }
    const looping = CASES.findIndex((c) => c.faults.rebootLoop);
    await until(
      () => fleet.device(looping).device.up,
      (up) => up,
      10_000,
      'reboot loop device up',
    );
    const statuses = await round();
    expect(CASES.map((c, i) => ({ name: c.name, status: statuses[i] }))).toEqual(
      CASES.map((c, i) => ({
        name: c.name,
        // Which of its ports the simulator got back decides; only that device is affected either way.
        status: i === refused && portLost ? expect.toBeOneOf(['online', 'unreachable']) : 'online',
      })),
    );
    expect(escaped).toEqual([]);
  });
});
