// /api/devices: CRUD with write-only credentials (sealed with the tenant's data key) and a keyset-paginated,
// filterable, sortable list that stays fast for 10,000-device tenants (indexes (tenant, sort key, id)).
import {
  CreateDeviceRequest,
  CsvError,
  DEVICE_IMPORT_COLUMNS,
  DEVICE_IMPORT_MAX_ROWS,
  DEVICE_IMPORT_REQUIRED,
  type Device,
  type DeviceImportResponse,
  DeviceListQuery,
  parseCsv,
  UpdateDeviceRequest,
} from '@tod/contracts';
import { deviceGroupMembers, devices, deviceTags } from '@tod/drizzle/schema';
import { and, asc, desc, eq, type SQL, sql } from 'drizzle-orm';
import { Hono } from 'hono';
import type { AppEnv } from '../env';
import { ApiError } from '../errors';
import { inTenant, requireRole } from '../middleware/auth';
import { mirrorAfterResponse, planDeviceDelete, planDevicePuts } from '../services/device-mirror';
import { sealJson } from '../services/envelope';
import { pathId, readBody, readQuery } from '../validate';
import { decodeCursor, deviceDto, encodeCursor } from './dto';
import { wakeTenantHub } from './live';

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
    return { row: row!, ops: await planDevicePuts(s, [row!]) };
  });
  mirrorAfterResponse(c, device.ops);
  wakeTenantHub(c, c.var.tenantId);
  return c.json(deviceDto(device.row) satisfies Device, 201);
});

type NewDevice = ReturnType<typeof CreateDeviceRequest.parse>;

/** CSV rows → validated devices; every bad row is reported (line and column), nothing is half-imported. */
function devicesFromCsv(text: string): NewDevice[] {
  let rows: ReturnType<typeof parseCsv>;
  try {
    rows = parseCsv(text);
  } catch (err) {
    if (err instanceof CsvError) {
      throw new ApiError(400, 'invalid_request', 'the CSV is malformed', [
        { path: `line ${err.line}`, message: err.message },
      ]);
    }
    throw err;
  }
  const [head, ...body] = rows;
  if (!head) throw new ApiError(400, 'invalid_request', 'the CSV is empty');
  const columns = head.cells.map((c) => c.trim().toLowerCase());
  const known = new Set<string>(DEVICE_IMPORT_COLUMNS);
  const unknown = columns.filter((c) => !known.has(c));
  const missing = DEVICE_IMPORT_REQUIRED.filter((c) => !columns.includes(c));
  if (unknown.length || missing.length || new Set(columns).size !== columns.length) {
    throw new ApiError(400, 'invalid_request', 'the CSV header is not valid', [
      {
        path: 'line 1',
        message: `columns: ${DEVICE_IMPORT_COLUMNS.join(', ')} (name and host required, each once)`,
      },
    ]);
  }
  if (body.length === 0) throw new ApiError(400, 'invalid_request', 'the CSV has no devices');
  if (body.length > DEVICE_IMPORT_MAX_ROWS) {
    throw new ApiError(400, 'invalid_request', `at most ${DEVICE_IMPORT_MAX_ROWS} devices per import`);
  }
  const out: NewDevice[] = [];
  const errors: { path: string; message: string }[] = [];
  for (const row of body) {
    if (row.cells.length !== columns.length) {
      errors.push({ path: `line ${row.line}`, message: `expected ${columns.length} fields` });
      continue;
    }
    const v = Object.fromEntries(columns.map((c, i) => [c, row.cells[i]!.trim()]));
    const candidate: Record<string, unknown> = { name: v.name, host: v.host };
    if (v.port) candidate.port = /^\d+$/.test(v.port) ? Number(v.port) : v.port;
    if (v.tls_mode) candidate.tlsMode = v.tls_mode;
    if (v.collector_id) candidate.collectorId = v.collector_id;
    if (v.notes) candidate.notes = v.notes;
    if (v.username)
      candidate.credentials = {
        username: v.username,
        password: row.cells[columns.indexOf('password')] ?? '',
      };
    const parsed = CreateDeviceRequest.safeParse(candidate);
    if (parsed.success) out.push(parsed.data);
    else {
      for (const issue of parsed.error.issues) {
        errors.push({ path: `line ${row.line}.${issue.path.join('.')}`, message: issue.message });
      }
    }
  }
  if (errors.length)
    throw new ApiError(400, 'invalid_request', 'some rows are not valid', errors.slice(0, 50));
  return out;
}

devicesRoute.post('/import', requireRole('operator'), async (c) => {
  if (!/^text\/csv\b/i.test(c.req.header('content-type') ?? '')) {
    throw new ApiError(415, 'unsupported_media_type', 'send the devices as text/csv');
  }
  const list = devicesFromCsv(await c.req.text());
  const { ids, ops } = await inTenant(c, async (s) => {
    const created: (typeof devices.$inferSelect)[] = [];
    for (let i = 0; i < list.length; i += 500) {
      const chunk = list.slice(i, i + 500);
      const values = [];
      for (const d of chunk) {
        const credentialsEnc = d.credentials
          ? await sealJson(s.envelope, 'device-credentials', d.credentials)
          : null;
        values.push({
          tenantId: s.tenantId,
          name: d.name,
          host: d.host,
          port: d.port,
          tlsMode: d.tlsMode,
          collectorId: d.collectorId ?? null,
          credentialsEnc,
          credentialsKeyVersion: credentialsEnc ? 1 : null,
          notes: d.notes,
        });
      }
      created.push(...(await s.tx.insert(devices).values(values).returning()));
    }
    await s.audit({ action: 'device.import', targetType: 'device', details: { created: created.length } });
    return { ids: created.map((d) => d.id), ops: await planDevicePuts(s, created) };
  });
  mirrorAfterResponse(c, ops);
  wakeTenantHub(c, c.var.tenantId);
  const body: DeviceImportResponse = { created: ids.length, ids };
  return c.json(body, 201);
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
    const [before] = await s.tx
      .select({ collectorId: devices.collectorId })
      .from(devices)
      .where(eq(devices.id, id));
    const [updated] = await s.tx.update(devices).set(patch).where(eq(devices.id, id)).returning();
    if (!before || !updated) return null;
    const changed = Object.keys(body);
    await s.audit({ action: 'device.update', targetType: 'device', targetId: id, details: { changed } });
    // Pruning removes the entries of collectors that no longer poll it (a move, or credentials removed).
    const ops = await planDevicePuts(s, [updated], { prune: true });
    return { updated, ops };
  });
  if (!row) throw new ApiError(404, 'not_found', 'device not found');
  mirrorAfterResponse(c, row.ops);
  return c.json(deviceDto(row.updated));
});

devicesRoute.delete('/:id', requireRole('operator'), async (c) => {
  const id = pathId(c);
  const deleted = await inTenant(c, async (s) => {
    const [row] = await s.tx
      .delete(devices)
      .where(eq(devices.id, id))
      .returning({ id: devices.id, name: devices.name, collectorId: devices.collectorId });
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
  mirrorAfterResponse(c, planDeviceDelete(c.var.tenantId, deleted.collectorId, id));
  return c.body(null, 204);
});
