// drizzle-orm view of the tables created by drizzle/migrations (the SQL is the source of truth; a test
// compares the two so they cannot drift apart).
import { sql } from 'drizzle-orm';
import {
  bigint,
  boolean,
  customType,
  doublePrecision,
  index,
  inet,
  integer,
  jsonb,
  pgTable,
  primaryKey,
  real,
  smallint,
  text,
  timestamp,
  uuid,
} from 'drizzle-orm/pg-core';

const bytea = customType<{ data: Uint8Array; driverData: Uint8Array }>({
  dataType: () => 'bytea',
});

const createdAt = () => timestamp('created_at', { withTimezone: true }).notNull().defaultNow();

export const tenants = pgTable('tenants', {
  id: uuid('id').primaryKey().defaultRandom(),
  name: text('name').notNull(),
  slug: text('slug').notNull(),
  settings: jsonb('settings').$type<Record<string, unknown>>().notNull().default({}),
  createdAt: createdAt(),
  updatedAt: timestamp('updated_at', { withTimezone: true }).notNull().defaultNow(),
});

export const userRoles = ['super_admin', 'admin', 'operator', 'viewer'] as const;

export const users = pgTable('users', {
  id: uuid('id').primaryKey().defaultRandom(),
  tenantId: uuid('tenant_id'),
  email: text('email').notNull(),
  name: text('name').notNull().default(''),
  role: text('role', { enum: userRoles }).notNull(),
  srpSalt: text('srp_salt'),
  srpVerifier: text('srp_verifier'),
  secretKeyId: text('secret_key_id'),
  secretKeyVersion: integer('secret_key_version').notNull().default(0),
  secretKeyCreatedAt: timestamp('secret_key_created_at', { withTimezone: true }),
  mustEnroll: boolean('must_enroll').notNull().default(true),
  disabledAt: timestamp('disabled_at', { withTimezone: true }),
  lastLoginAt: timestamp('last_login_at', { withTimezone: true }),
  createdAt: createdAt(),
  updatedAt: timestamp('updated_at', { withTimezone: true }).notNull().defaultNow(),
});

export const collectors = pgTable('collectors', {
  id: uuid('id').primaryKey().defaultRandom(),
  tenantId: uuid('tenant_id').notNull(),
  name: text('name').notNull(),
  site: text('site').notNull().default(''),
  publicKey: jsonb('public_key').$type<Record<string, unknown>>(),
  status: text('status', { enum: ['pending', 'online', 'offline', 'revoked'] })
    .notNull()
    .default('pending'),
  version: text('version'),
  lastSeenAt: timestamp('last_seen_at', { withTimezone: true }),
  enrolledAt: timestamp('enrolled_at', { withTimezone: true }),
  revokedAt: timestamp('revoked_at', { withTimezone: true }),
  enrollTokenHash: bytea('enroll_token_hash'),
  enrollTokenExpiresAt: timestamp('enroll_token_expires_at', { withTimezone: true }),
  createdAt: createdAt(),
});

export const deviceStatuses = [
  'unknown',
  'online',
  'offline',
  'degraded',
  'unreachable',
  'auth_failed',
  'tls_failed',
] as const;
export const tlsModes = ['strict', 'self_signed', 'any', 'plain'] as const;

export const devices = pgTable('devices', {
  id: uuid('id').primaryKey().defaultRandom(),
  tenantId: uuid('tenant_id').notNull(),
  collectorId: uuid('collector_id'),
  name: text('name').notNull(),
  host: text('host').notNull(),
  port: integer('port').notNull().default(8728),
  tlsMode: text('tls_mode', { enum: tlsModes }).notNull().default('any'),
  credentialsEnc: bytea('credentials_enc'),
  credentialsKeyVersion: integer('credentials_key_version'),
  model: text('model'),
  boardName: text('board_name'),
  serial: text('serial'),
  routerosVersion: text('routeros_version'),
  firmware: text('firmware'),
  architecture: text('architecture'),
  status: text('status', { enum: deviceStatuses }).notNull().default('unknown'),
  /** When the collector observed the status on the row (a late, older status never overwrites it). */
  statusAt: timestamp('status_at', { withTimezone: true }),
  lastSeenAt: timestamp('last_seen_at', { withTimezone: true }),
  latitude: doublePrecision('latitude'),
  longitude: doublePrecision('longitude'),
  notes: text('notes').notNull().default(''),
  createdAt: createdAt(),
  updatedAt: timestamp('updated_at', { withTimezone: true }).notNull().defaultNow(),
});

export const deviceGroups = pgTable('device_groups', {
  id: uuid('id').primaryKey().defaultRandom(),
  tenantId: uuid('tenant_id').notNull(),
  name: text('name').notNull(),
  description: text('description').notNull().default(''),
  createdAt: createdAt(),
});

export const deviceGroupMembers = pgTable(
  'device_group_members',
  {
    tenantId: uuid('tenant_id').notNull(),
    groupId: uuid('group_id').notNull(),
    deviceId: uuid('device_id').notNull(),
  },
  (t) => [primaryKey({ columns: [t.groupId, t.deviceId] })],
);

export const tags = pgTable('tags', {
  id: uuid('id').primaryKey().defaultRandom(),
  tenantId: uuid('tenant_id').notNull(),
  name: text('name').notNull(),
  color: text('color').notNull().default('#64748b'),
  createdAt: createdAt(),
});

export const deviceTags = pgTable(
  'device_tags',
  {
    tenantId: uuid('tenant_id').notNull(),
    tagId: uuid('tag_id').notNull(),
    deviceId: uuid('device_id').notNull(),
  },
  (t) => [primaryKey({ columns: [t.tagId, t.deviceId] })],
);

export const apiKeys = pgTable('api_keys', {
  id: uuid('id').primaryKey().defaultRandom(),
  tenantId: uuid('tenant_id').notNull(),
  userId: uuid('user_id'),
  name: text('name').notNull(),
  prefix: text('prefix').notNull(),
  keyHash: bytea('key_hash').notNull(),
  role: text('role', { enum: ['operator', 'viewer'] }).notNull(),
  lastUsedAt: timestamp('last_used_at', { withTimezone: true }),
  expiresAt: timestamp('expires_at', { withTimezone: true }),
  revokedAt: timestamp('revoked_at', { withTimezone: true }),
  createdAt: createdAt(),
});

export const auditLog = pgTable('audit_log', {
  id: bigint('id', { mode: 'number' }).primaryKey().generatedAlwaysAsIdentity(),
  tenantId: uuid('tenant_id'),
  actorType: text('actor_type', { enum: ['user', 'api_key', 'collector', 'system', 'anonymous'] }).notNull(),
  actorId: uuid('actor_id'),
  action: text('action').notNull(),
  targetType: text('target_type'),
  targetId: text('target_id'),
  outcome: text('outcome', { enum: ['success', 'failure'] })
    .notNull()
    .default('success'),
  ip: inet('ip'),
  userAgent: text('user_agent'),
  requestId: text('request_id'),
  detailsEnc: bytea('details_enc'),
  txid: bigint('txid', { mode: 'number' }).notNull().default(sql`txid_current()`),
  createdAt: createdAt(),
});

export const srpHandshakes = pgTable('srp_handshakes', {
  id: uuid('id').primaryKey().defaultRandom(),
  userId: uuid('user_id'),
  email: text('email').notNull(),
  serverSecret: text('server_secret').notNull(),
  serverPublic: text('server_public').notNull(),
  expiresAt: timestamp('expires_at', { withTimezone: true }).notNull(),
  consumedAt: timestamp('consumed_at', { withTimezone: true }),
  createdAt: createdAt(),
});

export const refreshTokens = pgTable('refresh_tokens', {
  id: uuid('id').primaryKey(),
  familyId: uuid('family_id').notNull(),
  userId: uuid('user_id').notNull(),
  expiresAt: timestamp('expires_at', { withTimezone: true }).notNull(),
  usedAt: timestamp('used_at', { withTimezone: true }),
  revokedAt: timestamp('revoked_at', { withTimezone: true }),
  createdAt: createdAt(),
});

export const invitationRoles = ['admin', 'operator', 'viewer'] as const;

export const invitations = pgTable('invitations', {
  id: uuid('id').primaryKey().defaultRandom(),
  tenantId: uuid('tenant_id').notNull(),
  email: text('email').notNull(),
  role: text('role', { enum: invitationRoles }).notNull(),
  tokenHash: bytea('token_hash').notNull(),
  invitedBy: uuid('invited_by'),
  expiresAt: timestamp('expires_at', { withTimezone: true }).notNull(),
  acceptedAt: timestamp('accepted_at', { withTimezone: true }),
  revokedAt: timestamp('revoked_at', { withTimezone: true }),
  createdAt: createdAt(),
});

export const tenantKeys = pgTable(
  'tenant_keys',
  {
    tenantId: uuid('tenant_id').notNull(),
    version: integer('version').notNull(),
    kms: text('kms', { enum: ['local', 'transit'] }).notNull(),
    wrappedKey: bytea('wrapped_key').notNull(),
    createdAt: createdAt(),
  },
  (t) => [primaryKey({ columns: [t.tenantId, t.version] })],
);

export const kmsEvents = pgTable('kms_events', {
  id: bigint('id', { mode: 'number' }).primaryKey().generatedAlwaysAsIdentity(),
  tenantId: uuid('tenant_id').notNull(),
  operation: text('operation', { enum: ['generate', 'wrap', 'unwrap', 'rewrap'] }).notNull(),
  kms: text('kms').notNull(),
  keyVersion: integer('key_version').notNull(),
  purpose: text('purpose').notNull().default(''),
  requestId: text('request_id'),
  createdAt: createdAt(),
});

// ---- Live pipeline (0003): the event ledger, raw time series partitioned by day, rollups. ----

const ts = (name: string) => timestamp(name, { withTimezone: true });

/** Every stored event once, keyed by the collector's event id (its Nats-Msg-Id). Partitioned by `at`. */
export const ingestedEvents = pgTable(
  'ingested_events',
  {
    tenantId: uuid('tenant_id').notNull(),
    id: text('id').notNull(),
    at: ts('at').notNull(),
    deviceId: uuid('device_id').notNull(),
    collectorId: uuid('collector_id').notNull(),
    kind: text('kind').notNull(),
    streamSeq: bigint('stream_seq', { mode: 'number' }).notNull(),
    receivedAt: ts('received_at').notNull().defaultNow(),
  },
  (t) => [primaryKey({ columns: [t.tenantId, t.id, t.at] })],
);

export const metricResource = pgTable(
  'metric_resource',
  {
    tenantId: uuid('tenant_id').notNull(),
    deviceId: uuid('device_id').notNull(),
    time: ts('time').notNull(),
    cpuLoad: real('cpu_load').notNull(),
    freeMemory: bigint('free_memory', { mode: 'number' }).notNull(),
    totalMemory: bigint('total_memory', { mode: 'number' }).notNull(),
    freeHdd: bigint('free_hdd', { mode: 'number' }).notNull(),
    totalHdd: bigint('total_hdd', { mode: 'number' }).notNull(),
    uptimeSeconds: bigint('uptime_seconds', { mode: 'number' }).notNull(),
  },
  (t) => [index('metric_resource_device_idx').on(t.tenantId, t.deviceId, t.time)],
);

export const metricInterfaces = pgTable(
  'metric_interfaces',
  {
    tenantId: uuid('tenant_id').notNull(),
    deviceId: uuid('device_id').notNull(),
    time: ts('time').notNull(),
    interface: text('interface').notNull(),
    running: boolean('running').notNull(),
    rxBytes: bigint('rx_bytes', { mode: 'number' }).notNull(),
    txBytes: bigint('tx_bytes', { mode: 'number' }).notNull(),
    rxBps: doublePrecision('rx_bps'),
    txBps: doublePrecision('tx_bps'),
  },
  (t) => [index('metric_interfaces_device_idx').on(t.tenantId, t.deviceId, t.interface, t.time)],
);

export const metricHealth = pgTable(
  'metric_health',
  {
    tenantId: uuid('tenant_id').notNull(),
    deviceId: uuid('device_id').notNull(),
    time: ts('time').notNull(),
    voltage: doublePrecision('voltage'),
    temperatureC: doublePrecision('temperature_c'),
    cpuTemperatureC: doublePrecision('cpu_temperature_c'),
  },
  (t) => [index('metric_health_device_idx').on(t.tenantId, t.deviceId, t.time)],
);

export const metricWireless = pgTable(
  'metric_wireless',
  {
    tenantId: uuid('tenant_id').notNull(),
    deviceId: uuid('device_id').notNull(),
    time: ts('time').notNull(),
    interface: text('interface').notNull(),
    clientMac: text('client_mac').notNull(),
    signalDbm: real('signal_dbm'),
    txRateMbps: real('tx_rate_mbps'),
    rxRateMbps: real('rx_rate_mbps'),
  },
  (t) => [index('metric_wireless_device_idx').on(t.tenantId, t.deviceId, t.clientMac, t.time)],
);

/** 5-minute buckets with new samples, rolled up by tod_rollup_metrics(). */
export const metricRollupPending = pgTable(
  'metric_rollup_pending',
  {
    tenantId: uuid('tenant_id').notNull(),
    bucket: ts('bucket').notNull(),
  },
  (t) => [primaryKey({ columns: [t.tenantId, t.bucket] })],
);

export const rollupResolutions = ['5m', '1h'] as const;

export const metricResourceRollup = pgTable(
  'metric_resource_rollup',
  {
    tenantId: uuid('tenant_id').notNull(),
    deviceId: uuid('device_id').notNull(),
    resolution: text('resolution', { enum: rollupResolutions }).notNull(),
    bucket: ts('bucket').notNull(),
    samples: integer('samples').notNull(),
    cpuAvg: real('cpu_avg').notNull(),
    cpuMax: real('cpu_max').notNull(),
    freeMemoryAvg: doublePrecision('free_memory_avg').notNull(),
    totalMemory: bigint('total_memory', { mode: 'number' }).notNull(),
    freeHddAvg: doublePrecision('free_hdd_avg').notNull(),
    totalHdd: bigint('total_hdd', { mode: 'number' }).notNull(),
    uptimeMax: bigint('uptime_max', { mode: 'number' }).notNull(),
  },
  (t) => [primaryKey({ columns: [t.tenantId, t.deviceId, t.resolution, t.bucket] })],
);

export const metricInterfacesRollup = pgTable(
  'metric_interfaces_rollup',
  {
    tenantId: uuid('tenant_id').notNull(),
    deviceId: uuid('device_id').notNull(),
    interface: text('interface').notNull(),
    resolution: text('resolution', { enum: rollupResolutions }).notNull(),
    bucket: ts('bucket').notNull(),
    samples: integer('samples').notNull(),
    rxBpsAvg: doublePrecision('rx_bps_avg'),
    rxBpsMax: doublePrecision('rx_bps_max'),
    txBpsAvg: doublePrecision('tx_bps_avg'),
    txBpsMax: doublePrecision('tx_bps_max'),
  },
  (t) => [primaryKey({ columns: [t.tenantId, t.deviceId, t.interface, t.resolution, t.bucket] })],
);

export const metricHealthRollup = pgTable(
  'metric_health_rollup',
  {
    tenantId: uuid('tenant_id').notNull(),
    deviceId: uuid('device_id').notNull(),
    resolution: text('resolution', { enum: rollupResolutions }).notNull(),
    bucket: ts('bucket').notNull(),
    samples: integer('samples').notNull(),
    voltageAvg: doublePrecision('voltage_avg'),
    temperatureAvg: doublePrecision('temperature_avg'),
    temperatureMax: doublePrecision('temperature_max'),
    cpuTemperatureAvg: doublePrecision('cpu_temperature_avg'),
    cpuTemperatureMax: doublePrecision('cpu_temperature_max'),
  },
  (t) => [primaryKey({ columns: [t.tenantId, t.deviceId, t.resolution, t.bucket] })],
);

export const metricWirelessRollup = pgTable(
  'metric_wireless_rollup',
  {
    tenantId: uuid('tenant_id').notNull(),
    deviceId: uuid('device_id').notNull(),
    clientMac: text('client_mac').notNull(),
    resolution: text('resolution', { enum: rollupResolutions }).notNull(),
    bucket: ts('bucket').notNull(),
    interface: text('interface').notNull(),
    samples: integer('samples').notNull(),
    signalAvg: real('signal_avg'),
    signalMin: real('signal_min'),
    signalMax: real('signal_max'),
    txRateAvg: real('tx_rate_avg'),
    rxRateAvg: real('rx_rate_avg'),
  },
  (t) => [primaryKey({ columns: [t.tenantId, t.deviceId, t.clientMac, t.resolution, t.bucket] })],
);
// ---------------------------------------------------------------------------------------------------------
// Alerting (0004_alerting.sql)

export const alertMetrics = [
  'cpu_load',
  'memory_used_pct',
  'disk_used_pct',
  'temperature',
  'voltage',
  'interface_rx_bps',
  'interface_tx_bps',
  'wireless_signal',
  'device_offline',
] as const;
export const alertComparisons = ['gt', 'gte', 'lt', 'lte', 'eq', 'ne'] as const;
export const alertSeverities = ['info', 'warning', 'critical'] as const;
export const alertRuleScopes = ['all', 'group', 'tag', 'device'] as const;

export const alertRules = pgTable('alert_rules', {
  id: uuid('id').primaryKey().defaultRandom(),
  tenantId: uuid('tenant_id').notNull(),
  name: text('name').notNull(),
  metric: text('metric', { enum: alertMetrics }).notNull(),
  comparison: text('comparison', { enum: alertComparisons }),
  threshold: doublePrecision('threshold'),
  durationSeconds: integer('duration_seconds').notNull().default(0),
  severity: text('severity', { enum: alertSeverities }).notNull().default('warning'),
  scope: text('scope', { enum: alertRuleScopes }).notNull().default('all'),
  scopeTargetId: uuid('scope_target_id'),
  interfaceName: text('interface_name'),
  fireAfter: integer('fire_after').notNull().default(2),
  clearAfter: integer('clear_after').notNull().default(2),
  enabled: boolean('enabled').notNull().default(true),
  createdAt: createdAt(),
  updatedAt: timestamp('updated_at', { withTimezone: true }).notNull().defaultNow(),
});

export const notificationChannelKinds = ['email', 'webhook', 'slack'] as const;

export const notificationChannels = pgTable('notification_channels', {
  id: uuid('id').primaryKey().defaultRandom(),
  tenantId: uuid('tenant_id').notNull(),
  name: text('name').notNull(),
  kind: text('kind', { enum: notificationChannelKinds }).notNull(),
  config: jsonb('config').$type<Record<string, unknown>>().notNull().default({}),
  secretsEnc: bytea('secrets_enc'),
  enabled: boolean('enabled').notNull().default(true),
  createdAt: createdAt(),
  updatedAt: timestamp('updated_at', { withTimezone: true }).notNull().defaultNow(),
});

export const alertRuleChannels = pgTable(
  'alert_rule_channels',
  {
    tenantId: uuid('tenant_id').notNull(),
    ruleId: uuid('rule_id').notNull(),
    channelId: uuid('channel_id').notNull(),
  },
  (t) => [primaryKey({ columns: [t.ruleId, t.channelId] })],
);

export const alerts = pgTable('alerts', {
  id: uuid('id').primaryKey().defaultRandom(),
  tenantId: uuid('tenant_id').notNull(),
  ruleId: uuid('rule_id'),
  ruleName: text('rule_name').notNull(),
  metric: text('metric').notNull(),
  severity: text('severity', { enum: alertSeverities }).notNull(),
  deviceId: uuid('device_id').notNull(),
  subject: text('subject').notNull().default(''),
  state: text('state', { enum: ['firing', 'resolved'] })
    .notNull()
    .default('firing'),
  value: doublePrecision('value'),
  threshold: doublePrecision('threshold'),
  startedAt: timestamp('started_at', { withTimezone: true }).notNull(),
  endedAt: timestamp('ended_at', { withTimezone: true }),
  suppressed: boolean('suppressed').notNull().default(false),
  acknowledgedBy: uuid('acknowledged_by'),
  acknowledgedAt: timestamp('acknowledged_at', { withTimezone: true }),
  resolution: text('resolution', { enum: ['auto', 'manual'] }),
  resolvedBy: uuid('resolved_by'),
  createdAt: createdAt(),
});

/** The alert engine's hysteresis state per device (TenantHub), kept with the alerts it explains. */
export const alertEngineState = pgTable(
  'alert_engine_state',
  {
    tenantId: uuid('tenant_id').notNull(),
    deviceId: uuid('device_id').notNull(),
    state: jsonb('state').$type<Record<string, unknown>>().notNull(),
    updatedAt: timestamp('updated_at', { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [primaryKey({ columns: [t.tenantId, t.deviceId] })],
);

export const maintenanceWindows = pgTable('maintenance_windows', {
  id: uuid('id').primaryKey().defaultRandom(),
  tenantId: uuid('tenant_id').notNull(),
  name: text('name').notNull(),
  scope: text('scope', { enum: ['fleet', 'group', 'device'] })
    .notNull()
    .default('fleet'),
  scopeTargetId: uuid('scope_target_id'),
  kind: text('kind', { enum: ['once', 'weekly'] }).notNull(),
  startsAt: timestamp('starts_at', { withTimezone: true }),
  endsAt: timestamp('ends_at', { withTimezone: true }),
  weekdays: smallint('weekdays').array(),
  startTime: text('start_time'),
  durationMinutes: integer('duration_minutes'),
  timeZone: text('time_zone'),
  enabled: boolean('enabled').notNull().default(true),
  createdAt: createdAt(),
  updatedAt: timestamp('updated_at', { withTimezone: true }).notNull().defaultNow(),
});

export const notificationDeliveries = pgTable('notification_deliveries', {
  id: uuid('id').primaryKey().defaultRandom(),
  tenantId: uuid('tenant_id').notNull(),
  channelId: uuid('channel_id').notNull(),
  alertId: uuid('alert_id'),
  event: text('event', { enum: ['firing', 'resolved', 'test'] }).notNull(),
  status: text('status', { enum: ['pending', 'sent', 'failed'] })
    .notNull()
    .default('pending'),
  attempts: integer('attempts').notNull().default(0),
  lastError: text('last_error'),
  nextAttemptAt: timestamp('next_attempt_at', { withTimezone: true }),
  payload: jsonb('payload').$type<Record<string, unknown>>().notNull(),
  sentAt: timestamp('sent_at', { withTimezone: true }),
  createdAt: createdAt(),
  updatedAt: timestamp('updated_at', { withTimezone: true }).notNull().defaultNow(),
});

/** Configuration backups (migration 0005): one row per distinct configuration of a device, sealed. */
export const configSnapshotTriggers = ['change', 'nightly', 'manual'] as const;
export const configSnapshots = pgTable('config_snapshots', {
  id: uuid('id').primaryKey().defaultRandom(),
  tenantId: uuid('tenant_id').notNull(),
  deviceId: uuid('device_id').notNull(),
  seq: integer('seq').notNull(),
  takenAt: timestamp('taken_at', { withTimezone: true }).notNull(),
  createdAt: createdAt(),
  trigger: text('trigger', { enum: configSnapshotTriggers }).notNull(),
  contentHash: text('content_hash').notNull(),
  size: integer('size').notNull(),
  sensitive: boolean('sensitive').notNull(),
  contentEnc: bytea('content_enc').notNull(),
  routerosVersion: text('routeros_version'),
  sourceEventId: text('source_event_id'),
});

/** The tenant's key pair collectors seal configuration exports to (migration 0012). */
export const tenantExportKeys = pgTable('tenant_export_keys', {
  tenantId: uuid('tenant_id').primaryKey(),
  publicJwk: jsonb('public_jwk').$type<Record<string, unknown>>().notNull(),
  privateJwkEnc: bytea('private_jwk_enc').notNull(),
  createdAt: createdAt(),
});

/** Configuration operations (migration 0006): changes applied to a device, standard or safe, and their state. */
export const configOperationKinds = ['changes', 'script', 'restore'] as const;
export const configOperationModes = ['standard', 'safe'] as const;
export const configOperationStates = [
  'applying',
  'pending-confirmation',
  'confirmed',
  'reverted',
  'failed',
  'applied',
] as const;
export const configOperations = pgTable('config_operations', {
  id: uuid('id').primaryKey().defaultRandom(),
  tenantId: uuid('tenant_id').notNull(),
  deviceId: uuid('device_id').notNull(),
  kind: text('kind', { enum: configOperationKinds }).notNull(),
  mode: text('mode', { enum: configOperationModes }).notNull(),
  state: text('state', { enum: configOperationStates }).notNull(),
  commands: jsonb('commands').$type<string[]>().notNull().default(sql`'[]'::jsonb`),
  error: text('error'),
  timeoutSeconds: integer('timeout_seconds'),
  confirmDeadline: timestamp('confirm_deadline', { withTimezone: true }),
  snapshotId: uuid('snapshot_id'),
  createdBy: uuid('created_by'),
  createdAt: createdAt(),
  updatedAt: timestamp('updated_at', { withTimezone: true }).notNull().defaultNow(),
});

/** Batch configuration (migration 0007): templates, batches over a selection of devices, per-device items. */
export const configTemplates = pgTable('config_templates', {
  id: uuid('id').primaryKey().defaultRandom(),
  tenantId: uuid('tenant_id').notNull(),
  name: text('name').notNull(),
  description: text('description').notNull().default(''),
  body: text('body').notNull(),
  variables: jsonb('variables').$type<unknown[]>().notNull().default([]),
  createdBy: uuid('created_by'),
  createdAt: createdAt(),
  updatedAt: timestamp('updated_at', { withTimezone: true }).notNull().defaultNow(),
});

export const configBatchKinds = ['changes', 'script', 'template', 'cli'] as const;
export const configBatchStates = ['running', 'completed', 'stopped', 'cancelled'] as const;
export const configBatches = pgTable('config_batches', {
  id: uuid('id').primaryKey().defaultRandom(),
  tenantId: uuid('tenant_id').notNull(),
  kind: text('kind', { enum: configBatchKinds }).notNull(),
  action: jsonb('action').$type<Record<string, unknown>>().notNull(),
  templateId: uuid('template_id'),
  mode: text('mode', { enum: ['standard', 'safe'] }).notNull(),
  timeoutSeconds: integer('timeout_seconds').notNull(),
  concurrency: integer('concurrency').notNull(),
  stopOnFailure: boolean('stop_on_failure').notNull(),
  note: text('note'),
  state: text('state', { enum: configBatchStates }).notNull().default('running'),
  cancelRequestedAt: timestamp('cancel_requested_at', { withTimezone: true }),
  createdBy: uuid('created_by'),
  createdAt: createdAt(),
  finishedAt: timestamp('finished_at', { withTimezone: true }),
});

export const configBatchItemStates = [
  'pending',
  'running',
  'succeeded',
  'failed',
  'skipped',
  'cancelled',
] as const;
export const configBatchItems = pgTable(
  'config_batch_items',
  {
    tenantId: uuid('tenant_id').notNull(),
    batchId: uuid('batch_id').notNull(),
    deviceId: uuid('device_id').notNull(),
    position: integer('position').notNull(),
    deviceName: text('device_name').notNull(),
    state: text('state', { enum: configBatchItemStates }).notNull().default('pending'),
    commands: jsonb('commands').$type<string[]>().notNull().default([]),
    output: text('output'),
    error: text('error'),
    operationId: uuid('operation_id'),
    startedAt: timestamp('started_at', { withTimezone: true }),
    finishedAt: timestamp('finished_at', { withTimezone: true }),
  },
  (t) => [primaryKey({ columns: [t.batchId, t.deviceId] })],
);

export const allTables = {
  tenants,
  users,
  collectors,
  devices,
  device_groups: deviceGroups,
  device_group_members: deviceGroupMembers,
  tags,
  device_tags: deviceTags,
  api_keys: apiKeys,
  audit_log: auditLog,
  srp_handshakes: srpHandshakes,
  refresh_tokens: refreshTokens,
  invitations,
  tenant_keys: tenantKeys,
  kms_events: kmsEvents,
  ingested_events: ingestedEvents,
  metric_resource: metricResource,
  metric_interfaces: metricInterfaces,
  metric_health: metricHealth,
  metric_wireless: metricWireless,
  metric_rollup_pending: metricRollupPending,
  metric_resource_rollup: metricResourceRollup,
  metric_interfaces_rollup: metricInterfacesRollup,
  metric_health_rollup: metricHealthRollup,
  metric_wireless_rollup: metricWirelessRollup,
  alert_rules: alertRules,
  notification_channels: notificationChannels,
  alert_rule_channels: alertRuleChannels,
  alerts,
  maintenance_windows: maintenanceWindows,
  notification_deliveries: notificationDeliveries,
  config_snapshots: configSnapshots,
  tenant_export_keys: tenantExportKeys,
  config_operations: configOperations,
  config_templates: configTemplates,
  config_batches: configBatches,
  config_batch_items: configBatchItems,
};
