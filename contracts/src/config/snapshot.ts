// The `config-snapshot` event (collector → edge) and the configuration-backup API bodies (edge → web).
import { z } from 'zod';

export const ConfigSnapshotTrigger = z.enum(['change', 'nightly', 'manual']);
export type ConfigSnapshotTrigger = z.infer<typeof ConfigSnapshotTrigger>;

/** Largest export a `config-snapshot` event carries: the JSON-escaped text must fit NATS's default 1 MiB
 * payload with the envelope. A larger export is reported as a failed backup, not truncated. */
export const CONFIG_EXPORT_MAX_CHARS = 768 * 1024;

/** Largest sealed export (compact JWE of the deflated text) an event carries. */
export const SEALED_EXPORT_MAX_CHARS = 900 * 1024;

/** How collectors seal an export to their tenant's export key (`tenant_export_keys`): a compact JWE of the
 * raw-deflated UTF-8 text, key agreement ECDH-ES+A256KW on P-256, content A256GCM. The protected header names
 * the device (`tod_dev`), so the edge refuses a sealed export replayed under another device. */
export const EXPORT_JWE = {
  alg: 'ECDH-ES+A256KW',
  enc: 'A256GCM',
  crv: 'P-256',
  cty: 'routeros-export+deflate',
  deviceHeader: 'tod_dev',
} as const;

/** Payload of `tod.evt.<tenant>.<device>.config-snapshot`: the raw `/export` text as the device wrote it,
 * either sealed to the tenant's export key (`sealedExport`, what enrolled collectors send) or in plain text
 * (`export`, collectors without an export key). The edge opens, normalises, hashes, dedupes and seals it with
 * the tenant's data key; the collector stores nothing. The text may hold secrets when `sensitive` is true:
 * never log it. */
export const ConfigSnapshotData = z
  .object({
    trigger: ConfigSnapshotTrigger,
    /** Exported with show-sensitive (7.x) / without hide-sensitive (6.x): passwords and keys included. */
    sensitive: z.boolean(),
    export: z.string().max(CONFIG_EXPORT_MAX_CHARS).optional(),
    sealedExport: z
      .string()
      .max(SEALED_EXPORT_MAX_CHARS)
      .regex(
        /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/,
        'must be a compact JWE',
      )
      .optional(),
    /** The device's RouterOS version at export time, e.g. `7.16.2 (stable)`. */
    routerosVersion: z.string().max(64).optional(),
  })
  .refine((d) => (d.export === undefined) !== (d.sealedExport === undefined), {
    message: 'exactly one of export and sealedExport',
  });
export type ConfigSnapshotData = z.infer<typeof ConfigSnapshotData>;

// ---------------------------------------------------------------------------------------------------------
// API: /api/devices/:id/config/snapshots

export const ConfigSnapshot = z.object({
  id: z.uuid(),
  deviceId: z.uuid(),
  /** Version number per device: 1, 2, 3, … */
  seq: z.number().int().positive(),
  takenAt: z.string(),
  trigger: ConfigSnapshotTrigger,
  contentHash: z.string(),
  size: z.number().int().nonnegative(),
  sensitive: z.boolean(),
  routerosVersion: z.string().nullable(),
});
export type ConfigSnapshot = z.infer<typeof ConfigSnapshot>;

export const ConfigSnapshotListQuery = z.strictObject({
  limit: z.coerce.number().int().min(1).max(200).default(50),
  /** Keyset cursor: list snapshots with seq below this one (newest first). */
  before: z.coerce.number().int().positive().optional(),
});
export type ConfigSnapshotListQuery = z.infer<typeof ConfigSnapshotListQuery>;

export const ConfigSnapshotList = z.object({
  items: z.array(ConfigSnapshot),
  /** Pass as `before` for the next (older) page; null at the oldest snapshot. */
  nextBefore: z.number().int().nullable(),
});

export const ConfigSnapshotParams = z.strictObject({ id: z.uuid(), sid: z.uuid() });

export const ConfigDiffQuery = z.strictObject({
  from: z.uuid(),
  to: z.uuid(),
  context: z.coerce.number().int().min(0).max(100).default(3),
});

const DiffSide = z.object({ line: z.number().int(), text: z.string() });
export const ConfigDiff = z.object({
  from: ConfigSnapshot,
  to: ConfigSnapshot,
  /** `diff -u` text; empty when the two versions are equal. */
  unified: z.string(),
  sideBySide: z.array(
    z.object({
      kind: z.enum(['equal', 'change', 'delete', 'insert']),
      left: DiffSide.optional(),
      right: DiffSide.optional(),
    }),
  ),
  stats: z.object({ added: z.number().int(), removed: z.number().int() }),
});
export type ConfigDiff = z.infer<typeof ConfigDiff>;
