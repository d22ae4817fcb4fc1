// The collector wired end to end against a real nats-server and a loopback router: a device written to the
// registry is polled and its events land in stream TOD; a dead or misconfigured device becomes a status.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { jetstreamManager } from '@nats-io/jetstream';
import { Kvm } from '@nats-io/kv';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import {
  CREDENTIALS_JWE,
  DEVICES_BUCKET,
  type DeviceEvent,
  type DeviceRegistration,
  EVENT_STREAM,
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

const TENANT = '8c1d3c52-1b1e-4c3f-9a55-0a0000000001';
const COLLECTOR = '8c1d3c52-1b1e-4c3f-9a55-0c0000000001';
const DEVICE = '8c1d3c52-1b1e-4c3f-9a55-0d0000000001';
const WRONG_PW_DEVICE = '8c1d3c52-1b1e-4c3f-9a55-0d0000000002';

let nc: NatsConnection;
let router: ScriptedRouter;
let keys: { publicKey: CryptoKey; privateKey: CryptoKey };
let collector: Collector;
const logLines: string[] = [];

const replies: Record<string, Record<string, string>[]> = {
  '/system/resource/print': [
    {
      uptime: '1h',
      version: '7.16.2 (stable)',
      'free-memory': '100',
      'total-memory': '200',
      'cpu-load': '3',
      'architecture-name': 'arm64',
      'board-name': 'RB5009UG+S+',
    },
  ],
  '/system/identity/print': [{ name: 'edge-rtr' }],
  '/interface/print': [
    { name: 'ether1', type: 'ether', 'rx-byte': '1', 'tx-byte': '2', running: 'true', disabled: 'false' },
  ],
};

beforeAll(async () => {
  const nats = await freshNats();
  nc = await connect({ servers: nats.url });
  await ensureEventStream(nc);
  router = await startScriptedRouter();
  router.password = 'secret-pw';
  router.script = (tag, command) => {
    const rows = replies[command];
    if (!rows) {
      return [
        Buffer.concat([
          sentence(['!trap', `=message=no such command or directory (${command})`, `.tag=${tag}`]),
          sentence(['!done', `.tag=${tag}`]),
        ]),
      ];
    }
    return [
      Buffer.concat([
        ...rows.map((r) =>
          sentence(['!re', ...Object.entries(r).map(([k, v]) => `=${k}=${v}`), `.tag=${tag}`]),
        ),
        sentence(['!done', `.tag=${tag}`]),
      ]),
    ];
  };
  keys = await generateKeyPair(CREDENTIALS_JWE.alg, { crv: CREDENTIALS_JWE.crv });
  const stateDir = await mkdtemp(join(tmpdir(), 'tod-collector-'));
  onFileEnd(() => rm(stateDir, { recursive: true, force: true }));
  const logger = pino({ level: 'info' }, { write: (line: string) => logLines.push(line) });
  collector = new Collector({
    nc,
    identity: { tenantId: TENANT, collectorId: COLLECTOR, privateKey: keys.privateKey },
    config: loadCollectorConfig({
      TOD_COLLECTOR_STATE_DIR: stateDir,
      POLL_INTERVAL_S: '10',
      CONNECT_TIMEOUT_S: '2',
    }),
    logger,
  });
  await collector.start();
});

afterAll(async () => {
  await collector?.stop(2000);
  await router?.close();
  await nc?.close();
});

async function register(deviceId: string, password: string): Promise<void> {
  const credentials = await new CompactEncrypt(
    new TextEncoder().encode(JSON.stringify({ username: 'api', password })),
  )
    .setProtectedHeader({ alg: CREDENTIALS_JWE.alg, enc: CREDENTIALS_JWE.enc })
    .encrypt(keys.publicKey);
  const reg: DeviceRegistration = {
    v: 1,
    tenantId: TENANT,
    collectorId: COLLECTOR,
    deviceId,
    name: 'r',
    host: '127.0.0.1',
    port: router.port,
    tlsPort: 1,
    tlsMode: 'plain',
    pollIntervalSeconds: 10,
    credentials,
    updatedAt: new Date().toISOString(),
  };
  const kv = await new Kvm(nc).open(DEVICES_BUCKET);
  await kv.put(`${TENANT}.${COLLECTOR}.${deviceId}`, JSON.stringify(reg));
}

async function eventsFor(deviceId: string): Promise<DeviceEvent[]> {
  const jsm = await jetstreamManager(nc);
  const info = await jsm.streams.info(EVENT_STREAM.name);
  const out: DeviceEvent[] = [];
  for (let seq = info.state.first_seq; seq <= info.state.last_seq && info.state.messages > 0; seq++) {
    const m = await jsm.streams.getMessage(EVENT_STREAM.name, { seq }).catch(() => null);
    if (m?.subject.includes(deviceId)) out.push(m.json<DeviceEvent>());
  }
  return out;
}

describe('collector', () => {
  it('polls a device added to the registry and publishes its status, resource and interfaces', async () => {
    await register(DEVICE, 'secret-pw');
    const events = await until(
      () => eventsFor(DEVICE),
      (e) => ['status', 'resource', 'interfaces'].every((k) => e.some((x) => x.kind === k)),
    );
    const status = events.find((e) => e.kind === 'status');
    expect(status?.kind === 'status' && status.data.status).toBe('online');
    const resource = events.find((e) => e.kind === 'resource');
    expect(resource?.kind === 'resource' && resource.data.identity).toBe('edge-rtr');
    expect(collector.metrics.render()).toMatch(/tod_collector_polls_total\{outcome="online"\} [1-9]/);
  });

  it('reports a wrong password as auth_failed and never logs it', async () => {
    await register(WRONG_PW_DEVICE, 'not-the-password');
    const events = await until(
      () => eventsFor(WRONG_PW_DEVICE),
      (e) => e.some((x) => x.kind === 'status'),
    );
    expect(events.find((e) => e.kind === 'status')).toMatchObject({ data: { status: 'auth_failed' } });
    const log = logLines.join('\n');
    expect(log).toContain('device status changed');
    expect(log).not.toContain('not-the-password');
    expect(log).not.toContain('secret-pw');
  });
});
