// NATS subjects shared by the collector (publisher) and the edge (consumer).
import { z } from 'zod';
import { OperationState } from './api/config-ops';
import { ConfigSnapshotData } from './config/snapshot';

export const STREAM_NAME = 'TOD';
export const DEVICES_BUCKET = 'tod-devices';

export const EventKind = z.enum([
  'status',
  'resource',
  'interfaces',
  'wireless',
  'health',
  'config-changed',
  'config-snapshot',
  'log',
  'progress',
  'config-operation',
]);
export type EventKind = z.infer<typeof EventKind>;

const subjectToken = z.string().regex(/^[A-Za-z0-9_-]+$/, 'a NATS subject token: letters, digits, - and _');

/** `tod.evt.<tenant>.<device>.<kind>` */
export function eventSubject(tenantId: string, deviceId: string, kind: EventKind): string {
  subjectToken.parse(tenantId);
  subjectToken.parse(deviceId);
  return `tod.evt.${tenantId}.${deviceId}.${kind}`;
}

export const EventSubject = z
  .string()
  .regex(/^tod\.evt\.([A-Za-z0-9_-]+)\.([A-Za-z0-9_-]+)\.([a-z-]+)$/)
  .transform((s, ctx) => {
    const [, , tenantId, deviceId, kind] = s.split('.');
    const parsed = EventKind.safeParse(kind);
    if (!parsed.success) {
      ctx.addIssue({ code: 'custom', message: `unknown event kind ${kind}` });
      return z.NEVER;
    }
    return { tenantId: tenantId!, deviceId: deviceId!, kind: parsed.data };
  });

/** `tod.cmd.<tenant>.<collector>` request/reply to one collector. */
export function commandSubject(tenantId: string, collectorId: string): string {
  subjectToken.parse(tenantId);
  subjectToken.parse(collectorId);
  return `tod.cmd.${tenantId}.${collectorId}`;
}

/** KV key in `tod-devices`: `<tenant>.<collector>.<device>`. */
export function deviceKey(tenantId: string, collectorId: string, deviceId: string): string {
  for (const t of [tenantId, collectorId, deviceId]) subjectToken.parse(t);
  return `${tenantId}.${collectorId}.${deviceId}`;
}

// ---------------------------------------------------------------------------------------------------------
// Event payloads: what the collector publishes on `tod.evt.<tenant>.<device>.<kind>`. The envelope carries the
// ids the ingest side checks (a collector may only speak for its own tenant's devices) and an id that is also
// the JetStream Nats-Msg-Id, so a retried publish is stored once.

const uuid = z.uuid();
const count = z.number().int().nonnegative();

/** What a poll found about reachability; distinct failure statuses so an MSP can tell a dead router from a
 * changed password or a broken certificate. */
export const PolledStatus = z.enum(['online', 'unreachable', 'auth_failed', 'tls_failed', 'degraded']);
export type PolledStatus = z.infer<typeof PolledStatus>;

export const TlsTier = z.enum(['verified', 'self_signed', 'plain']);
export type TlsTier = z.infer<typeof TlsTier>;

export const StatusData = z.object({
  status: PolledStatus,
  /** Human-readable reason for a failure status (the device's or the socket's error text). */
  reason: z.string().max(500).optional(),
  tlsTier: TlsTier.optional(),
  /** Round-trip of the poll's commands, for online devices. */
  latencyMs: z.number().nonnegative().optional(),
  consecutiveFailures: count.default(0),
});

export const ResourceData = z.object({
  identity: z.string().max(255),
  cpuLoad: z.number().min(0).max(100),
  freeMemory: count,
  totalMemory: count,
  freeHdd: count,
  totalHdd: count,
  uptimeSeconds: count,
  version: z.string().max(64),
  boardName: z.string().max(128),
  architecture: z.string().max(64),
  model: z.string().max(128).optional(),
  serial: z.string().max(64).optional(),
  firmware: z.string().max(64).optional(),
});

export const InterfaceSample = z.object({
  name: z.string().max(128),
  type: z.string().max(64),
  running: z.boolean(),
  disabled: z.boolean(),
  macAddress: z.string().max(32).optional(),
  rxBytes: count,
  txBytes: count,
  rxPackets: count,
  txPackets: count,
  /** Rates over the last poll interval, computed by the collector (absent on the first sample, after a
   * counter reset or a reboot). */
  rxBps: z.number().nonnegative().optional(),
  txBps: z.number().nonnegative().optional(),
});
export const InterfacesData = z.object({ interfaces: z.array(InterfaceSample).max(4096) });

export const WirelessClient = z.object({
  interface: z.string().max(128),
  macAddress: z.string().max(32),
  signalDbm: z.number().min(-150).max(0).optional(),
  txRateMbps: z.number().nonnegative().optional(),
  rxRateMbps: z.number().nonnegative().optional(),
  uptimeSeconds: count.optional(),
});
export const WirelessData = z.object({ clients: z.array(WirelessClient).max(4096) });

export const HealthData = z.object({
  voltage: z.number().optional(),
  temperatureC: z.number().optional(),
  cpuTemperatureC: z.number().optional(),
  fans: z.record(z.string(), z.number()).optional(),
  psu: z.record(z.string(), z.string()).optional(),
});

export const ConfigChangedData = z.object({
  /** An opaque marker that changes when the configuration changes (e.g. the newest /system/history id). */
  marker: z.string().max(200),
  previousMarker: z.string().max(200).optional(),
});

export const LogData = z.object({
  entries: z
    .array(z.object({ time: z.string().max(64), topics: z.string().max(200), message: z.string().max(2000) }))
    .max(1000),
});

export const ProgressData = z.object({
  operationId: z.string().max(64),
  stage: z.string().max(64),
  percent: z.number().min(0).max(100).optional(),
  message: z.string().max(2000).optional(),
  done: z.boolean().default(false),
  ok: z.boolean().optional(),
});

/** Progress of a configuration operation (issue #8) on the device: applying → applied | pending-confirmation →
 * confirmed | reverted, or failed with the device's own error text. */
export const ConfigOperationData = z.object({
  operationId: z.uuid(),
  state: OperationState,
  error: z.string().max(2000).optional(),
  /** Safe apply: when the device reverts unless confirmed. */
  confirmDeadline: z.iso.datetime({ offset: true }).optional(),
});

const envelope = {
  v: z.literal(1),
  /** Unique per event; also the JetStream Nats-Msg-Id. */
  id: z.string().min(8).max(128),
  tenantId: uuid,
  deviceId: uuid,
  collectorId: uuid,
  /** When the collector observed it (ISO 8601). */
  at: z.iso.datetime({ offset: true }),
};

export const DeviceEvent = z.discriminatedUnion('kind', [
  z.object({ ...envelope, kind: z.literal('status'), data: StatusData }),
  z.object({ ...envelope, kind: z.literal('resource'), data: ResourceData }),
  z.object({ ...envelope, kind: z.literal('interfaces'), data: InterfacesData }),
  z.object({ ...envelope, kind: z.literal('wireless'), data: WirelessData }),
  z.object({ ...envelope, kind: z.literal('health'), data: HealthData }),
  z.object({ ...envelope, kind: z.literal('config-changed'), data: ConfigChangedData }),
  z.object({ ...envelope, kind: z.literal('config-snapshot'), data: ConfigSnapshotData }),
  z.object({ ...envelope, kind: z.literal('log'), data: LogData }),
  z.object({ ...envelope, kind: z.literal('progress'), data: ProgressData }),
  z.object({ ...envelope, kind: z.literal('config-operation'), data: ConfigOperationData }),
]);
export type DeviceEvent = z.infer<typeof DeviceEvent>;
export type DeviceEventOf<K extends EventKind> = Extract<DeviceEvent, { kind: K }>;

/** Kinds an outbox may drop under pressure (newest samples replace them); the rest are never dropped. */
export const DROPPABLE_KINDS: ReadonlySet<EventKind> = new Set([
  'resource',
  'interfaces',
  'wireless',
  'health',
  'log',
]);

/** JetStream stream holding every device event. The duplicate window bounds how long a replayed Nats-Msg-Id is
 * recognised; the collector's outbox replays within it after a crash. */
export const EVENT_STREAM = {
  name: STREAM_NAME,
  subjects: ['tod.evt.>'],
  duplicateWindowMs: 15 * 60_000,
  maxAgeMs: 7 * 24 * 3_600_000,
} as const;

/** EVENT_STREAM as JetStream's stream config (durations in nanoseconds), for whoever creates the stream. */
export function eventStreamConfig() {
  return {
    name: EVENT_STREAM.name,
    subjects: [...EVENT_STREAM.subjects],
    duplicate_window: EVENT_STREAM.duplicateWindowMs * 1_000_000,
    max_age: EVENT_STREAM.maxAgeMs * 1_000_000,
  };
}
