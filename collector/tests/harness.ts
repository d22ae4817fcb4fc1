// What the collector's tests against the simulator share: a real nats-server with stream TOD, a collector
// identity whose key seals device credentials, registry entries written the way the edge writes them, and a
// JetStream consumer that reads back what the collector published.
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { jetstream } from '@nats-io/jetstream';
import { Kvm } from '@nats-io/kv';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import {
  CREDENTIALS_JWE,
  DEVICES_BUCKET,
  DeviceEvent,
  type DeviceRegistration,
  deviceKey,
  EVENT_STREAM,
  type EventKind,
} from '@tod/contracts';
import { CompactEncrypt, type CryptoKey, exportJWK, generateKeyPair } from 'jose';
import pino from 'pino';
import { onFileEnd } from '../../tests/env/cleanup';
import type { Clock } from '../src/clock';
import { Collector } from '../src/collector';
import { loadCollectorConfig } from '../src/config';
import { enroll } from '../src/enroll';
import type { CollectorMetrics } from '../src/metrics';
import { ensureEventStream } from '../src/relay/relay';
import { identityFromState, loadState, saveState } from '../src/state';

export type CollectorKeys = { publicKey: CryptoKey; privateKey: CryptoKey };

export function newCollectorKeys(): Promise<CollectorKeys> {
  return generateKeyPair(CREDENTIALS_JWE.alg, { crv: CREDENTIALS_JWE.crv, extractable: true });
}

export async function tempDir(prefix: string): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), prefix));
  onFileEnd(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

/** Deterministic uuids per test file: `uuid(0xd, 3)` → `…-0d0000000003`. */
export function uuid(kind: number, n: number): string {
  return `8c1d3c52-1b1e-4c3f-9a55-${kind.toString(16).padStart(2, '0')}${n.toString(16).padStart(10, '0')}`;
}

export interface DeviceEntry {
  deviceId: string;
  host?: string;
  port: number;
  tlsPort?: number;
  tlsMode: DeviceRegistration['tlsMode'];
  username?: string;
  password?: string;
  pollIntervalSeconds?: number;
  backup?: DeviceRegistration['backup'];
}

/** Writes a device to KV `tod-devices` as the edge does: credentials sealed to the collector's public key. */
export async function registerDevice(
  nc: NatsConnection,
  ids: { tenantId: string; collectorId: string },
  publicKey: CryptoKey,
  d: DeviceEntry,
): Promise<void> {
  const credentials = await new CompactEncrypt(
    new TextEncoder().encode(
      JSON.stringify({ username: d.username ?? 'admin', password: d.password ?? 'admin' }),
    ),
  )
    .setProtectedHeader({ alg: CREDENTIALS_JWE.alg, enc: CREDENTIALS_JWE.enc })
    .encrypt(publicKey);
  const reg: DeviceRegistration = {
    v: 1,
    tenantId: ids.tenantId,
    collectorId: ids.collectorId,
    deviceId: d.deviceId,
    name: `device ${d.deviceId.slice(-4)}`,
    host: d.host ?? '127.0.0.1',
    port: d.port,
    tlsPort: d.tlsPort ?? 1,
    tlsMode: d.tlsMode,
    pollIntervalSeconds: d.pollIntervalSeconds ?? 10,
    ...(d.backup ? { backup: d.backup } : {}),
    credentials,
    updatedAt: new Date().toISOString(),
  };
  const kv = await new Kvm(nc).create(DEVICES_BUCKET, { history: 1 });
  await kv.put(deviceKey(ids.tenantId, ids.collectorId, d.deviceId), JSON.stringify(reg));
}

export interface StoredEvent {
  seq: number;
  subject: string;
  msgId: string;
  event: DeviceEvent;
}

/** Follows stream TOD with an ordered JetStream consumer; every message is parsed with the contract. */
export class StreamTap {
  readonly events: StoredEvent[] = [];
  private stopper: (() => void) | undefined;
  private done: Promise<void> | undefined;
  private error: unknown;

  static async start(nc: NatsConnection, filter = 'tod.evt.>'): Promise<StreamTap> {
    const tap = new StreamTap();
    const consumer = await jetstream(nc).consumers.get(EVENT_STREAM.name, { filter_subjects: filter });
    const messages = await consumer.consume();
    tap.stopper = () => void messages.stop();
    tap.done = (async () => {
      for await (const m of messages) {
        try {
          tap.events.push({
            seq: m.seq,
            subject: m.subject,
            msgId: m.headers?.get('Nats-Msg-Id') ?? '',
            event: DeviceEvent.parse(m.json()),
          });
        } catch (err) {
          tap.error = err;
        }
      }
    })();
    onFileEnd(() => tap.stop());
    return tap;
  }

  /** Events of one device (optionally one kind), in stream order. Throws if anything failed to parse. */
  of(deviceId: string, kind?: EventKind): DeviceEvent[] {
    if (this.error) throw this.error;
    return this.events
      .map((s) => s.event)
      .filter((e) => e.deviceId === deviceId && (kind === undefined || e.kind === kind));
  }

  /** Waits until the collector's outbox is empty and this tap has everything the stream holds by then. */
  async settle(nc: NatsConnection, collector: { outboxDepth: number }): Promise<void> {
    await until(
      () => collector.outboxDepth,
      (n) => n === 0,
      30_000,
      'outbox drained',
    );
    const info = await (await jetstream(nc).streams.get(EVENT_STREAM.name)).info();
    const last = info.state.last_seq;
    await until(
      () => this.events.at(-1)?.seq ?? 0,
      (seq) => seq >= last,
      30_000,
      'stream tap caught up',
    );
  }

  async stop(): Promise<void> {
    this.stopper?.();
    this.stopper = undefined;
    await this.done;
  }
}

/** Reads the whole stream once (a fresh ordered consumer), for tests that restart the server under it. */
export async function readStream(nc: NatsConnection, filter = 'tod.evt.>'): Promise<StoredEvent[]> {
  const js = jetstream(nc);
  const info = await (await js.streams.get(EVENT_STREAM.name)).info();
  const out: StoredEvent[] = [];
  if (info.state.messages === 0) return out;
  const consumer = await js.consumers.get(EVENT_STREAM.name, { filter_subjects: filter });
  for (;;) {
    const batch = await consumer.fetch({ max_messages: 500, expires: 2000 });
    let pending = -1;
    for await (const m of batch) {
      out.push({
        seq: m.seq,
        subject: m.subject,
        msgId: m.headers?.get('Nats-Msg-Id') ?? '',
        event: DeviceEvent.parse(m.json()),
      });
      pending = m.info.pending;
    }
    if (pending <= 0) break;
  }
  return out;
}

/** Polls a condition (never a sleep as synchronisation); fails with the last value seen. */
/** Advances a collector's manual clock once its poll slots are idle. A slot still running (its status already
 * published, its backup or bookkeeping not yet done) when the clock jumps past its next due time has that next
 * poll skipped, as missed polls are not made up, and a test waiting for "the next poll" would wait in vain. */
export async function stepWhenIdle(
  collector: Pick<Collector, 'pollsInFlight'>,
  clock: { advance(ms: number): Promise<void> },
  ms: number,
): Promise<void> {
  await until(
    () => collector.pollsInFlight,
    (n) => n === 0,
    30_000,
    'the collector’s polls in flight to finish',
  );
  await clock.advance(ms);
}

/** Advances the collector's manual clock (and the simulator's, when given) by `ms` and waits until `slots` more
 * poll slots ran to their end: the poll, then any backup or safe-apply check on the same slot. */
export async function pollRound(
  collector: Collector,
  opts: {
    clock: { advance(ms: number): Promise<void> };
    simClock?: { advance(ms: number): void };
    ms: number;
    slots?: number;
  },
): Promise<void> {
  const steps = pollSteps(collector.metrics);
  opts.simClock?.advance(opts.ms);
  await opts.clock.advance(opts.ms);
  await until(
    () => [pollSteps(collector.metrics), collector.pollsInFlight],
    ([n, f]) => n! >= steps + (opts.slots ?? 1) && f === 0,
    20_000,
    'poll slots finished',
  );
}

/** A collector run in-process without an edge (its keys made here, manual clock), with one device registered
 * in its registry at `port`; resolves once it knows the device. Stopped at the end of the file. */
export async function startCollectorWithDevice(opts: {
  nc: NatsConnection;
  ids: { tenantId: string; collectorId: string; deviceId: string };
  port: number;
  clock: Clock;
  stateDirPrefix: string;
  env?: Record<string, string>;
}): Promise<Collector> {
  const { tenantId, collectorId, deviceId } = opts.ids;
  const keys = await newCollectorKeys();
  const collector = new Collector({
    nc: opts.nc,
    identity: { tenantId, collectorId, privateKey: keys.privateKey },
    config: loadCollectorConfig({
      TOD_COLLECTOR_STATE_DIR: await tempDir(opts.stateDirPrefix),
      BACKUP_STARTUP_SPREAD_S: '0',
      CONNECT_TIMEOUT_S: '2',
      COMMAND_TIMEOUT_S: '5',
      ...opts.env,
    }),
    logger: pino({ level: 'silent' }),
    clock: opts.clock,
    random: () => 0,
  });
  await collector.start();
  onFileEnd(() => collector.stop(2000));
  await registerDevice(opts.nc, { tenantId, collectorId }, keys.publicKey, {
    deviceId,
    port: opts.port,
    tlsMode: 'plain',
    pollIntervalSeconds: 60,
  });
  await until(
    () => collector.deviceCount,
    (n) => n === 1,
    10_000,
    'registry applied',
  );
  return collector;
}

export async function until<T>(
  read: () => T | Promise<T>,
  ok: (v: T) => boolean,
  ms = 20_000,
  what = 'condition',
): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    // A read may fail while a server restarts; that is "not yet", and the last failure is reported.
    let last: { value: T } | { error: unknown };
    try {
      last = { value: await read() };
      if (ok(last.value)) return last.value;
    } catch (error) {
      last = { error };
    }
    if (Date.now() > deadline) {
      const seen = 'value' in last ? JSON.stringify(last.value) : String(last.error);
      throw new Error(`${what} not reached in ${ms} ms; last: ${seen?.slice(0, 800)}`);
    }
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** Polls finished (every outcome) plus polls the breaker skipped: one step of the scheduler per device. */
export function pollSteps(metrics: CollectorMetrics): number {
  let n = metrics.breakerSkips.get();
  for (const outcome of ['online', 'unreachable', 'auth_failed', 'tls_failed', 'degraded'])
    n += metrics.polls.get({ outcome });
  return n;
}

/** A CA (key + certificate) made with the openssl CLI, for the CA-verified TLS tier. */
export function makeCa(dir: string): { caKey: string; caCert: string } {
  execFileSync(
    'openssl',
    [
      'req',
      '-x509',
      '-newkey',
      'rsa:2048',
      '-nodes',
      '-keyout',
      'ca.key',
      '-out',
      'ca.crt',
      '-days',
      '30',
      '-subj',
      '/CN=tod-test-ca',
      '-addext',
      'basicConstraints=critical,CA:TRUE',
      '-addext',
      'keyUsage=critical,keyCertSign,cRLSign',
    ],
    { cwd: dir, stdio: ['ignore', 'ignore', 'pipe'] },
  );
  return {
    caKey: readFileSync(join(dir, 'ca.key'), 'utf8'),
    caCert: readFileSync(join(dir, 'ca.crt'), 'utf8'),
  };
}

/** The state directory `tod-collector enroll` leaves behind (collector.json, mode 0600), for a given identity. */
export async function prepareState(
  dir: string,
  ids: { tenantId: string; collectorId: string; natsUrl: string },
): Promise<CollectorKeys> {
  const keys = await newCollectorKeys();
  await saveState(dir, {
    v: 1,
    tenantId: ids.tenantId,
    collectorId: ids.collectorId,
    natsUrl: ids.natsUrl,
    edgeUrl: 'http://127.0.0.1:9',
    privateKeyJwk: (await exportJWK(keys.privateKey)) as Record<string, unknown>,
    publicKeyJwk: (await exportJWK(keys.publicKey)) as Record<string, unknown>,
    enrolledAt: new Date().toISOString(),
  });
  return keys;
}

const BIN = fileURLToPath(new URL('../bin/tod-collector.mjs', import.meta.url));

export interface CollectorProcess {
  child: ChildProcess;
  /** JSON log lines (pino) so far. */
  logs: string[];
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

/** Runs the real `tod-collector run` as a child process (what systemd would start). */
export function spawnCollector(env: Record<string, string>): CollectorProcess {
  const child = spawn(process.execPath, [BIN, 'run'], {
    env: { ...process.env, METRICS_PORT: '0', LOG_LEVEL: 'info', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const logs: string[] = [];
  let tail = '';
  const onData = (chunk: Buffer) => {
    const text = tail + chunk.toString('utf8');
    const lines = text.split('\n');
    tail = lines.pop() ?? '';
    logs.push(...lines.filter((l) => l));
  };
  child.stdout?.on('data', onData);
  child.stderr?.on('data', onData);
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.once('exit', (code, signal) => resolve({ code, signal })),
  );
  onFileEnd(async () => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    await exited;
  });
  return { child, logs, exited };
}

/** Log lines at error level or worse (pino: 50+), and anything on the process output that is not a log line. */
export function errorLines(logs: string[]): string[] {
  return logs.filter((line) => {
    try {
      return (JSON.parse(line) as { level?: number }).level! >= 50;
    } catch {
      return true;
    }
  });
}

export interface OutboxLine {
  id: string;
  subject: string;
  kind: EventKind;
  payload: string;
}

/** What a collector's outbox holds on disk and has not had acknowledged (segments minus their cursors). */
export function readOutbox(dir: string): OutboxLine[] {
  if (!existsSync(dir)) return [];
  const out: OutboxLine[] = [];
  for (const name of readdirSync(dir)
    .filter((n) => /^seg-\d{12}\.jsonl$/.test(n))
    .sort()) {
    let text: string;
    try {
      text = readFileSync(join(dir, name), 'utf8');
    } catch {
      continue; // acknowledged and deleted while we listed
    }
    const cursor = join(dir, `${name}.acked`);
    const acked = existsSync(cursor) ? Number(readFileSync(cursor, 'utf8').trim()) || 0 : 0;
    const lines = text.split('\n').filter((l) => {
      try {
        JSON.parse(l);
        return true;
      } catch {
        return false;
      }
    });
    out.push(...lines.slice(acked).map((l) => JSON.parse(l) as OutboxLine));
  }
  return out;
}

/** A loopback port free now and outside the kernel's ephemeral range, so no outgoing connection takes it while
 * a server that listened on it is down (for restarting a server on the same port). */
export async function stablePort(): Promise<number> {
  let low = 32768;
  try {
    low =
      Number(readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'utf8').trim().split(/\s+/)[0]) || low;
  } catch {
    // not Linux: keep the common default
  }
  const from = 10_000;
  for (let attempt = 0; attempt < 100; attempt++) {
    const port = from + Math.floor(Math.random() * Math.max(1, low - from));
    const server = createServer();
    const ok = await new Promise<boolean>((resolve) => {
      server.once('error', () => resolve(false));
      server.listen(port, '127.0.0.1', () => resolve(true));
    });
    if (ok) {
      await new Promise<void>((r) => server.close(() => r()));
      return port;
    }
  }
  throw new Error('no free port below the ephemeral range');
}

/** Enrols a collector through the edge with a one-time token (the real `enroll` path), connects it to the NATS
 * URL the edge handed out and starts it on the given clock: what an on-site install does, in-process. */
export async function startEnrolledCollector(opts: {
  edgeUrl: string;
  enrollToken: string;
  stateDir: string;
  clock: Clock;
  env?: Record<string, string>;
}): Promise<{ nc: NatsConnection; collector: Collector }> {
  await enroll({
    edgeUrl: opts.edgeUrl,
    token: opts.enrollToken,
    stateDir: opts.stateDir,
    version: 'test',
  });
  return restartCollector(opts);
}

/** Starts a collector again from the state an earlier enrolment left in `stateDir` (after a crash or stop). */
export async function restartCollector(opts: {
  stateDir: string;
  clock: Clock;
  env?: Record<string, string>;
}): Promise<{ nc: NatsConnection; collector: Collector }> {
  const state = await loadState(opts.stateDir);
  const nc = await connect({ servers: state.natsUrl });
  await ensureEventStream(nc);
  const collector = new Collector({
    nc,
    identity: await identityFromState(state),
    config: loadCollectorConfig({
      TOD_COLLECTOR_STATE_DIR: opts.stateDir,
      POLL_INTERVAL_S: '10',
      CONNECT_TIMEOUT_S: '2',
      ...opts.env,
    }),
    logger: pino({ level: 'silent' }),
    clock: opts.clock,
  });
  await collector.start();
  return { nc, collector };
}
