// /api/device-groups and /api/tags: named sets of devices. Membership is replaced as a whole with
// PUT /:id/devices; a device id of another tenant fails the (tenant, device) foreign key and is a 404.
import {
  CreateDeviceGroupRequest,
  CreateTagRequest,
  NameListQuery,
  SetDevicesRequest,
  UpdateDeviceGroupRequest,
  UpdateTagRequest,
} from '@tod/contracts';
import { deviceGroupMembers, deviceGroups, deviceTags, tags } from '@tod/drizzle/schema';
import { and, asc, eq, sql } from 'drizzle-orm';
import { Hono } from 'hono';
import type { AppEnv } from '../env';
import { ApiError } from '../errors';
import { inTenant, requireRole, type TenantScope } from '../middleware/auth';
import { pathId, readBody, readQuery } from '../validate';
import { iso } from './dto';
import { nameFilters, pageOf } from './paging';

type GroupRow = typeof deviceGroups.$inferSelect;
const groupDto = (g: GroupRow, deviceCount: number) => ({
  id: g.id,
  name: g.name,
  description: g.description,
  deviceCount,
  createdAt: iso(g.createdAt)!,
});
type TagRow = typeof tags.$inferSelect;
const tagDto = (t: TagRow) => ({ id: t.id, name: t.name, color: t.color, createdAt: iso(t.createdAt)! });

const notFound = (what: string) => new ApiError(404, 'not_found', `${what} not found`);

async function replaceMembers(
  s: TenantScope,
  kind: 'group' | 'tag',
  id: string,
  deviceIds: string[],
): Promise<void> {
  const unique = [...new Set(deviceIds.map((d) => d.toLowerCase()))];
  if (kind === 'group') {
    await s.tx.delete(deviceGroupMembers).where(eq(deviceGroupMembers.groupId, id));
    if (unique.length) {
      await s.tx
        .insert(deviceGroupMembers)
        .values(unique.map((deviceId) => ({ tenantId: s.tenantId, groupId: id, deviceId })));
    }
  } else {
    await s.tx.delete(deviceTags).where(eq(deviceTags.tagId, id));
    if (unique.length) {
      await s.tx
        .insert(deviceTags)
        .values(unique.map((deviceId) => ({ tenantId: s.tenantId, tagId: id, deviceId })));
    }
  }
}

export const deviceGroupsRoute = new Hono<AppEnv>();

deviceGroupsRoute.get('/', requireRole('viewer'), async (c) => {
  const q = readQuery(c, NameListQuery);
  const rows = await inTenant(c, ({ tx }) =>
    tx
      .select({
        g: deviceGroups,
        n: sql<number>`(SELECT count(*)::int FROM ${deviceGroupMembers} m WHERE m.group_id = ${deviceGroups.id})`,
      })
      .from(deviceGroups)
      .where(and(...nameFilters(q, deviceGroups.name, deviceGroups.id)))
      .orderBy(asc(deviceGroups.name), asc(deviceGroups.id))
      .limit(q.limit + 1),
  );
  return c.json(
    pageOf(
      rows,
      q.limit,
      (r) => [r.g.name, r.g.id],
      (r) => groupDto(r.g, r.n),
    ),
  );
});

deviceGroupsRoute.post('/', requireRole('operator'), async (c) => {
  const body = await readBody(c, CreateDeviceGroupRequest);
  const row = await inTenant(c, async (s) => {
    const [g] = await s.tx
      .insert(deviceGroups)
      .values({ tenantId: s.tenantId, ...body })
      .returning();
    await s.audit({
      action: 'device_group.create',
      targetType: 'device_group',
      targetId: g!.id,
      details: body,
    });
    return g!;
  });
  return c.json(groupDto(row, 0), 201);
});

deviceGroupsRoute.get('/:id', requireRole('viewer'), async (c) => {
  const id = pathId(c);
  const row = await inTenant(c, async ({ tx }) => {
    const [g] = await tx.select().from(deviceGroups).where(eq(deviceGroups.id, id));
    if (!g) return null;
    const members = await tx
      .select({ id: deviceGroupMembers.deviceId })
      .from(deviceGroupMembers)
      .where(eq(deviceGroupMembers.groupId, id));
    return { g, members: members.map((m) => m.id) };
  });
  if (!row) throw notFound('device group');
  return c.json({ ...groupDto(row.g, row.members.length), deviceIds: row.members });
});

deviceGroupsRoute.patch('/:id', requireRole('operator'), async (c) => {
  const id = pathId(c);
  const body = await readBody(c, UpdateDeviceGroupRequest);
  const row = await inTenant(c, async (s) => {
    const [g] = await s.tx.update(deviceGroups).set(body).where(eq(deviceGroups.id, id)).returning();
    if (g)
      await s.audit({
        action: 'device_group.update',
        targetType: 'device_group',
        targetId: id,
        details: body,
      });
    return g;
  });
  if (!row) throw notFound('device group');
  return c.json(groupDto(row, 0));
});

deviceGroupsRoute.put('/:id/devices', requireRole('operator'), async (c) => {
  const id = pathId(c);
  const body = await readBody(c, SetDevicesRequest);
  const found = await inTenant(c, async (s) => {
    const [g] = await s.tx.select({ id: deviceGroups.id }).from(deviceGroups).where(eq(deviceGroups.id, id));
    if (!g) return false;
    await replaceMembers(s, 'group', id, body.deviceIds);
    await s.audit({
      action: 'device_group.set_devices',
      targetType: 'device_group',
      targetId: id,
      details: { count: body.deviceIds.length },
    });
    return true;
  });
  if (!found) throw notFound('device group');
  return c.body(null, 204);
});

deviceGroupsRoute.delete('/:id', requireRole('operator'), async (c) => {
  const id = pathId(c);
  const row = await inTenant(c, async (s) => {
    const [g] = await s.tx.delete(deviceGroups).where(eq(deviceGroups.id, id)).returning();
    if (g)
      await s.audit({
        action: 'device_group.delete',
        targetType: 'device_group',
        targetId: id,
        details: { name: g.name },
      });
    return g;
  });
  if (!row) throw notFound('device group');
  return c.body(null, 204);
});

export const tagsRoute = new Hono<AppEnv>();

tagsRoute.get('/', requireRole('viewer'), async (c) => {
  const q = readQuery(c, NameListQuery);
  const rows = await inTenant(c, ({ tx }) =>
    tx
      .select()
      .from(tags)
      .where(and(...nameFilters(q, tags.name, tags.id)))
      .orderBy(asc(tags.name), asc(tags.id))
      .limit(q.limit + 1),
  );
  return c.json(pageOf(rows, q.limit, (t) => [t.name, t.id], tagDto));
});

tagsRoute.post('/', requireRole('operator'), async (c) => {
  const body = await readBody(c, CreateTagRequest);
  const row = await inTenant(c, async (s) => {
    const [t] = await s.tx
      .insert(tags)
      .values({ tenantId: s.tenantId, ...body })
      .returning();
    await s.audit({ action: 'tag.create', targetType: 'tag', targetId: t!.id, details: body });
    return t!;
  });
  return c.json(tagDto(row), 201);
});

tagsRoute.get('/:id', requireRole('viewer'), async (c) => {
  const id = pathId(c);
  const row = await inTenant(c, async ({ tx }) => (await tx.select().from(tags).where(eq(tags.id, id)))[0]);
  if (!row) throw notFound('tag');
  return c.json(tagDto(row));
});

tagsRoute.patch('/:id', requireRole('operator'), async (c) => {
  const id = pathId(c);
  const body = await readBody(c, UpdateTagRequest);
  const row = await inTenant(c, async (s) => {
    const [t] = await s.tx.update(tags).set(body).where(eq(tags.id, id)).returning();
    if (t) await s.audit({ action: 'tag.update', targetType: 'tag', targetId: id, details: body });
    return t;
  });
  if (!row) throw notFound('tag');
  return c.json(tagDto(row));
});

tagsRoute.put('/:id/devices', requireRole('operator'), async (c) => {
  const id = pathId(c);
  const body = await readBody(c, SetDevicesRequest);
  const found = await inTenant(c, async (s) => {
    const [t] = await s.tx.select({ id: tags.id }).from(tags).where(eq(tags.id, id));
    if (!t) return false;
    await replaceMembers(s, 'tag', id, body.deviceIds);
    await s.audit({
      action: 'tag.set_devices',
      targetType: 'tag',
      targetId: id,
      details: { count: body.deviceIds.length },
    });
    return true;
  });
  if (!found) throw notFound('tag');
  return c.body(null, 204);
});

tagsRoute.delete('/:id', requireRole('operator'), async (c) => {
  const id = pathId(c);
  const row = await inTenant(c, async (s) => {
    const [t] = await s.tx.delete(tags).where(eq(tags.id, id)).returning();
    if (t)
      await s.audit({ action: 'tag.delete', targetType: 'tag', targetId: id, details: { name: t.name } });
    return t;
  });
  if (!row) throw notFound('tag');
  return c.body(null, 204);
});
