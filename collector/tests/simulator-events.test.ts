// The collector against the simulator and a real nats-server: every event kind it emits lands in stream TOD
// with the payload the simulated device's own state says, read back with a JetStream consumer. Both clocks are
// manual: the simulator's freezes the devices' live values, the collector's decides when polls happen, and the
// two advance together so rates are exact.
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { type DeviceEvent, EVENT_STREAM } from '@tod/contracts';
import { RouterOSAPI } from 'node-routeros';
import pino from 'pino';
import { beforeAll, describe, expect, it } from 'vitest';
import { ManualClock as SimClock } from '../../simulator/src/device/clock';
import type { Device } from '../../simulator/src/device/device';
import { liveHealth, liveInterface, liveRegistrations, liveResource } from '../../simulator/src/device/live';
import { type Fleet, startFleet } from '../../simulator/src/fleet';
import { freshNats } from '../../tests/env';
import { onFileEnd } from '../../tests/env/cleanup';
import { ManualClock } from '../src/clock';
import { Collector } from '../src/collector';
import { loadCollectorConfig } from '../src/config';
import { ensureEventStream } from '../src/relay/relay';
import {
  type CollectorKeys,
  newCollectorKeys,
  pollSteps,
  registerDevice,
  StreamTap,
  tempDir,
  until,
  uuid,
} from './harness';

const TENANT = uuid(0xa, 1);
const COLLECTOR = uuid(0xc, 1);
// hAP ax³ 7.18 (wifi AP without clients: `!empty` replies), wAP ac 6.49 (legacy wireless AP), LHG 5 6.42
// (legacy MD5 login, station of the wAP), CCR2004 7.8 (fans, PSU), RB5009 7.16.
const BOARDS = ['hap-ax3', 'wap-ac', 'lhg-5', 'ccr2004', 'rb5009'];
const deviceId = (i: number) => uuid(0xd, i + 1);

let nc: NatsConnection;
let fleet: Fleet;
let keys: CollectorKeys;
let collector: Collector;
let tap: StreamTap;
const simClock = new SimClock();
const clock = new ManualClock(simClock.now());

beforeAll(async () => {
  const nats = await freshNats();
  nc = await connect({ servers: nats.url });
  onFileEnd(() => nc.close());
  await ensureEventStream(nc);
  tap = await StreamTap.start(nc);
  fleet = await startFleet({ devices: BOARDS.length, boards: BOARDS, clock: simClock, tls: false });
  onFileEnd(() => fleet.stop());
  keys = await newCollectorKeys();
  collector = new Collector({
    nc,
    identity: { tenantId: TENANT, collectorId: COLLECTOR, privateKey: keys.privateKey },
    config: loadCollectorConfig({ TOD_COLLECTOR_STATE_DIR: await tempDir('tod-col-events-') }),
    logger: pino({ level: 'silent' }),
    clock,
    // Every first poll due at once: polls then start and end exactly on their due times, and the
    // collector's elapsed time between two polls is exactly what both clocks advanced.
    random: () => 0,
  });
  await collector.start();
  onFileEnd(() => collector.stop(2000));
  for (const d of fleet.manifest.devices) {
    await registerDevice(nc, { tenantId: TENANT, collectorId: COLLECTOR }, keys.publicKey, {
      deviceId: deviceId(d.index),
      port: d.port,
      tlsMode: 'plain',
      pollIntervalSeconds: 60,
    });
  }
  await until(
    () => collector.deviceCount,
    (n) => n === BOARDS.length,
    10_000,
    'registry applied',
  );
});

/** One poll round: every device polled once and its events in the stream. */
async function pollRound(ms: number): Promise<void> {
  const steps = pollSteps(collector.metrics);
  const before = BOARDS.map((_, i) => tap.of(deviceId(i), 'status').length);
  await clock.advance(ms);
  await until(
    () => pollSteps(collector.metrics),
    (n) => n >= steps + BOARDS.length,
    20_000,
    'polls',
  );
  await until(
    () => BOARDS.map((_, i) => tap.of(deviceId(i), 'status').length),
    (n) => n.every((c, i) => c > before[i]!),
    20_000,
    'status events',
  );
  await tap.settle(nc, collector);
}

const sample = (e: DeviceEvent, name: string | undefined) =>
  e.kind === 'interfaces' ? e.data.interfaces.find((x) => x.name === name) : undefined;
const sim = (i: number): Device => fleet.device(i).device;
const last = <T>(xs: T[]): T => {
  expect(xs.length).toBeGreaterThan(0);
  return xs.at(-1)!;
};

describe('collector → stream TOD, payloads as the simulated devices hold them', () => {
  it('publishes status, resource, interfaces, health and wireless for every device', async () => {
    await pollRound(0);
    for (let i = 0; i < BOARDS.length; i++) {
      const d = sim(i);
      const id = deviceId(i);
      const status = last(tap.of(id, 'status'));
      expect(status.data).toMatchObject({ status: 'online', tlsTier: 'plain', consecutiveFailures: 0 });
      expect(status).toMatchObject({ tenantId: TENANT, collectorId: COLLECTOR, deviceId: id });

      const r = liveResource(d);
      const resource = last(tap.of(id, 'resource'));
      expect(resource.data).toEqual({
        identity: d.identity,
        cpuLoad: Number(r['cpu-load']),
        freeMemory: Number(r['free-memory']),
        totalMemory: d.board.totalMemory,
        freeHdd: Number(r['free-hdd-space']),
        totalHdd: d.board.totalHdd,
        uptimeSeconds: Math.floor(d.uptimeMs / 1000),
        version: d.version,
        boardName: d.board.boardName,
        architecture: d.board.architecture,
        model: d.board.model,
        serial: d.serial,
        firmware: d.version,
      });

      const ifaces = last(tap.of(id, 'interfaces'));
      const rows = d.table('interface').rows;
      expect(ifaces.kind === 'interfaces' && ifaces.data.interfaces.map((x) => x.name)).toEqual(
        rows.map((x) => x.name),
      );
      for (const row of rows) {
        const live = liveInterface(d, row);
        const got = sample(ifaces, row.name);
        expect(got).toMatchObject({
          type: row.type,
          running: row.running === 'true',
          disabled: row.disabled === 'true',
          rxBytes: Number(live['rx-byte']),
          txBytes: Number(live['tx-byte']),
          rxPackets: Number(live['rx-packet']),
          txPackets: Number(live['tx-packet']),
          rxErrors: Number(live['rx-error']),
          txErrors: Number(live['tx-error']),
        });
        // The first sample has no previous one: no rate yet.
        expect(got?.rxBps).toBeUndefined();
      }

      const health = liveHealth(d);
      const sensors = new Map<string, string>();
      for (const h of health)
        if (h.name !== undefined && h.value !== undefined) sensors.set(h.name, h.value);
        else for (const [k, v] of Object.entries(h)) sensors.set(k, v);
      const healthEvent = last(tap.of(id, 'health'));
      expect(healthEvent.data).toMatchObject({
        voltage: Number(sensors.get('voltage')),
        cpuTemperatureC: Number(sensors.get('cpu-temperature')),
        ...(sensors.has('temperature') ? { temperatureC: Number(sensors.get('temperature')) } : {}),
      });
    }
    // CCR2004 reports its fan and PSU.
    const fan = liveHealth(sim(3)).find((h) => h.name === 'fan1-speed')?.value;
    expect(last(tap.of(deviceId(3), 'health')).data).toMatchObject({
      fans: { fan1: Number(fan) },
      psu: { psu1: 'ok' },
    });

    // Wireless: the hAP ax³ (wifi menu, no clients: `!empty`), the wAP ac and its LHG station (legacy menu).
    expect(tap.of(deviceId(0), 'wireless').at(-1)?.data).toEqual({ clients: [] });
    for (const i of [1, 2]) {
      const rows = liveRegistrations(sim(i), 'wireless');
      expect(rows.length).toBeGreaterThan(0);
      expect(last(tap.of(deviceId(i), 'wireless')).data).toEqual({
        clients: rows.map((r) => ({
          interface: r.interface,
          macAddress: r['mac-address']!.toUpperCase(),
          signalDbm: Number.parseInt(r['signal-strength']!, 10),
          txRateMbps: Number.parseFloat(r['tx-rate']!),
          rxRateMbps: Number.parseFloat(r['rx-rate']!),
          uptimeSeconds: expect.any(Number),
        })),
      });
    }
    // The wAP's client is the LHG's own radio.
    const lhgRadio = sim(2)
      .table('interface')
      .rows.find((r) => r.name === 'wlan1')?.['mac-address'];
    expect(last(tap.of(deviceId(1), 'wireless')).data).toMatchObject({
      clients: [{ macAddress: lhgRadio }],
    });
    // Switches and routers without a radio publish no wireless event.
    expect(tap.of(deviceId(3), 'wireless')).toEqual([]);
    expect(tap.of(deviceId(4), 'wireless')).toEqual([]);
  });

  it('computes interface rates from the counter deltas and reports a configuration change', async () => {
    const before = BOARDS.map((_, i) =>
      sim(i)
        .table('interface')
        .rows.map((row) => ({ name: row.name, rx: Number(liveInterface(sim(i), row)['rx-byte']) })),
    );
    simClock.advance(60_000);
    // A change made on the CCR through its API, as an admin would.
    const m = fleet.manifest.devices[3]!;
    const api = new RouterOSAPI({ host: m.host, port: m.port, user: 'admin', password: 'admin', timeout: 5 });
    api.on('error', () => {});
    await api.connect();
    await api.write(['/system/identity/set', '=name=core-renamed']);
    await api.close();

    await pollRound(60_000);
    for (let i = 0; i < BOARDS.length; i++) {
      const ifaces = last(tap.of(deviceId(i), 'interfaces'));
      for (const prev of before[i]!) {
        const row = sim(i)
          .table('interface')
          .rows.find((r) => r.name === prev.name)!;
        const rx = Number(liveInterface(sim(i), row)['rx-byte']);
        const got = sample(ifaces, prev.name);
        expect(got?.rxBps).toBeCloseTo(((rx - prev.rx) * 8) / 60, 6);
      }
    }
    expect(last(tap.of(deviceId(3), 'resource')).data).toMatchObject({ identity: 'core-renamed' });
    const changed = tap.of(deviceId(3), 'config-changed');
    expect(changed).toHaveLength(1);
    expect(changed[0]!.data).toMatchObject({ previousMarker: 'empty', marker: expect.stringMatching(/^1:/) });
    for (const i of [0, 1, 2, 4]) expect(tap.of(deviceId(i), 'config-changed')).toEqual([]);
  });

  it('stores each event once under its own id as Nats-Msg-Id, on its device and kind subject', async () => {
    const ids = tap.events.map((s) => s.msgId);
    expect(new Set(ids).size).toBe(ids.length);
    for (const s of tap.events) {
      expect(s.msgId).toBe(s.event.id);
      expect(s.subject).toBe(`tod.evt.${TENANT}.${s.event.deviceId}.${s.event.kind}`);
    }
    expect(new Set(tap.events.map((s) => s.event.kind))).toEqual(
      new Set([
        'status',
        'resource',
        'interfaces',
        'health',
        'wireless',
        'config-changed',
        // The backup of each device at first sight, and of the CCR after its change (collector/tests/backups.test.ts).
        'config-snapshot',
      ]),
    );
    expect(EVENT_STREAM.subjects).toContain('tod.evt.>');
  });
});
