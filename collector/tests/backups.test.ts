// Configuration backups against the simulator and a real nats-server, both clocks manual: a backup at first
// sight, one after a change made on the device within a poll interval, none while nothing changes, the nightly
// one in its window, and a failing export that is counted without touching the device's status.
import { statSync } from 'node:fs';
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { normaliseExport } from '@tod/contracts';
import pino from 'pino';
import { beforeAll, describe, expect, it } from 'vitest';
import { ManualClock as SimClock } from '../../simulator/src/device/clock';
import { type Fleet, startFleet } from '../../simulator/src/fleet';
import { freshNats } from '../../tests/env';
import { onFileEnd } from '../../tests/env/cleanup';
import { ManualClock } from '../src/clock';
import { Collector } from '../src/collector';
import { loadCollectorConfig } from '../src/config';
import { ensureEventStream } from '../src/relay/relay';
import { RouterSession } from '../src/routeros/session';
import {
  type CollectorKeys,
  newCollectorKeys,
  pollRound,
  registerDevice,
  StreamTap,
  tempDir,
  until,
  uuid,
} from './harness';

const TENANT = uuid(0xa, 2);
const COLLECTOR = uuid(0xc, 2);
const DEVICES = 3;
const FAILING = 2;
const deviceId = (i: number) => uuid(0xd, i + 1);
// Local time of the collector: the test starts at 01:00, the nightly window is 01:30–01:45.
const START = new Date(2026, 0, 10, 1, 0, 0, 0).getTime();
const WINDOW_START = new Date(2026, 0, 10, 1, 30, 0, 0).getTime();
const WINDOW_END = new Date(2026, 0, 10, 1, 45, 0, 0).getTime();

let nc: NatsConnection;
let fleet: Fleet;
let collector: Collector;
let keys: CollectorKeys;
let tap: StreamTap;
let outboxDir: string;
const logs: string[] = [];
const simClock = new SimClock(START);
const clock = new ManualClock(START);

async function adminSession(i: number): Promise<RouterSession> {
  const m = fleet.manifest.devices[i]!;
  return RouterSession.open(
    { host: m.host, port: m.port, tlsPort: m.port, tlsMode: 'plain', username: 'admin', password: 'admin' },
    { connectTimeoutMs: 5000, commandTimeoutMs: 5000 },
  );
}

beforeAll(async () => {
  const nats = await freshNats();
  nc = await connect({ servers: nats.url });
  onFileEnd(() => nc.close());
  await ensureEventStream(nc);
  tap = await StreamTap.start(nc);
  fleet = await startFleet({ devices: DEVICES, boards: ['rb5009'], clock: simClock, tls: false });
  onFileEnd(() => fleet.stop());
  // The failing device's export is too large for /file/print and it has no /file/read: every export fails.
  const s = await adminSession(FAILING);
  for (let i = 0; i < 120; i++)
    await s.run('/ip/firewall/address-list/add', { list: 'bulk', address: `10.9.${i}.0/24` });
  s.close();

  keys = await newCollectorKeys();
  const stateDir = await tempDir('tod-col-backups-');
  outboxDir = join(stateDir, 'outbox');
  collector = new Collector({
    nc,
    identity: { tenantId: TENANT, collectorId: COLLECTOR, privateKey: keys.privateKey },
    config: loadCollectorConfig({
      TOD_COLLECTOR_STATE_DIR: stateDir,
      BACKUP_WINDOW: '01:30-01:45',
      BACKUP_STARTUP_SPREAD_S: '0',
    }),
    logger: pino({ level: 'info' }, { write: (line: string) => void logs.push(line) }),
    clock,
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
      password: 'admin',
    });
  }
  await until(
    () => collector.deviceCount,
    (n) => n === DEVICES,
    10_000,
    'registry applied',
  );
});

/** Both clocks advance; every device takes one slot (its poll and any backup) and the events are in the stream. */
async function round(ms: number): Promise<void> {
  await pollRound(collector, { clock, simClock, ms, slots: DEVICES });
  await tap.settle(nc, collector);
}

const snapshots = (i: number) => tap.of(deviceId(i), 'config-snapshot');
const backups = (outcome: string) => collector.metrics.backups.get({ outcome });

describe('configuration backups', () => {
  it('takes one backup of each device at first sight; a failing export is counted, the device stays online', async () => {
    await round(0);
    for (const i of [0, 1]) {
      const [snap] = snapshots(i);
      expect(snapshots(i)).toHaveLength(1);
      expect(snap?.kind === 'config-snapshot' && snap.data).toMatchObject({
        trigger: 'change',
        sensitive: false,
        routerosVersion: expect.stringMatching(/^7\./),
      });
      expect(snap?.kind === 'config-snapshot' && snap.data.export).toContain(
        `set name=${fleet.manifest.devices[i]!.identity}`,
      );
    }
    expect(snapshots(FAILING)).toEqual([]);
    expect(backups('ok')).toBe(2);
    expect(backups('failed')).toBe(1);
    expect(collector.metrics.render()).toContain('tod_collector_backups_total{outcome="failed"} 1');
  });

  it('takes none while nothing changes; the failing device is retried and stays online throughout', async () => {
    for (let k = 0; k < 12; k++) await round(60_000);
    for (const i of [0, 1]) expect(snapshots(i)).toHaveLength(1);
    expect(snapshots(FAILING)).toEqual([]);
    // Retried after 5 and 10 minutes, then left for the next change or night.
    expect(backups('failed')).toBe(3);
    const statuses = tap.of(deviceId(FAILING), 'status');
    expect(statuses.length).toBe(13);
    expect(statuses.every((e) => e.kind === 'status' && e.data.status === 'online')).toBe(true);
    expect(collector.metrics.polls.get({ outcome: 'online' })).toBe(13 * DEVICES);
  });

  it('backs up a change made on the device within one poll interval', async () => {
    const s = await adminSession(0);
    await s.run('/system/identity/set', { name: 'renamed-by-admin' });
    s.close();
    const changedAt = clock.now();
    await round(60_000);
    expect(tap.of(deviceId(0), 'config-changed')).toHaveLength(1);
    const all = snapshots(0);
    expect(all).toHaveLength(2);
    const [before, after] = all.map((e) => (e.kind === 'config-snapshot' ? e.data.export : ''));
    expect(after).toContain('set name=renamed-by-admin');
    expect(normaliseExport(after!)).not.toBe(normaliseExport(before!));
    expect(all[1]!.kind === 'config-snapshot' && all[1]!.data.trigger).toBe('change');
    expect(Date.parse(all[1]!.at) - changedAt).toBeLessThanOrEqual(60_000 + 60_000);
    expect(snapshots(1)).toHaveLength(1);
  });

  it('takes the nightly backup of every device in its window, once', async () => {
    while (clock.now() < WINDOW_END + 5 * 60_000) await round(60_000);
    for (const i of [0, 1]) {
      const nightly = snapshots(i).filter(
        (e) => e.kind === 'config-snapshot' && e.data.trigger === 'nightly',
      );
      expect(nightly).toHaveLength(1);
      const at = Date.parse(nightly[0]!.at);
      expect(at).toBeGreaterThanOrEqual(WINDOW_START);
      // Taken in the first slot at or after the device's time in the window.
      expect(at).toBeLessThanOrEqual(WINDOW_END + 60_000);
    }
    expect(backups('failed')).toBe(4);
    expect(
      tap.of(deviceId(FAILING), 'status').every((e) => e.kind === 'status' && e.data.status === 'online'),
    ).toBe(true);
  });

  it('exports secrets only where the registry entry allows it', async () => {
    const KEY = 'cGhhbnRvbS1wcml2YXRlLWtleS1mb3ItdGVzdGluZzE=';
    const s = await adminSession(1);
    await s.run('/interface/wireguard/add', {
      name: 'wg-backup',
      'private-key': KEY,
      'listen-port': '13231',
    });
    s.close();
    // The same router under a second registry entry whose tenant policy allows secrets.
    const allowed = uuid(0xd, 10);
    await registerDevice(nc, { tenantId: TENANT, collectorId: COLLECTOR }, keys.publicKey, {
      deviceId: allowed,
      port: fleet.manifest.devices[1]!.port,
      tlsMode: 'plain',
      pollIntervalSeconds: 60,
      backup: { showSensitive: true },
    });
    await until(
      () => collector.deviceCount,
      (n) => n === DEVICES + 1,
      10_000,
      'registry applied',
    );
    await clock.advance(0);
    const [snap] = await until(
      () => tap.of(allowed, 'config-snapshot'),
      (xs) => xs.length === 1,
      20_000,
      'snapshot of the allowed entry',
    );
    expect(snap?.kind === 'config-snapshot' && snap.data.sensitive).toBe(true);
    expect(snap?.kind === 'config-snapshot' && snap.data.export).toContain(`private-key="${KEY}"`);
    // The default entry of the same router: its change backup names the interface without its key.
    await round(60_000);
    const last = snapshots(1).at(-1);
    expect(last?.kind === 'config-snapshot' && last.data).toMatchObject({
      trigger: 'change',
      sensitive: false,
    });
    expect(last?.kind === 'config-snapshot' && last.data.export).toContain('name=wg-backup');
    expect(last?.kind === 'config-snapshot' && last.data.export).not.toContain(KEY.slice(0, 20));
    expect(logs.join('\n')).not.toContain(KEY.slice(0, 20));
  });

  it('keeps the outbox to the collector (0700 dir, 0600 files) and never logs an export', async () => {
    expect(statSync(outboxDir).mode & 0o777).toBe(0o700);
    for (const name of await readdir(outboxDir))
      expect(statSync(join(outboxDir, name)).mode & 0o777, name).toBe(0o600);
    const text = logs.join('\n');
    expect(text).toContain('configuration backup taken');
    expect(text).toContain('configuration backup failed');
    expect(text).not.toContain('/system identity');
    expect(text).not.toContain('renamed-by-admin');
  });
});
