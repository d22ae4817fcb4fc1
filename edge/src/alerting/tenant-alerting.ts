// The alerting side of one TenantHub: owns the engine, keeps its state in Durable Object storage, refreshes
// rules, membership and maintenance windows from Postgres, and records and delivers what the engine says.
// The hub drives it per committed batch:
//
//   const batch = alerting.evaluate(events, now);            // engine advanced tentatively
//   await withTenant(db, tenantId, async (tx) => {
//     ...write the batch...
//     recorded = await alerting.record(tx, batch, now);     // alert rows + queued deliveries, same transaction
//   });                                                      // on failure: alerting.rollback(batch)
//   await alerting.commit(batch);                            // changed devices' state to DO storage; then ack
//   fan out recorded (alertDto) to SSE; ctx.waitUntil(alerting.deliver(db, now)); set the alarm to the result
//
// A crash between the database commit and commit() replays the batch from JetStream with the previous engine
// state: the same transitions come out and recording them again changes nothing.
import type { DeviceEvent } from '@tod/contracts';
import { alertEngineState, alerts } from '@tod/drizzle/schema';
import { and, eq, inArray, sql } from 'drizzle-orm';
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
import { AlertEngine, type AlertTransition, type DeviceState } from './engine';

/** The part of DurableObjectStorage this needs (also easy to supply in tests). */
export interface StateStorage {
  list<T>(options: { prefix: string }): Promise<Map<string, T>>;
  put<T>(entries: Record<string, T>): Promise<void>;
  delete(keys: string[]): Promise<number>;
}

/** One storage key per device (`alert-engine:<deviceId>`): a batch writes only the devices it touched, and
 * no value comes near the storage's per-value size limit however large the tenant. */
export const ENGINE_STATE_PREFIX = 'alert-engine:';
/** DurableObjectStorage takes at most 128 keys per put/delete call. */
const STORAGE_CHUNK = 128;

export interface AlertBatch {
  transitions: AlertTransition[];
  /** State of the batch's devices before it, to roll back to if the batch's transaction fails. */
  before: Map<string, DeviceState | null>;
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

  /** Restores the engine (once): from the Durable Object's storage and, with `db`, from Postgres, which
   * holds the rule keys as of the last committed batch (written with the alerts) and so wins for them; and
   * every alert still open in Postgres is firing in the engine (it then resolves when the condition clears,
   * and a breach that goes on never fires it twice). The newest event times applied are the later of both. */
  async restore(db?: Db): Promise<void> {
    if (this.restored) return;
    const stored = await this.o.storage.list<DeviceState>({ prefix: ENGINE_STATE_PREFIX });
    const devices = new Map(
      [...stored].map(
        ([key, state]) => [key.slice(ENGINE_STATE_PREFIX.length), state] as [string, DeviceState],
      ),
    );
    if (db) {
      const { rows, open } = await withTenant(db, this.o.tenantId, async (tx) => ({
        rows: await tx
          .select({ deviceId: alertEngineState.deviceId, state: alertEngineState.state })
          .from(alertEngineState),
        open: await tx
          .select({ ruleId: alerts.ruleId, deviceId: alerts.deviceId, subject: alerts.subject })
          .from(alerts)
          .where(eq(alerts.state, 'firing')),
      }));
      const inDb = new Map(rows.map((r) => [r.deviceId, r.state as unknown as DeviceState]));
      for (const [id, local] of devices) {
        // No row: nothing to remember as of the last commit.
        if (!inDb.has(id)) devices.set(id, { seen: local.seen, keys: {} });
      }
      for (const [id, saved] of inDb) {
        const seen = { ...saved.seen };
        for (const [kind, t] of Object.entries(devices.get(id)?.seen ?? {})) {
          if (t !== undefined && (seen[kind] ?? 0) < t) seen[kind] = t;
        }
        devices.set(id, { seen, keys: { ...saved.keys } });
      }
      for (const a of open) {
        if (!a.ruleId) continue;
        const d = devices.get(a.deviceId) ?? { seen: {}, keys: {} };
        devices.set(a.deviceId, d);
        const key = `${a.ruleId}|${a.subject}`;
        const k = d.keys[key];
        if (!k) d.keys[key] = { firing: true, breaches: 0, clears: 0, breachSince: null };
        else k.firing = true;
      }
    }
    this.engine = AlertEngine.fromDevices(devices);
    this.restored = true;
  }

  /** Writes to Postgres, in the caller's transaction, the devices whose rule keys differ from `before`. */
  private async saveStates(tx: Tx, before: ReadonlyMap<string, DeviceState | null>): Promise<void> {
    const now = this.engine.snapshotDevices(before.keys());
    const upserts: { device_id: string; state: DeviceState }[] = [];
    const deletes: string[] = [];
    for (const [id, prev] of before) {
      const cur = now.get(id) ?? null;
      const had = prev && Object.keys(prev.keys).length > 0 ? prev.keys : null;
      const has = cur && Object.keys(cur.keys).length > 0 ? cur.keys : null;
      if (JSON.stringify(had) === JSON.stringify(has)) continue;
      if (has && cur) upserts.push({ device_id: id, state: cur });
      else deletes.push(id);
    }
    if (upserts.length > 0) {
      await tx.execute(sql`
        INSERT INTO alert_engine_state (tenant_id, device_id, state, updated_at)
        SELECT ${this.o.tenantId}::uuid, x.device_id, x.state, now()
        FROM jsonb_to_recordset(${JSON.stringify(upserts)}::jsonb) AS x(device_id uuid, state jsonb)
        ON CONFLICT (tenant_id, device_id) DO UPDATE SET state = excluded.state, updated_at = now()`);
    }
    if (deletes.length > 0) {
      await tx
        .delete(alertEngineState)
        .where(
          and(eq(alertEngineState.tenantId, this.o.tenantId), inArray(alertEngineState.deviceId, deletes)),
        );
    }
  }

  /** Makes the next refresh() re-read rules (call when a rule, window or membership changed). */
  invalidate(): void {
    this.loadedAt = Number.NEGATIVE_INFINITY;
  }

  /** Re-reads rules, membership and windows when stale. Rules that went away resolve their open alerts,
   * which are recorded here in a transaction of their own. */
  async refresh(db: Db, now: Date): Promise<RecordedAlert[]> {
    await this.restore(db);
    if (now.getTime() - this.loadedAt < (this.o.refreshMs ?? 30_000)) return [];
    const before = this.engine.toJSON();
    try {
      return await withTenant(db, this.o.tenantId, async (tx) => {
        this.snapshot = await loadAlertingSnapshot(tx);
        const gone = this.engine.setRules(this.snapshot.rules, this.snapshot.membership, now);
        const recorded = await recordTransitions(tx, this.o.tenantId, gone, this.snapshot, now);
        await this.saveStates(tx, new Map(Object.entries(before.devices)));
        this.loadedAt = now.getTime();
        return recorded;
      }).then(async (recorded) => {
        await this.persist();
        return recorded;
      });
    } catch (err) {
      // Keep the new rules but put the devices back: the next refresh derives the same resolutions again.
      this.engine.restoreDevices(new Map(Object.entries(before.devices)));
      this.loadedAt = Number.NEGATIVE_INFINITY;
      throw err;
    }
  }

  /** Runs the engine over a batch of validated events (after refresh()). */
  evaluate(events: readonly DeviceEvent[], now: Date): AlertBatch {
    const before = this.engine.snapshotDevices(new Set(events.map((e) => e.deviceId)));
    return { transitions: this.engine.ingest(events, now), before };
  }

  /** Records the batch's transitions inside the caller's tenant transaction. */
  async record(tx: Tx, batch: AlertBatch, now: Date): Promise<RecordedAlert[]> {
    const recorded = await recordTransitions(tx, this.o.tenantId, batch.transitions, this.snapshot, now);
    // The hysteresis state goes with the alerts it explains (read back by restore() after a restart).
    await this.saveStates(tx, batch.before);
    return recorded;
  }

  /** After the batch's transaction committed: keeps the engine state. */
  async commit(_batch: AlertBatch): Promise<void> {
    await this.persist();
  }

  /** Writes the devices whose state changed; removes the ones with nothing left to keep. */
  private async persist(): Promise<void> {
    const puts: [string, DeviceState][] = [];
    const deletes: string[] = [];
    for (const [id, state] of this.engine.takeDirty()) {
      const key = ENGINE_STATE_PREFIX + id;
      if (state) puts.push([key, state]);
      else deletes.push(key);
    }
    for (let i = 0; i < puts.length; i += STORAGE_CHUNK) {
      await this.o.storage.put(Object.fromEntries(puts.slice(i, i + STORAGE_CHUNK)));
    }
    for (let i = 0; i < deletes.length; i += STORAGE_CHUNK) {
      await this.o.storage.delete(deletes.slice(i, i + STORAGE_CHUNK));
    }
  }

  /** The batch's transaction failed: forget what the engine learnt from it (it will be replayed). */
  rollback(batch: AlertBatch): void {
    this.engine.restoreDevices(batch.before);
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

/** A Durable Object's own storage is a StateStorage (checked by the compiler). */
export const fromDurableObjectStorage = (storage: DurableObjectStorage): StateStorage => storage;
