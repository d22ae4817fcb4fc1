// The relay: validates each event against contracts/, writes it to the outbox, and drains the outbox to
// JetStream in order, one Nats-Msg-Id per event. While NATS is unreachable the outbox grows (bounded); on
// reconnect it drains oldest first.
import { randomUUID } from 'node:crypto';
import { type JetStreamClient, jetstream, jetstreamManager } from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/transport-node';
import { DeviceEvent, EVENT_STREAM, eventStreamConfig, eventSubject } from '@tod/contracts';
import type { Outbox, PeekedEntry } from './outbox';

export interface RelayStats {
  published: number;
  publishFailures: number;
  rejected: number;
}

export interface RelayOptions {
  outbox: Outbox;
  /** Events published per round; they are sent back to back and acknowledged together. */
  batchSize?: number;
  publishTimeoutMs?: number;
  /** Backoff after a failed round, doubling up to maxBackoffMs. */
  minBackoffMs?: number;
  maxBackoffMs?: number;
  onError?: (err: Error) => void;
}

export class RelayValidationError extends Error {
  readonly code = 'invalid_event';
}

export class Relay {
  readonly stats: RelayStats = { published: 0, publishFailures: 0, rejected: 0 };
  private js: JetStreamClient | undefined;
  private running = false;
  private loop: Promise<void> | undefined;
  private wake: (() => void) | undefined;
  private readonly batchSize: number;

  constructor(private readonly opts: RelayOptions) {
    this.batchSize = opts.batchSize ?? 256;
  }

  /** Validates and stores an event; it is published as soon as NATS allows. Resolves once on disk. */
  async enqueue(candidate: unknown): Promise<DeviceEvent> {
    const parsed = DeviceEvent.safeParse(candidate);
    if (!parsed.success) {
      this.stats.rejected++;
      throw new RelayValidationError(`event rejected: ${parsed.error.issues[0]?.message ?? 'invalid'}`);
    }
    const event = parsed.data;
    await this.opts.outbox.append([
      {
        id: event.id,
        kind: event.kind,
        subject: eventSubject(event.tenantId, event.deviceId, event.kind),
        payload: JSON.stringify(event),
      },
    ]);
    this.wake?.();
    return event;
  }

  /** Starts draining through `nc` (which reconnects by itself). */
  start(nc: NatsConnection): void {
    if (this.running) return;
    this.running = true;
    this.js = jetstream(nc);
    this.loop = this.drain();
  }

  /** Stops after the current round; what is left stays in the outbox for the next start. */
  async stop(): Promise<void> {
    this.running = false;
    this.wake?.();
    await this.loop;
  }

  /** Waits until the outbox is empty (or the timeout passes); for graceful shutdown and tests. */
  async flushed(timeoutMs: number): Promise<boolean> {
    const deadline = Date.now() + timeoutMs;
    while (this.opts.outbox.depth > 0) {
      if (Date.now() > deadline) return false;
      await sleep(20);
    }
    return true;
  }

  private async drain(): Promise<void> {
    const min = this.opts.minBackoffMs ?? 250;
    const max = this.opts.maxBackoffMs ?? 10_000;
    let backoff = min;
    while (this.running) {
      const batch = await this.opts.outbox.peek(this.batchSize);
      if (batch.length === 0) {
        await new Promise<void>((resolve) => {
          const t = setTimeout(resolve, 1000);
          this.wake = () => {
            clearTimeout(t);
            resolve();
          };
        });
        this.wake = undefined;
        continue;
      }
      const ok = await this.publishBatch(batch);
      if (ok) backoff = min;
      else {
        await sleep(backoff);
        backoff = Math.min(max, backoff * 2);
      }
    }
  }

  /** Publishes back to back (the connection keeps their order) and acknowledges the longest successful
   * prefix, so the outbox never skips an event. */
  private async publishBatch(batch: PeekedEntry[]): Promise<boolean> {
    const js = this.js!;
    const timeout = this.opts.publishTimeoutMs ?? 5000;
    const results = await Promise.allSettled(
      batch.map((p) => js.publish(p.entry.subject, p.entry.payload, { msgID: p.entry.id, timeout })),
    );
    let prefix = 0;
    while (prefix < results.length && results[prefix]!.status === 'fulfilled') prefix++;
    for (const r of results) if (r.status === 'fulfilled' && !r.value.duplicate) this.stats.published++;
    if (prefix > 0) await this.opts.outbox.ack(batch[prefix - 1]!);
    if (prefix < results.length) {
      this.stats.publishFailures++;
      const failure = results[prefix] as PromiseRejectedResult;
      this.opts.onError?.(
        failure.reason instanceof Error ? failure.reason : new Error(String(failure.reason)),
      );
      return false;
    }
    return true;
  }
}

/** Creates the event stream when missing (idempotent). */
export async function ensureEventStream(nc: NatsConnection): Promise<void> {
  const jsm = await jetstreamManager(nc);
  const config = eventStreamConfig();
  try {
    await jsm.streams.info(EVENT_STREAM.name);
  } catch {
    await jsm.streams.add(config);
  }
}

export function newEventId(): string {
  return randomUUID();
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}
