// An HA pair: two collectors of one site both receive the same devices and share them through per-device leases
// in NATS KV `tod-leases`. Counted at the router side: a device is never polled by both; when the holder dies
// (stops without releasing) the peer takes over within two intervals; a graceful stop hands over at once.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Kvm } from '@nats-io/kv';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import {
  type CommandReply,
  CREDENTIALS_JWE,
  commandSubject,
  DEVICES_BUCKET,
  type DeviceRegistration,
} from '@tod/contracts';
import { CompactEncrypt, type CryptoKey, generateKeyPair } from 'jose';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freshNats } from '../../tests/env';
import { onFileEnd } from '../../tests/env/cleanup';
import { Collector } from '../src/collector';
import { loadCollectorConfig } from '../src/config';
import { ensureEventStream } from '../src/relay/relay';
import { until } from './harness';
import { type ScriptedRouter, sentence, startScriptedRouter } from './scripted-router';

const TENANT = '8c1d3c52-1b1e-4c3f-9a55-0a00000000a1';
const COLLECTOR_A = '8c1d3c52-1b1e-4c3f-9a55-0c00000000a1';
const COLLECTOR_B = '8c1d3c52-1b1e-4c3f-9a55-0c00000000b1';
const DEVICES = [1, 2, 3, 4, 5, 6].map((n) => `8c1d3c52-1b1e-4c3f-9a55-0d00000000a${n}`);
const INTERVAL_MS = 10_000;

interface Poll {
  at: number;
  connection: number;
}

let natsUrl: string;
let nc: NatsConnection;
const routers = new Map<string, ScriptedRouter>();
const polls = new Map<string, Poll[]>();
const keys = new Map<string, { publicKey: CryptoKey; privateKey: CryptoKey }>();
const running = new Map<string, Collector>();
const connections: NatsConnection[] = [];
let stateRoot: string;

function reply(tag: string, command: string): Buffer[] {
  const rows: Record<string, Record<string, string>[]> = {
    '/system/resource/print': [
      {
        uptime: '1h',
        version: '7.16.2 (stable)',
        'free-memory': '100',
        'total-memory': '200',
        'cpu-load': '3',
        'architecture-name': 'arm64',
        'board-name': 'hAP ax2',
      },
    ],
    '/system/identity/print': [{ name: 'ha-rtr' }],
    '/interface/print': [{ name: 'ether1', type: 'ether', 'rx-byte': '1', 'tx-byte': '2', running: 'true' }],
  };
  const r = rows[command];
  if (!r) {
    return [
      Buffer.concat([
        sentence(['!trap', `=message=no such command or directory (${command})`, `.tag=${tag}`]),
        sentence(['!done', `.tag=${tag}`]),
      ]),
    ];
  }
  return [
    Buffer.concat([
      ...r.map((row) =>
        sentence(['!re', ...Object.entries(row).map(([k, v]) => `=${k}=${v}`), `.tag=${tag}`]),
      ),
      sentence(['!done', `.tag=${tag}`]),
    ]),
  ];
}

async function startCollector(collectorId: string): Promise<Collector> {
  const cnc = await connect({ servers: natsUrl });
  connections.push(cnc);
  const collector = new Collector({
    nc: cnc,
    identity: { tenantId: TENANT, collectorId, privateKey: keys.get(collectorId)!.privateKey },
    config: loadCollectorConfig({
      TOD_COLLECTOR_STATE_DIR: join(stateRoot, collectorId),
      POLL_INTERVAL_S: String(INTERVAL_MS / 1000),
      CONNECT_TIMEOUT_S: '2',
      COMMAND_TIMEOUT_S: '5',
    }),
    logger: pino({ level: 'silent' }),
  });
  await collector.start();
  running.set(collectorId, collector);
  return collector;
}

/** The device's entry under each collector of the site, sealed to each one's key (what the edge mirror writes). */
async function registerShared(deviceId: string): Promise<void> {
  const kv = await new Kvm(nc).open(DEVICES_BUCKET);
  for (const collectorId of [COLLECTOR_A, COLLECTOR_B]) {
    const credentials = await new CompactEncrypt(
      new TextEncoder().encode(JSON.stringify({ username: 'api', password: 'pw' })),
    )
      .setProtectedHeader({ alg: CREDENTIALS_JWE.alg, enc: CREDENTIALS_JWE.enc })
      .encrypt(keys.get(collectorId)!.publicKey);
    const reg: DeviceRegistration = {
      v: 1,
      tenantId: TENANT,
      collectorId,
      deviceId,
      name: 'ha',
      host: '127.0.0.1',
      port: routers.get(deviceId)!.port,
      tlsPort: 1,
      tlsMode: 'plain',
      pollIntervalSeconds: INTERVAL_MS / 1000,
      siteCollectors: [COLLECTOR_A, COLLECTOR_B],
      credentials,
      updatedAt: new Date().toISOString(),
    };
    await kv.put(`${TENANT}.${collectorId}.${deviceId}`, JSON.stringify(reg));
  }
}

/** Two polls of one device closer than half an interval: both collectors polled it in the same cycle. A gap that
 * spans a handover (the old holder stopped in between) is not one: the new holder starts its own cadence. */
function doublePolls(handovers: number[] = []): { deviceId: string; gapMs: number }[] {
  const out: { deviceId: string; gapMs: number }[] = [];
  for (const [deviceId, list] of polls) {
    for (let i = 1; i < list.length; i++) {
      const prev = list[i - 1]!.at;
      const at = list[i]!.at;
      const gapMs = at - prev;
      if (gapMs < INTERVAL_MS / 2 && !handovers.some((h) => prev <= h && h <= at))
        out.push({ deviceId, gapMs });
    }
  }
  return out;
}

const pollsAfter = (deviceId: string, t: number) => (polls.get(deviceId) ?? []).filter((p) => p.at > t);

beforeAll(async () => {
  const nats = await freshNats();
  natsUrl = nats.url;
  nc = await connect({ servers: natsUrl });
  await ensureEventStream(nc);
  await new Kvm(nc).create(DEVICES_BUCKET, { history: 1 });
  stateRoot = await mkdtemp(join(tmpdir(), 'tod-collector-ha-'));
  onFileEnd(() => rm(stateRoot, { recursive: true, force: true }));
  for (const id of [COLLECTOR_A, COLLECTOR_B]) {
    keys.set(id, await generateKeyPair(CREDENTIALS_JWE.alg, { crv: CREDENTIALS_JWE.crv }));
  }
  for (const deviceId of DEVICES) {
    const router = await startScriptedRouter();
    polls.set(deviceId, []);
    router.script = (tag, command, _words, connection) => {
      // A poll reads the identity; the backup after a device's first poll reads /system/resource too.
      if (command === '/system/identity/print')
        polls.get(deviceId)!.push({ at: Date.now(), connection: connection ?? 0 });
      return reply(tag, command);
    };
    routers.set(deviceId, router);
  }
  await startCollector(COLLECTOR_A);
  await startCollector(COLLECTOR_B);
  for (const deviceId of DEVICES) await registerShared(deviceId);
});

afterAll(async () => {
  for (const c of running.values()) await c.stop(1000);
  for (const r of routers.values()) await r.close();
  for (const c of connections) await c.close();
  await nc?.close();
});

describe('HA pair', () => {
  it('polls every shared device from one collector at a time', async () => {
    // Three full intervals with both collectors live.
    await until(
      () => DEVICES.map((d) => polls.get(d)!.length),
      (n) => n.every((x) => x >= 3),
      5 * INTERVAL_MS,
    );
    expect(doublePolls()).toEqual([]);
    for (const deviceId of DEVICES) {
      // One session: the lease holder's; the standby never connects.
      expect(new Set(polls.get(deviceId)!.map((p) => p.connection)).size).toBe(1);
    }
    const a = running.get(COLLECTOR_A)!.leasedDevices();
    const b = running.get(COLLECTOR_B)!.leasedDevices();
    expect([...a, ...b].sort()).toEqual([...DEVICES].sort());
    expect(a.filter((d) => b.includes(d))).toEqual([]);
    expect(running.get(COLLECTOR_A)!.metrics.render()).toMatch(/tod_collector_leases_held \d+/);

    // Commands for a shared device: the lease holder runs them, the standby refuses with `not_leased`.
    const [held, holder, standby] = a.length
      ? [a[0]!, COLLECTOR_A, COLLECTOR_B]
      : [b[0]!, COLLECTOR_B, COLLECTOR_A];
    const ask = async (collectorId: string) =>
      (
        await nc.request(
          commandSubject(TENANT, collectorId),
          JSON.stringify({ op: 'menu.print', deviceId: held, path: '/interface' }),
          { timeout: 10_000 },
        )
      ).json<CommandReply>();
    expect(await ask(holder)).toMatchObject({ ok: true, result: { rows: [{ name: 'ether1' }] } });
    expect(await ask(standby)).toMatchObject({ ok: false, error: { code: 'not_leased' } });
  }, 60_000);

  it('moves a dead collector’s devices to its peer within two intervals', async () => {
    // Whoever holds more devices dies: stops polling without releasing its leases, as kill -9 would.
    const [victimId, survivorId] =
      running.get(COLLECTOR_A)!.leasedDevices().length >= running.get(COLLECTOR_B)!.leasedDevices().length
        ? [COLLECTOR_A, COLLECTOR_B]
        : [COLLECTOR_B, COLLECTOR_A];
    const victim = running.get(victimId)!;
    const orphaned = victim.leasedDevices();
    expect(orphaned.length).toBeGreaterThan(0);
    await victim.stop(1000, { releaseLeases: false });
    running.delete(victimId);
    const stoppedAt = Date.now();

    await until(
      () => orphaned.map((d) => pollsAfter(d, stoppedAt).length),
      (n) => n.every((x) => x > 0),
      3 * INTERVAL_MS,
    );
    for (const deviceId of orphaned) {
      const takeoverMs = pollsAfter(deviceId, stoppedAt)[0]!.at - stoppedAt;
      expect(takeoverMs).toBeLessThanOrEqual(2 * INTERVAL_MS);
    }
    const survivor = running.get(survivorId)!;
    expect(survivor.leasedDevices().sort()).toEqual([...DEVICES].sort());
    expect(doublePolls()).toEqual([]);
    expect(survivor.metrics.render()).toMatch(
      /tod_collector_lease_attempts_total\{outcome="acquired"\} [1-9]/,
    );
  }, 60_000);

  it('hands every device over at once when the holder stops gracefully', async () => {
    const [holderId] = [...running.keys()];
    const holder = running.get(holderId!)!;
    const peerId = holderId === COLLECTOR_A ? COLLECTOR_B : COLLECTOR_A;
    const peer = await startCollector(peerId);
    // The restarted peer sees every device held and waits in standby.
    await until(
      () => peer.metrics.render(),
      (m) => new RegExp(`tod_collector_devices_standby ${DEVICES.length}\\b`).test(m),
      2 * INTERVAL_MS,
    );

    await holder.stop(2000);
    running.delete(holderId!);
    const stoppedAt = Date.now();
    expect(holder.metrics.render()).toContain(
      `tod_collector_lease_releases_total{outcome="released"} ${DEVICES.length}`,
    );
    await until(
      () => DEVICES.map((d) => pollsAfter(d, stoppedAt).length),
      (n) => n.every((x) => x > 0),
      2 * INTERVAL_MS,
    );
    // Released leases are free at the standby's next retry (a quarter interval), long before the TTL
    // (1.5 intervals) would have freed them.
    for (const deviceId of DEVICES) {
      expect(pollsAfter(deviceId, stoppedAt)[0]!.at - stoppedAt).toBeLessThan(INTERVAL_MS);
    }
    expect(peer.leasedDevices().sort()).toEqual([...DEVICES].sort());
    expect(doublePolls([stoppedAt])).toEqual([]);
  }, 60_000);
});
