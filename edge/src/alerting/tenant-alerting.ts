// The alerting side of one TenantHub: owns the engine, keeps its state in Durable Object storage, refreshes
// rules, membership and maintenance windows from Postgres, and records and delivers what the engine says.
// The hub drives it per committed batch:
//
//   const batch = alerting.evaluate(events, now);            // engine advanced tentatively
//   await withTenant(db, tenantId, async (tx) => {
//     ...write the batch...
//     recorded = await alerting.record(tx, batch, now);     // alert rows + queued deliveries, same transaction
//   });                                                      // on failure: alerting.rollback(batch)
//   await alerting.commit(batch);                            // engine state to DO storage; then ack JetStream
//   fan out recorded (alertDto) to SSE; ctx.waitUntil(alerting.deliver(db, now)); set the alarm to the result
//
// A crash between the database commit and commit() replays the batch from JetStream with the previous engine
// state: the same transitions come out and recording them again changes nothing.
import type { DeviceEvent } from '@tod/contracts';
import { type Db, type Tx, withTenant } from '../db';
import type { Kms } from '../services/kms';
import type { NotifyDeps } from '../services/notify';
import {
  type AlertingSnapshot,
  type DeliverReport,
  deliverDue,
  loadAlertingSnapshot,
  nextDeliveryAt,
  type RecordedAlert,
  recordTransitions,
} from './dispatch';
import { AlertEngine, type AlertTransition, type EngineState } from './engine';

/** The part of DurableObjectStorage this needs (also easy to supply in tests). */
export interface StateStorage {
  get<T>(key: string): Promise<T | undefined>;
  put<T>(key: string, value: T): Promise<void>;
}

export const ENGINE_STATE_KEY = 'alert-engine';

export interface AlertBatch {
  transitions: AlertTransition[];
  /** Engine state before this batch, to roll back to if the batch's transaction fails. */
  before: EngineState;
}

export interface TenantAlertingOptions {
  tenantId: string;
  storage: StateStorage;
  kms: Kms;
  deps: NotifyDeps;
  /** Rules, membership and windows are re-read at most this often (default 30 s) or after invalidate(). */
  refreshMs?: number;
}

export class TenantAlerting {
  private engine = new AlertEngine();
  private snapshot: AlertingSnapshot = { rules: [], membership: { groups: {}, tags: {} }, windows: [] };
  private loadedAt = Number.NEGATIVE_INFINITY;
  private restored = false;

  constructor(private readonly o: TenantAlertingOptions) {}

  /** Restores the engine from storage (once). */
  async restore(): Promise<void> {
    if (this.restored) return;
    this.engine = AlertEngine.fromJSON(await this.o.storage.get<EngineState>(ENGINE_STATE_KEY));
    this.restored = true;
  }

  /** Makes the next refresh() re-read rules (call when a rule, window or membership changed). */
  invalidate(): void {
    this.loadedAt = Number.NEGATIVE_INFINITY;
  }

  /** Re-reads rules, membership and windows when stale. Rules that went away resolve their open alerts,
   * which are recorded here in a transaction of their own. */
  async refresh(db: Db, now: Date): Promise<RecordedAlert[]> {
    await this.restore();
    if (now.getTime() - this.loadedAt < (this.o.refreshMs ?? 30_000)) return [];
    const before = this.engine.toJSON();
    try {
      return await withTenant(db, this.o.tenantId, async (tx) => {
        this.snapshot = await loadAlertingSnapshot(tx);
        const gone = this.engine.setRules(this.snapshot.rules, this.snapshot.membership, now);
        const recorded = await recordTransitions(tx, this.o.tenantId, gone, this.snapshot, now);
        this.loadedAt = now.getTime();
        return recorded;
      }).then(async (recorded) => {
        await this.o.storage.put(ENGINE_STATE_KEY, this.engine.toJSON());
        return recorded;
      });
    } catch (err) {
      this.engine = new AlertEngine(before);
      throw err;
    }
  }

  /** Runs the engine over a batch of validated events (after refresh()). */
  evaluate(events: readonly DeviceEvent[], now: Date): AlertBatch {
    const before = this.engine.toJSON();
    return { transitions: this.engine.ingest(events, now), before };
  }

  /** Records the batch's transitions inside the caller's tenant transaction. */
  record(tx: Tx, batch: AlertBatch, now: Date): Promise<RecordedAlert[]> {
    return recordTransitions(tx, this.o.tenantId, batch.transitions, this.snapshot, now);
  }

  /** After the batch's transaction committed: keeps the engine state. */
  async commit(_batch: AlertBatch): Promise<void> {
    await this.o.storage.put(ENGINE_STATE_KEY, this.engine.toJSON());
  }

  /** The batch's transaction failed: forget what the engine learnt from it (it will be replayed). */
  rollback(batch: AlertBatch): void {
    this.engine = new AlertEngine(batch.before);
    this.engine.setRules(this.snapshot.rules, this.snapshot.membership, new Date(0));
  }

  /** Sends what is due; returns the report and when to wake up next (null: nothing pending). */
  async deliver(db: Db, now: Date): Promise<DeliverReport & { nextAt: Date | null }> {
    const report = await deliverDue({
      db,
      tenantId: this.o.tenantId,
      kms: this.o.kms,
      deps: this.o.deps,
      now,
    });
    return { ...report, nextAt: await nextDeliveryAt(db, this.o.tenantId) };
  }

  /** Alerts the engine holds open (for diagnostics). */
  firing() {
    return this.engine.firing();
  }
}
