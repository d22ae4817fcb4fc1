// Row → response mappings: the one place that decides which columns leave the API (never secrets).

import type { AuditEntry, Device } from '@tod/contracts';
import type { schema } from '@tod/drizzle';
import type { z } from 'zod';

type DeviceRow = typeof schema.devices.$inferSelect;

export function iso(v: Date | string | null | undefined): string | null {
  if (v === null || v === undefined) return null;
  return (v instanceof Date ? v : new Date(v)).toISOString();
}

export function deviceDto(d: DeviceRow): Device {
  return {
    id: d.id,
    name: d.name,
    host: d.host,
    port: d.port,
    tlsMode: d.tlsMode,
    collectorId: d.collectorId,
    hasCredentials: d.credentialsEnc !== null,
    model: d.model,
    serial: d.serial,
    routerosVersion: d.routerosVersion,
    status: d.status,
    lastSeenAt: iso(d.lastSeenAt),
    latitude: d.latitude,
    longitude: d.longitude,
    notes: d.notes,
    createdAt: iso(d.createdAt)!,
    updatedAt: iso(d.updatedAt)!,
  };
}

export type AuditEntryDto = z.infer<typeof AuditEntry>;

/** Keyset cursors: opaque base64url of [sortValue, id]. */
export function encodeCursor(value: string, id: string): string {
  return btoa(JSON.stringify([value, id]))
    .replace(/\+/g, '-')
    .replace(/\//g, '_')
    .replace(/=+$/, '');
}

export function decodeCursor(cursor: string): [string, string] | null {
  try {
    const json = atob(cursor.replace(/-/g, '+').replace(/_/g, '/'));
    const v: unknown = JSON.parse(json);
    if (
      Array.isArray(v) &&
      v.length === 2 &&
      typeof v[0] === 'string' &&
      typeof v[1] === 'string' &&
      /^[0-9a-f-]{36}$/i.test(v[1]) &&
      v[0].length <= 300
    ) {
      return [v[0], v[1]];
    }
  } catch {
    // fall through: a malformed cursor is a bad request
  }
  return null;
}
