// Alerting in the TenantHub: the engine runs over each batch's new events and its alert rows (and queued
// notifications) are written in the batch's own transaction, so a redelivered batch or a restarted hub
// records nothing twice. Committed alerts stream on SSE topic `alerts` (event `alert`); notifications are sent
// after the batch (never holding it up) and retried from the hub's alarm.
import { alertDto } from '../alerting/alert-dto';
import type { RecordedAlert } from '../alerting/dispatch';
import { type AlertBatch, TenantAlerting } from '../alerting/tenant-alerting';
import { type DbHandle, openDb } from '../db';
import { configFor } from '../middleware/config';
import { kmsFor } from '../services/kms-config';
import { workerNotifyDeps } from '../services/notify/workers';
import type { EventSink, HubContext } from './event-sink';

export function alertingSink(): EventSink {
  let alerting: TenantAlerting | null = null;
  /** Rule refreshes and deliveries run on a connection of their own, outside any batch. */
  let ownHandle: DbHandle | null = null;
  let batch: AlertBatch | null = null;
  let recorded: RecordedAlert[] = [];
  let delivering: Promise<void> | null = null;
  let again = false;

  const of = (hub: HubContext): TenantAlerting => {
    alerting ??= new TenantAlerting({
      tenantId: hub.tenantId,
      storage: hub.storage,
      kms: kmsFor(hub.env),
      deps: workerNotifyDeps(),
    });
    return alerting;
  };
  const ownDb = (hub: HubContext) => {
    ownHandle ??= openDb(configFor(hub.env).DATABASE_URL);
    return ownHandle.db;
  };
  const stream = (hub: HubContext, rows: readonly RecordedAlert[]) => {
    for (const r of rows) hub.broadcast('alerts', 'alert', { kind: r.kind, alert: alertDto(r.alert) });
  };
  /** One delivery run at a time; a request during a run makes it go once more. */
  const deliver = (hub: HubContext): Promise<void> => {
    if (delivering) {
      again = true;
      return delivering;
    }
    const db = ownDb(hub);
    delivering = (async () => {
      do {
        again = false;
        await of(hub).deliver(db, hub.now());
      } while (again);
    })()
      .catch((err) => {
        console.error(
          JSON.stringify({
            level: 'error',
            msg: 'tenant hub: alert delivery failed',
            tenantId: hub.tenantId,
            error: err instanceof Error ? err.message : String(err),
          }),
        );
      })
      .finally(() => {
        delivering = null;
      });
    return delivering;
  };

  return {
    name: 'alerting',
    async prepare(hub) {
      // Rules that went away resolve their alerts (recorded in a transaction of refresh's own).
      stream(hub, await of(hub).refresh(ownDb(hub), hub.now()));
    },
    async write(tx, { accepted }, hub) {
      const a = of(hub);
      const now = hub.now();
      // Redelivered events too: after a crash between commit and ack the engine state in DO storage may
      // predate them; the engine skips what it has seen, and recording a transition again changes nothing.
      batch = a.evaluate(
        accepted.map((s) => s.event),
        now,
      );
      recorded = await a.record(tx, batch, now);
    },
    invalidate() {
      alerting?.invalidate();
    },
    abort() {
      if (batch && alerting) alerting.rollback(batch);
      batch = null;
      recorded = [];
    },
    async onCommitted(_events, hub) {
      const done = batch;
      const rows = recorded;
      batch = null;
      recorded = [];
      if (done) await of(hub).commit(done);
      stream(hub, rows);
      if (rows.length > 0) hub.waitUntil(deliver(hub));
    },
    async onTick(hub) {
      await deliver(hub);
    },
  };
}
