// drizzle-orm view of the tables created by drizzle/migrations (the SQL is the source of truth; a test
// compares the two so they cannot drift apart).
import { sql } from 'drizzle-orm';
import {
  bigint,
  boolean,
  customType,
  doublePrecision,
  inet,
  integer,
  jsonb,
  pgTable,
  primaryKey,
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
  config_snapshots: configSnapshots,
};
