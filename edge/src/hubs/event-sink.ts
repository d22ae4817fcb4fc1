// What the TenantHub hands to the parts that react to stored events (alerting, configuration backups). Per
// batch: prepare() before the batch's transaction, write() inside it (what must commit together with the
// events, so a crash between commit and ack stores nothing twice), abort() when that transaction failed,
// onCommitted() after it committed; and a periodic tick from the hub's alarm. A failure in prepare() or
// write() fails the batch (it is redelivered); one in onCommitted() or onTick() is logged and never blocks
// ingest.
import type { LiveTopic } from '@tod/contracts';
import type { Tx } from '../db';
import type { Bindings } from '../env';
import type { SequencedEvent } from '../services/telemetry-store';
import { alertingSink } from './alerting-sink';
import { configOperationSink } from './config-ops-sink';
import { configSnapshotSink } from './config-sink';

export type { SequencedEvent } from '../services/telemetry-store';

export interface HubContext {
  readonly tenantId: string;
  /** The Durable Object's own storage (e.g. hysteresis state). */
  readonly storage: DurableObjectStorage;
  readonly env: Bindings;
  /** Runs fn in one transaction scoped to the hub's tenant (RLS). */
  withTenant<T>(fn: (tx: Tx) => Promise<T>): Promise<T>;
  /** Streams an entry to the tenant's SSE clients after the batch's device events (e.g. topic `alerts`,
   * event `alert`); `data` is serialised as JSON. */
  broadcast(topic: LiveTopic, event: string, data: unknown): void;
  /** Keeps the Durable Object alive until the promise settles (work that must not hold up the batch). */
  waitUntil(p: Promise<unknown>): void;
  now(): Date;
}

export interface StoredBatch {
  readonly fresh: readonly SequencedEvent[];
  readonly accepted: readonly SequencedEvent[];
}

export interface EventSink {
  readonly name: string;
  /** Before the batch's transaction, outside it (e.g. re-reading rules). */
  prepare?(hub: HubContext): Promise<void>;
  /** Inside the batch's tenant transaction, after the events were stored, in stream order: `fresh` are
   * stored for the first time (a redelivered event is never among them twice); `accepted` are all the
   * batch's events this tenant's collectors may send, redeliveries included (after a hub crash between
   * commit and ack; for a sink that keeps state of its own and recognises replays, like the alert engine). */
  write?(tx: Tx, batch: StoredBatch, hub: HubContext): Promise<void>;
  /** The batch's transaction failed after write() ran: forget what write() kept in memory. */
  abort?(hub: HubContext): void;
  /** After the batch committed (and before its acks), for every batch write() saw: its fresh events. */
  onCommitted(events: readonly SequencedEvent[], hub: HubContext): Promise<void>;
  /** What the sink caches from the database (rules, windows) changed: re-read it with the next batch. */
  invalidate?(): void;
  /** Called from the hub's alarm (about every HUB_TICK_MS), for time-based work (delivery retries). */
  onTick?(hub: HubContext): Promise<void>;
}

export const HUB_TICK_MS = 10_000;

/** The sinks every TenantHub runs, in order. */
export function hubSinks(_env: Bindings): EventSink[] {
  return [configSnapshotSink(), configOperationSink(), alertingSink()];
}
