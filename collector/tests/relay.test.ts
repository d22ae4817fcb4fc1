// The relay against a real nats-server: events land in stream TOD under their subjects, a replay never
// doubles, and an outage loses nothing (the outbox holds events and drains them in order).
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { jetstreamManager } from '@nats-io/jetstream';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { type DeviceEvent, EVENT_STREAM } from '@tod/contracts';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type NatsHandle, startNats } from '../../scripts/services/nats';
import { onFileEnd } from '../../tests/env/cleanup';
import { Outbox } from '../src/relay/outbox';
import { ensureEventStream, newEventId, Relay } from '../src/relay/relay';

const TENANT = '6a1d3c52-1b1e-4c3f-9a55-0a0000000001';
const DEVICE = '6a1d3c52-1b1e-4c3f-9a55-0b0000000001';
const COLLECTOR = '6a1d3c52-1b1e-4c3f-9a55-0c0000000001';

let natsDir = '';
let nats: NatsHandle;
let nc: NatsConnection;
const ports = { port: 0, wsPort: 0, monitorPort: 0 };

beforeAll(async () => {
  natsDir = await mkdtemp(join(tmpdir(), 'tod-relay-nats-'));
  nats = await startNats({ dir: natsDir });
  ports.port = Number(new URL(nats.url).port);
  ports.wsPort = Number(new URL(nats.wsUrl).port);
  ports.monitorPort = Number(new URL(nats.monitorUrl).port);
  nc = await connect({ servers: nats.url, maxReconnectAttempts: -1, reconnectTimeWait: 100 });
  await ensureEventStream(nc);
});

afterAll(async () => {
  await nc?.close();
  await nats?.stop();
  await rm(natsDir, { recursive: true, force: true });
});

async function newRelay(): Promise<{ relay: Relay; dir: string }> {
  const dir = await mkdtemp(join(tmpdir(), 'tod-relay-outbox-'));
  onFileEnd(() => rm(dir, { recursive: true, force: true }));
  const relay = new Relay({ outbox: await Outbox.open({ dir, maxBytes: 50_000_000 }), minBackoffMs: 50 });
  return { relay, dir };
}

function statusEvent(n: number, id = newEventId()): DeviceEvent {
  return {
    v: 1,
    id,
    tenantId: TENANT,
    deviceId: DEVICE,
    collectorId: COLLECTOR,
    at: new Date(Date.UTC(2026, 10, 23, 7, 0, n)).toISOString(),
    kind: 'status',
    data: { status: n % 2 ? 'online' : 'unreachable', consecutiveFailures: n },
  };
}

async function streamMessages(): Promise<DeviceEvent[]> {
  const jsm = await jetstreamManager(nc);
  const info = await jsm.streams.info(EVENT_STREAM.name);
  const out: DeviceEvent[] = [];
  for (let seq = info.state.first_seq; seq <= info.state.last_seq && info.state.messages > 0; seq++) {
    const m = await jsm.streams.getMessage(EVENT_STREAM.name, { seq });
    if (m) out.push(m.json<DeviceEvent>());
  }
  return out;
}

async function purge(): Promise<void> {
  const jsm = await jetstreamManager(nc);
  await jsm.streams.purge(EVENT_STREAM.name);
}

describe('relay', () => {
  it('publishes validated events to tod.evt.<tenant>.<device>.<kind> in order', async () => {
    await purge();
    const { relay } = await newRelay();
    relay.start(nc);
    const sent = [1, 2, 3, 4, 5].map((n) => statusEvent(n));
    for (const e of sent) await relay.enqueue(e);
    expect(await relay.flushed(10_000)).toBe(true);
    await relay.stop();
    const jsm = await jetstreamManager(nc);
    const first = await jsm.streams.getMessage(EVENT_STREAM.name, {
      last_by_subj: `tod.evt.${TENANT}.${DEVICE}.status`,
    });
    expect(first?.subject).toBe(`tod.evt.${TENANT}.${DEVICE}.status`);
    expect((await streamMessages()).map((m) => m.id)).toEqual(sent.map((e) => e.id));
  });

  it('refuses an event that does not match its schema, and stores nothing', async () => {
    const { relay } = await newRelay();
    await expect(relay.enqueue({ ...statusEvent(1), tenantId: 'not-a-uuid' })).rejects.toThrow(
      /event rejected/,
    );
    expect(relay.stats.rejected).toBe(1);
  });

  it('never doubles an event that is published twice (Nats-Msg-Id)', async () => {
    await purge();
    const { relay } = await newRelay();
    relay.start(nc);
    const e = statusEvent(7);
    await relay.enqueue(e);
    await relay.enqueue(e);
    expect(await relay.flushed(10_000)).toBe(true);
    await relay.stop();
    expect((await streamMessages()).map((m) => m.id)).toEqual([e.id]);
  });

  it('replays what a crashed relay left in its outbox without doubling what was already published', async () => {
    await purge();
    const { relay, dir } = await newRelay();
    relay.start(nc);
    const before = [1, 2, 3].map((n) => statusEvent(n));
    for (const e of before) await relay.enqueue(e);
    expect(await relay.flushed(10_000)).toBe(true);
    await relay.stop();
    // The crash: the same events are still on disk as unacknowledged (as if acks never reached the file).
    const replayBox = await Outbox.open({ dir, maxBytes: 50_000_000 });
    await replayBox.append(
      before.map((e) => ({
        id: e.id,
        kind: e.kind,
        subject: `tod.evt.${TENANT}.${DEVICE}.status`,
        payload: JSON.stringify(e),
      })),
    );
    const restarted = new Relay({ outbox: replayBox, minBackoffMs: 50 });
    restarted.start(nc);
    const after = statusEvent(4);
    await restarted.enqueue(after);
    expect(await restarted.flushed(10_000)).toBe(true);
    await restarted.stop();
    expect((await streamMessages()).map((m) => m.id)).toEqual([...before, after].map((e) => e.id));
  });

  it('keeps events while NATS is down and drains them in order when it returns', async () => {
    await purge();
    const { relay } = await newRelay();
    relay.start(nc);
    await nats.stop();
    const sent = Array.from({ length: 20 }, (_, i) => statusEvent(i + 1));
    for (const e of sent) await relay.enqueue(e);
    expect(await relay.flushed(500)).toBe(false);
    // Same ports and store: the connection reconnects by itself.
    nats = await startNats({ dir: natsDir, ...ports });
    expect(await relay.flushed(20_000)).toBe(true);
    await relay.stop();
    expect((await streamMessages()).map((m) => m.id)).toEqual(sent.map((e) => e.id));
  });
});
