// Configuration backups (issue #8): stores a device's `/export` as a snapshot — normalised so volatile header
// lines are not changes, hashed, deduplicated against the device's latest snapshot, sealed with the tenant's
// data key — and reads snapshots back for download and diff. Called by the TenantHub for `config-snapshot`
// events and by routes/config-backups.ts. Export text may hold secrets: nothing here logs it or puts it in an
// error message.
import {
  type ConfigSnapshot,
  type ConfigSnapshotData,
  contentHash,
  type DeviceEventOf,
  normaliseExport,
} from '@tod/contracts';
import { configSnapshots, devices } from '@tod/drizzle/schema';
import { and, desc, eq, lt, sql } from 'drizzle-orm';
import { type Envelope, openJson, sealJson } from './envelope';
import { openSealedExport, SealedExportError } from './export-keys';

/** Envelope purpose of snapshot ciphertexts (also what kms_events records). */
export const SNAPSHOT_PURPOSE = 'config-snapshot';

export class ConfigBackupError extends Error {
  constructor(
    readonly code: 'device_not_found' | 'snapshot_not_found' | 'tenant_mismatch' | 'snapshot_corrupt',
    message: string,
  ) {
    super(message);
  }
}

export interface StoreSnapshotInput {
  deviceId: string;
  /** When the collector exported it. */
  takenAt: Date;
  trigger: ConfigSnapshotData['trigger'];
  sensitive: boolean;
  /** The raw `/export` text as the device wrote it. */
  exportText: string;
  routerosVersion?: string;
  /** The event id: a redelivered event is recognised and not stored twice. */
  sourceEventId?: string;
}

export type StoreSnapshotResult =
  | { status: 'created'; snapshot: ConfigSnapshot }
  /** Same content as the device's latest snapshot: no row added; `snapshot` is that latest one. */
  | { status: 'unchanged'; snapshot: ConfigSnapshot }
  /** This event was stored before (`snapshot` is what it produced). */
  | { status: 'duplicate'; snapshot: ConfigSnapshot };

type Row = typeof configSnapshots.$inferSelect;

/** What is sealed: the text together with what it belongs to, so a ciphertext copied to another row (or
 * device) does not open as that row's content. */
interface SealedSnapshot {
  deviceId: string;
  contentHash: string;
  text: string;
}

export function snapshotDto(r: Row): ConfigSnapshot {
  return {
    id: r.id,
    deviceId: r.deviceId,
    seq: r.seq,
    takenAt: r.takenAt.toISOString(),
    trigger: r.trigger,
    contentHash: r.contentHash,
    size: r.size,
    sensitive: r.sensitive,
    routerosVersion: r.routerosVersion,
  };
}

/** Normalise, hash, dedupe against the device's latest snapshot, seal and insert. Runs inside the caller's
 * tenant transaction (env.tx, RLS on env.tenantId). */
export async function storeSnapshot(env: Envelope, input: StoreSnapshotInput): Promise<StoreSnapshotResult> {
  const { tx, tenantId } = env;
  const [device] = await tx
    .select({ id: devices.id })
    .from(devices)
    .where(and(eq(devices.tenantId, tenantId), eq(devices.id, input.deviceId)));
  if (!device) throw new ConfigBackupError('device_not_found', 'no such device in this tenant');
  // One writer per device at a time, so "compare with the latest, then append" cannot interleave.
  await tx.execute(
    sql`SELECT pg_advisory_xact_lock(hashtextextended(${`config-snapshot:${input.deviceId}`}, 0))`,
  );
  if (input.sourceEventId) {
    const [seen] = await tx
      .select()
      .from(configSnapshots)
      .where(
        and(eq(configSnapshots.tenantId, tenantId), eq(configSnapshots.sourceEventId, input.sourceEventId)),
      );
    if (seen) return { status: 'duplicate', snapshot: snapshotDto(seen) };
  }
  const text = normaliseExport(input.exportText);
  const hash = await contentHash(text);
  const [latest] = await tx
    .select()
    .from(configSnapshots)
    .where(and(eq(configSnapshots.tenantId, tenantId), eq(configSnapshots.deviceId, input.deviceId)))
    .orderBy(desc(configSnapshots.seq))
    .limit(1);
  if (latest && latest.contentHash === hash) return { status: 'unchanged', snapshot: snapshotDto(latest) };
  const sealed: SealedSnapshot = { deviceId: input.deviceId, contentHash: hash, text };
  const [row] = await tx
    .insert(configSnapshots)
    .values({
      tenantId,
      deviceId: input.deviceId,
      seq: (latest?.seq ?? 0) + 1,
      takenAt: input.takenAt,
      trigger: input.trigger,
      contentHash: hash,
      size: new TextEncoder().encode(text).length,
      sensitive: input.sensitive,
      contentEnc: await sealJson(env, SNAPSHOT_PURPOSE, sealed),
      routerosVersion: input.routerosVersion ?? null,
      sourceEventId: input.sourceEventId ?? null,
    })
    .returning();
  return { status: 'created', snapshot: snapshotDto(row!) };
}

/** storeSnapshot for a validated `config-snapshot` event (DeviceEvent.parse first); the event must belong to
 * the envelope's tenant. */
export async function storeSnapshotEvent(
  env: Envelope,
  event: DeviceEventOf<'config-snapshot'>,
): Promise<StoreSnapshotResult> {
  if (event.tenantId !== env.tenantId)
    throw new ConfigBackupError('tenant_mismatch', 'event of another tenant');
  let exportText = event.data.export;
  if (event.data.sealedExport !== undefined) {
    try {
      exportText = await openSealedExport(env, event.deviceId, event.data.sealedExport);
    } catch (err) {
      if (err instanceof SealedExportError) throw new ConfigBackupError('snapshot_corrupt', err.message);
      throw err;
    }
  }
  return storeSnapshot(env, {
    deviceId: event.deviceId,
    takenAt: new Date(event.at),
    trigger: event.data.trigger,
    sensitive: event.data.sensitive,
    exportText: exportText ?? '',
    ...(event.data.routerosVersion ? { routerosVersion: event.data.routerosVersion } : {}),
    sourceEventId: event.id,
  });
}

/** Newest first; `before` is a seq (keyset page). */
export async function listSnapshots(
  env: Envelope,
  deviceId: string,
  page: { limit: number; before?: number },
): Promise<{ items: ConfigSnapshot[]; nextBefore: number | null }> {
  const rows = await env.tx
    .select()
    .from(configSnapshots)
    .where(
      and(
        eq(configSnapshots.tenantId, env.tenantId),
        eq(configSnapshots.deviceId, deviceId),
        ...(page.before ? [lt(configSnapshots.seq, page.before)] : []),
      ),
    )
    .orderBy(desc(configSnapshots.seq))
    .limit(page.limit + 1);
  const items = rows.slice(0, page.limit);
  const last = items[items.length - 1];
  return { items: items.map(snapshotDto), nextBefore: rows.length > page.limit && last ? last.seq : null };
}

export async function getSnapshot(env: Envelope, deviceId: string, snapshotId: string): Promise<Row> {
  const [row] = await env.tx
    .select()
    .from(configSnapshots)
    .where(
      and(
        eq(configSnapshots.tenantId, env.tenantId),
        eq(configSnapshots.deviceId, deviceId),
        eq(configSnapshots.id, snapshotId),
      ),
    );
  if (!row) throw new ConfigBackupError('snapshot_not_found', 'no such snapshot');
  return row;
}

/** The normalised export text of a snapshot (decrypted; check the caller may see sensitive ones first). */
export async function snapshotText(env: Envelope, row: Row): Promise<string> {
  const sealed = (await openJson(env, SNAPSHOT_PURPOSE, row.contentEnc)) as Partial<SealedSnapshot>;
  if (
    sealed.deviceId !== row.deviceId ||
    sealed.contentHash !== row.contentHash ||
    typeof sealed.text !== 'string'
  )
    throw new ConfigBackupError('snapshot_corrupt', 'the stored snapshot does not belong to this row');
  return sealed.text;
}
