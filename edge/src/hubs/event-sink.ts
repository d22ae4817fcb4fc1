// What the TenantHub hands to the parts that react to stored events (the alert engine): every batch once it
// has committed, and a periodic tick from the hub's alarm. A sink's failure is logged and never blocks ingest.
import type { LiveTopic } from '@tod/contracts';
import type { Tx } from '../db';
import type { Bindings } from '../env';
import type { SequencedEvent } from '../services/telemetry-store';

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
  now(): Date;
}

export interface EventSink {
  readonly name: string;
  /** The events this batch stored for the first time (a redelivered event is never passed twice), in
   * stream order. */
  onCommitted(events: readonly SequencedEvent[], hub: HubContext): Promise<void>;
  /** Called from the hub's alarm (about every HUB_TICK_MS), for time-based rules. */
  onTick?(hub: HubContext): Promise<void>;
}

export const HUB_TICK_MS = 10_000;

/** The sinks every TenantHub runs, in order. */
export function hubSinks(_env: Bindings): EventSink[] {
  return [];
}
