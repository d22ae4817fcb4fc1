// Configuration backups from the event stream: each new `config-snapshot` event is stored (normalised,
// deduplicated, sealed) in the batch's transaction; SSE clients get a summary on topic `config`, never the
// export text (it may hold secrets, and is never logged either).
import type { DeviceEventOf } from '@tod/contracts';
import { ConfigBackupError, type StoreSnapshotResult, storeSnapshotEvent } from '../services/config-backups';
import { kmsFor } from '../services/kms-config';
import type { EventSink } from './event-sink';

/** What SSE clients see of a stored snapshot (event `config-backup`, topic `config`). */
export interface ConfigBackupSummary {
  deviceId: string;
  eventId: string;
  trigger: DeviceEventOf<'config-snapshot'>['data']['trigger'];
  status: 'created' | 'unchanged' | 'duplicate' | 'dropped';
  snapshotId: string | null;
  seq: number | null;
}

export function configSnapshotSink(): EventSink {
  let pending: ConfigBackupSummary[] = [];
  return {
    name: 'config-backups',
    async write(tx, { fresh }, hub) {
      pending = [];
      const kms = kmsFor(hub.env);
      for (const { event } of fresh) {
        if (event.kind !== 'config-snapshot') continue;
        const summary = { deviceId: event.deviceId, eventId: event.id, trigger: event.data.trigger };
        let result: StoreSnapshotResult;
        try {
          // A savepoint: a permanent refusal drops this event without undoing the rest of the batch.
          result = await tx.transaction((sp) =>
            storeSnapshotEvent({ tx: sp, kms, tenantId: hub.tenantId }, event),
          );
        } catch (err) {
          if (!(err instanceof ConfigBackupError)) throw err;
          console.warn(
            JSON.stringify({
              level: 'warn',
              msg: 'config snapshot dropped',
              tenantId: hub.tenantId,
              deviceId: event.deviceId,
              eventId: event.id,
              code: err.code,
            }),
          );
          pending.push({ ...summary, status: 'dropped', snapshotId: null, seq: null });
          continue;
        }
        pending.push({
          ...summary,
          status: result.status,
          snapshotId: result.snapshot.id,
          seq: result.snapshot.seq,
        });
      }
    },
    abort() {
      pending = [];
    },
    async onCommitted(_events, hub) {
      for (const s of pending) hub.broadcast('config', 'config-backup', s);
      pending = [];
    },
  };
}
