// Devices, groups and tags. Credentials are write-only: accepted here, never part of a response.
import { z } from 'zod';
import { PageQuery } from './common';

export const DeviceStatus = z.enum([
  'unknown',
  'online',
  'offline',
  'degraded',
  'unreachable',
  'auth_failed',
  'tls_failed',
]);
export const TlsMode = z.enum(['strict', 'self_signed', 'any', 'plain']);

export const DeviceCredentialsInput = z.strictObject({
  username: z.string().min(1).max(100),
  password: z.string().max(200),
});

const Host = z
  .string()
  .trim()
  .min(1)
  .max(253)
  .regex(/^[A-Za-z0-9.:-]+$/, 'must be a hostname or IP address');

export const CreateDeviceRequest = z.strictObject({
  name: z.string().trim().min(1).max(200),
  host: Host,
  port: z.number().int().min(1).max(65535).default(8728),
  tlsMode: TlsMode.default('any'),
  collectorId: z.uuid().nullable().optional(),
  credentials: DeviceCredentialsInput.optional(),
  latitude: z.number().min(-90).max(90).nullable().optional(),
  longitude: z.number().min(-180).max(180).nullable().optional(),
  notes: z.string().max(10_000).default(''),
});
export const UpdateDeviceRequest = z
  .strictObject({
    name: z.string().trim().min(1).max(200).optional(),
    host: Host.optional(),
    port: z.number().int().min(1).max(65535).optional(),
    tlsMode: TlsMode.optional(),
    collectorId: z.uuid().nullable().optional(),
    credentials: DeviceCredentialsInput.nullable().optional(),
    latitude: z.number().min(-90).max(90).nullable().optional(),
    longitude: z.number().min(-180).max(180).nullable().optional(),
    notes: z.string().max(10_000).optional(),
  })
  .refine((v) => Object.keys(v).length > 0, 'nothing to update');

export const Device = z.object({
  id: z.uuid(),
  name: z.string(),
  host: z.string(),
  port: z.number(),
  tlsMode: TlsMode,
  collectorId: z.uuid().nullable(),
  hasCredentials: z.boolean(),
  model: z.string().nullable(),
  serial: z.string().nullable(),
  routerosVersion: z.string().nullable(),
  status: DeviceStatus,
  lastSeenAt: z.string().nullable(),
  latitude: z.number().nullable(),
  longitude: z.number().nullable(),
  notes: z.string(),
  createdAt: z.string(),
  updatedAt: z.string(),
});
export type Device = z.infer<typeof Device>;

export const DeviceSort = z.enum(['name', 'host', 'status', 'created_at']);
export const DeviceListQuery = z.strictObject({
  ...PageQuery,
  sort: DeviceSort.default('name'),
  order: z.enum(['asc', 'desc']).default('asc'),
  status: DeviceStatus.optional(),
  collectorId: z.uuid().optional(),
  groupId: z.uuid().optional(),
  tagId: z.uuid().optional(),
  /** Prefix of the name or host. */
  q: z.string().max(200).optional(),
});

export const DeviceGroup = z.object({
  id: z.uuid(),
  name: z.string(),
  description: z.string(),
  deviceCount: z.number(),
  createdAt: z.string(),
});
export const CreateDeviceGroupRequest = z.strictObject({
  name: z.string().trim().min(1).max(200),
  description: z.string().max(2000).default(''),
});
export const UpdateDeviceGroupRequest = z
  .strictObject({
    name: z.string().trim().min(1).max(200).optional(),
    description: z.string().max(2000).optional(),
  })
  .refine((v) => Object.keys(v).length > 0, 'nothing to update');

/** Replaces the members of a group or the devices carrying a tag. */
export const SetDevicesRequest = z.strictObject({ deviceIds: z.array(z.uuid()).max(10_000) });

export const Tag = z.object({ id: z.uuid(), name: z.string(), color: z.string(), createdAt: z.string() });
const Color = z.string().regex(/^#[0-9a-fA-F]{6}$/, 'must be #rrggbb');
export const CreateTagRequest = z.strictObject({
  name: z.string().trim().min(1).max(100),
  color: Color.default('#64748b'),
});
export const UpdateTagRequest = z
  .strictObject({ name: z.string().trim().min(1).max(100).optional(), color: Color.optional() })
  .refine((v) => Object.keys(v).length > 0, 'nothing to update');
