// /api/devices: CRUD with write-only credentials (sealed with the tenant's data key) and a keyset-paginated,
// filterable, sortable list that stays fast for 10,000-device tenants (indexes (tenant, sort key, id)).
import { CreateDeviceRequest, type Device, DeviceListQuery, UpdateDeviceRequest } from '@tod/contracts';
import { deviceGroupMembers, devices, deviceTags } from '@tod/drizzle/schema';
import { and, asc, desc, eq, type SQL, sql } from 'drizzle-orm';
import { Hono } from 'hono';
import type { AppEnv } from '../env';
import { ApiError } from '../errors';
import { inTenant, requireRole } from '../middleware/auth';
import { sealJson } from '../services/envelope';
import { pathId, readBody, readQuery } from '../validate';
import { decodeCursor, deviceDto, encodeCursor } from './dto';

export const devicesRoute = new Hono<AppEnv>();

const SORT_COLUMNS = {
  name: devices.name,
  host: devices.host,
  status: devices.status,
  created_at: devices.createdAt,
} as const;

function escapeLike(s: string): string {
  return s.replace(/[\\%_]/g, (ch) => '\\' + ch);
}

devicesRoute.get('/', requireRole('viewer'), async (c) => {
  const q = readQuery(c, DeviceListQuery);
  const col = SORT_COLUMNS[q.sort];
  const asText = q.sort === 'created_at' ? sql<string>`${col}::text` : sql<string>`${col}::text`;
  const filters: SQL[] = [];
  if (q.status) filters.push(eq(devices.status, q.status));
  if (q.collectorId) filters.push(eq(devices.collectorId, q.collectorId));
  if (q.q) {
    const prefix = escapeLike(q.q) + '%';
    filters.push(sql`(${devices.name} ILIKE ${prefix} OR ${devices.host} LIKE ${prefix})`);
  }
  if (q.groupId) {
    filters.push(
      sql`EXISTS (SELECT 1 FROM ${deviceGroupMembers} m WHERE m.device_id = ${devices.id} AND m.group_id = ${q.groupId})`,
    );
  }
  if (q.tagId) {
    filters.push(
      sql`EXISTS (SELECT 1 FROM ${deviceTags} t WHERE t.device_id = ${devices.id} AND t.tag_id = ${q.tagId})`,
    );
  }
  if (q.cursor) {
    const cur = decodeCursor(q.cursor);
    if (!cur) throw new ApiError(400, 'invalid_request', 'invalid cursor');
    const [value, id] = cur;
    const typed = q.sort === 'created_at' ? sql`${value}::timestamptz` : sql`${value}`;
    filters.push(
      q.order === 'asc'
        ? sql`(${col}, ${devices.id}) > (${typed}, ${id}::uuid)`
        : sql`(${col}, ${devices.id}) < (${typed}, ${id}::uuid)`,
    );
  }
  const dir = q.order === 'asc' ? asc : desc;
  const rows = await inTenant(c, ({ tx, tenantId }) =>
    tx
      .select({ device: devices, sortKey: asText })
      .from(devices)
      .where(and(eq(devices.tenantId, tenantId), ...filters))
      .orderBy(dir(col), dir(devices.id))
      .limit(q.limit + 1),
  );
  const page = rows.slice(0, q.limit);
  const last = page[page.length - 1];
  return c.json({
    items: page.map((r) => deviceDto(r.device)),
    nextCursor: rows.length > q.limit && last ? encodeCursor(last.sortKey, last.device.id) : null,
  });
});

devicesRoute.post('/', requireRole('operator'), async (c) => {
  const body = await readBody(c, CreateDeviceRequest);
  const device = await inTenant(c, async (s) => {
    const credentialsEnc = body.credentials
      ? await sealJson(s.envelope, 'device-credentials', body.credentials)
      : null;
    const [row] = await s.tx
      .insert(devices)
      .values({
        tenantId: s.tenantId,
        name: body.name,
        host: body.host,
        port: body.port,
        tlsMode: body.tlsMode,
        collectorId: body.collectorId ?? null,
        credentialsEnc,
        credentialsKeyVersion: credentialsEnc ? 1 : null,
        latitude: body.latitude ?? null,
        longitude: body.longitude ?? null,
        notes: body.notes,
      })
      .returning();
    await s.audit({
      action: 'device.create',
      targetType: 'device',
      targetId: row!.id,
      details: { name: body.name, host: body.host, credentials: body.credentials ? 'set' : 'none' },
    });
    return row!;
  });
  return c.json(deviceDto(device) satisfies Device, 201);
});

devicesRoute.get('/:id', requireRole('viewer'), async (c) => {
  const id = pathId(c);
  const row = await inTenant(
    c,
    async ({ tx }) => (await tx.select().from(devices).where(eq(devices.id, id)))[0],
  );
  if (!row) throw new ApiError(404, 'not_found', 'device not found');
  return c.json(deviceDto(row));
});

devicesRoute.patch('/:id', requireRole('operator'), async (c) => {
  const id = pathId(c);
  const body = await readBody(c, UpdateDeviceRequest);
  const row = await inTenant(c, async (s) => {
    const { credentials, ...rest } = body;
    const patch: Partial<typeof devices.$inferInsert> = { ...rest, updatedAt: new Date() };
    if (credentials !== undefined) {
      patch.credentialsEnc = credentials
        ? await sealJson(s.envelope, 'device-credentials', credentials)
        : null;
      patch.credentialsKeyVersion = credentials ? 1 : null;
    }
    const [updated] = await s.tx.update(devices).set(patch).where(eq(devices.id, id)).returning();
    if (!updated) return null;
    const changed = Object.keys(body).map((k) => (k === 'credentials' ? 'credentials' : k));
    await s.audit({ action: 'device.update', targetType: 'device', targetId: id, details: { changed } });
    return updated;
  });
  if (!row) throw new ApiError(404, 'not_found', 'device not found');
  return c.json(deviceDto(row));
});

devicesRoute.delete('/:id', requireRole('operator'), async (c) => {
  const id = pathId(c);
  const deleted = await inTenant(c, async (s) => {
    const [row] = await s.tx
      .delete(devices)
      .where(eq(devices.id, id))
      .returning({ id: devices.id, name: devices.name });
    if (row)
      await s.audit({
        action: 'device.delete',
        targetType: 'device',
        targetId: id,
        details: { name: row.name },
      });
    return row;
  });
  if (!deleted) throw new ApiError(404, 'not_found', 'device not found');
  return c.body(null, 204);
});
