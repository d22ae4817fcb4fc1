// kill -9 of the real `tod-collector run` process mid-cycle, then a restart on the same state directory: the
// stream TOD ends up with every event the first process had recorded, each exactly once. To make "mid-cycle"
// certain rather than lucky, nats-server is frozen (SIGSTOP) first: publishes are then in flight without an
// acknowledgement and the write-ahead outbox holds a backlog when the collector dies. The server resumes after
// the kill and stores what it had already received, so the restarted collector's replay of the outbox must be
// discarded by Nats-Msg-Id, never stored twice.
import { join } from 'node:path';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Fleet, startFleet } from '../../simulator/src/fleet';
import { freshNats } from '../../tests/env';
import { onFileEnd } from '../../tests/env/cleanup';
import { ensureEventStream } from '../src/relay/relay';
import {
  type CollectorKeys,
  errorLines,
  prepareState,
  readOutbox,
  readStream,
  registerDevice,
  spawnCollector,
  tempDir,
  until,
  uuid,
} from './harness';

const TENANT = uuid(0xa, 4);
const COLLECTOR = uuid(0xc, 4);
const DEVICES = 6;
const deviceId = (i: number) => uuid(0xd, 0x400 + i);

let nc: NatsConnection;
let natsPid: number;
let natsUrl: string;
let fleet: Fleet;
let stateDir: string;
let keys: CollectorKeys;

beforeAll(async () => {
  const nats = await freshNats();
  natsPid = nats.pid;
  natsUrl = nats.url;
  nc = await connect({ servers: nats.url, maxReconnectAttempts: -1, reconnectTimeWait: 250 });
  onFileEnd(() => nc.close());
  await ensureEventStream(nc);
  fleet = await startFleet({ devices: DEVICES, tls: false });
  onFileEnd(() => fleet.stop());
  // One slow device keeps a poll in flight for a good part of every interval.
  await fleet.device(DEVICES - 1).setFaults({ latencyMs: 100 });
  stateDir = await tempDir('tod-col-kill-');
  keys = await prepareState(stateDir, { tenantId: TENANT, collectorId: COLLECTOR, natsUrl });
  for (const d of fleet.manifest.devices) {
    await registerDevice(nc, { tenantId: TENANT, collectorId: COLLECTOR }, keys.publicKey, {
      deviceId: deviceId(d.index),
      port: d.port,
      tlsMode: 'plain',
      pollIntervalSeconds: 10,
    });
  }
});

afterAll(() => {
  // Never leave the server frozen, whatever failed.
  try {
    process.kill(natsPid, 'SIGCONT');
  } catch {
    // gone already
  }
});

const statusCount = (events: Awaited<ReturnType<typeof readStream>>, i: number) =>
  events.filter((s) => s.event.deviceId === deviceId(i) && s.event.kind === 'status').length;

describe('tod-collector process killed with SIGKILL mid-cycle', { timeout: 120_000 }, () => {
  it('loses nothing it had recorded and stores nothing twice after a restart', async () => {
    const outboxDir = join(stateDir, 'outbox');
    const env = { TOD_COLLECTOR_STATE_DIR: stateDir, CONNECT_TIMEOUT_S: '5' };
    const first = spawnCollector(env);
    // A first round lands in the stream.
    await until(
      () => readStream(nc),
      (ev) => Array.from({ length: DEVICES }, (_, i) => statusCount(ev, i)).every((n) => n >= 1),
      30_000,
      'first round in the stream',
    );

    // Freeze the server: the next round's publishes go unacknowledged and pile up in the outbox.
    process.kill(natsPid, 'SIGSTOP');
    const backlog = await until(
      () => readOutbox(outboxDir),
      (lines) => new Set(lines.filter((l) => l.kind === 'status').map((l) => l.subject)).size === DEVICES,
      30_000,
      'a round of status events waiting in the outbox',
    );
    first.child.kill('SIGKILL');
    expect(await first.exited).toMatchObject({ signal: 'SIGKILL' });
    // What the killed process had recorded and not had acknowledged, as it left it on disk.
    const recorded = readOutbox(outboxDir);
    expect(recorded.length).toBeGreaterThanOrEqual(backlog.length);
    process.kill(natsPid, 'SIGCONT');
    // The server stored what the dead process had sent before it froze; those events are still in the outbox,
    // so the restart below replays them: the duplicate case, not a lucky empty replay.
    // (Nothing else publishes now, so this waits only for the resumed server to work through its input.)
    await until(
      async () => new Set((await readStream(nc)).map((s) => s.msgId)),
      (stored) => recorded.some((l) => stored.has(l.id)),
      15_000,
      'the frozen publishes stored once the server resumed',
    );

    const second = spawnCollector(env);
    // The restarted collector replays the outbox and keeps polling: a new round after the replay.
    const before = await readStream(nc);
    await until(
      async () => ({ outbox: readOutbox(outboxDir).length, stream: await readStream(nc) }),
      (s) =>
        s.outbox === 0 &&
        Array.from({ length: DEVICES }, (_, i) => statusCount(s.stream, i) > statusCount(before, i)).every(
          Boolean,
        ),
      60_000,
      'outbox replayed and a new round published',
    );
    second.child.kill('SIGTERM');
    expect(await second.exited).toMatchObject({ code: 0 });
    // SIGTERM finished the polls in flight and flushed their events: nothing left on disk.
    expect(readOutbox(outboxDir)).toEqual([]);
    expect(errorLines(first.logs)).toEqual([]);
    expect(errorLines(second.logs)).toEqual([]);

    const stream = await readStream(nc);
    const ids = stream.map((s) => s.msgId);
    // Nothing doubled: every message is a distinct event, stored under its own id.
    expect(new Set(ids).size).toBe(ids.length);
    expect(stream.every((s) => s.msgId === s.event.id)).toBe(true);
    // Nothing lost: every event the killed process had on disk is in the stream, with the payload it recorded.
    const byId = new Map(stream.map((s) => [s.msgId, s]));
    const missing = recorded.filter((l) => !byId.has(l.id));
    expect(missing).toEqual([]);
    for (const l of recorded) expect(byId.get(l.id)?.event).toEqual(JSON.parse(l.payload));
    // And the restarted process logged its start like any other.
    expect(second.logs.some((l) => l.includes('collector started'))).toBe(true);
  });
});
