// /api/maintenance-windows: one-off or weekly (in a time zone) windows for the fleet, a group or a device.
// Alerts raised inside one are recorded but notify nobody.
import {
  CreateMaintenanceWindowRequest,
  type MaintenanceWindow,
  NameListQuery,
  OnceWindowFields,
  UpdateMaintenanceWindowRequest,
  WeeklyWindowFields,
} from '@tod/contracts';
import { maintenanceWindows } from '@tod/drizzle/schema';
import { and, asc, eq } from 'drizzle-orm';
import { Hono } from 'hono';
import { windowActive } from '../alerting/maintenance';
import type { AppEnv } from '../env';
import { ApiError } from '../errors';
import { inTenant, requireRole } from '../middleware/auth';
import { parseWith, pathId, readBody, readQuery } from '../validate';
import { checkScopeTarget } from './alert-rules';
import { iso } from './dto';
import { alertingChanged } from './live';
import { nameFilters, pageOf } from './paging';

type WindowRow = typeof maintenanceWindows.$inferSelect;

export function windowDto(w: WindowRow, now: Date): MaintenanceWindow {
  return {
    id: w.id,
    name: w.name,
    scope: w.scope,
    scopeTargetId: w.scopeTargetId,
    kind: w.kind,
    startsAt: iso(w.startsAt),
    endsAt: iso(w.endsAt),
    weekdays: w.weekdays,
    startTime: w.startTime,
    durationMinutes: w.durationMinutes,
    timeZone: w.timeZone,
    enabled: w.enabled,
    activeNow: windowActive(w, now),
    createdAt: iso(w.createdAt)!,
    updatedAt: iso(w.updatedAt)!,
  };
}

const notFound = () => new ApiError(404, 'not_found', 'maintenance window not found');

/** Row values for a window of either kind (the other kind's columns cleared). */
function columnsOf(w: CreateMaintenanceWindowRequest) {
  const common = {
    name: w.name,
    scope: w.scope,
    scopeTargetId: w.scopeTargetId ?? null,
    enabled: w.enabled,
    kind: w.kind,
  };
  return w.kind === 'once'
    ? {
        ...common,
        startsAt: new Date(w.startsAt),
        endsAt: new Date(w.endsAt),
        weekdays: null,
        startTime: null,
        durationMinutes: null,
        timeZone: null,
      }
    : {
        ...common,
        startsAt: null,
        endsAt: null,
        weekdays: w.weekdays,
        startTime: w.startTime,
        durationMinutes: w.durationMinutes,
        timeZone: w.timeZone,
      };
}

export const maintenanceWindowsRoute = new Hono<AppEnv>();
maintenanceWindowsRoute.use('*', alertingChanged);

maintenanceWindowsRoute.get('/', requireRole('viewer'), async (c) => {
  const q = readQuery(c, NameListQuery);
  const rows = await inTenant(c, ({ tx }) =>
    tx
      .select()
      .from(maintenanceWindows)
      .where(and(...nameFilters(q, maintenanceWindows.name, maintenanceWindows.id)))
      .orderBy(asc(maintenanceWindows.name), asc(maintenanceWindows.id))
      .limit(q.limit + 1),
  );
  const now = new Date();
  return c.json(
    pageOf(
      rows,
      q.limit,
      (w) => [w.name, w.id],
      (w) => windowDto(w, now),
    ),
  );
});

maintenanceWindowsRoute.post('/', requireRole('operator'), async (c) => {
  const body = await readBody(c, CreateMaintenanceWindowRequest);
  const row = await inTenant(c, async (s) => {
    await checkScopeTarget(s.tx, body.scope, body.scopeTargetId);
    const [w] = await s.tx
      .insert(maintenanceWindows)
      .values({ tenantId: s.tenantId, ...columnsOf(body) })
      .returning();
    await s.audit({
      action: 'maintenance_window.create',
      targetType: 'maintenance_window',
      targetId: w!.id,
      details: body,
    });
    return w!;
  });
  return c.json(windowDto(row, new Date()), 201);
});

maintenanceWindowsRoute.get('/:id', requireRole('viewer'), async (c) => {
  const id = pathId(c);
  const row = await inTenant(
    c,
    async ({ tx }) => (await tx.select().from(maintenanceWindows).where(eq(maintenanceWindows.id, id)))[0],
  );
  if (!row) throw notFound();
  return c.json(windowDto(row, new Date()));
});

maintenanceWindowsRoute.patch('/:id', requireRole('operator'), async (c) => {
  const id = pathId(c);
  const body = await readBody(c, UpdateMaintenanceWindowRequest);
  const row = await inTenant(c, async (s) => {
    const [cur] = await s.tx
      .select()
      .from(maintenanceWindows)
      .where(eq(maintenanceWindows.id, id))
      .for('update');
    if (!cur) return null;
    // Merge into the stored window and validate the whole as its kind.
    const merged = {
      name: body.name ?? cur.name,
      scope: body.scope ?? cur.scope,
      scopeTargetId: body.scopeTargetId !== undefined ? body.scopeTargetId : cur.scopeTargetId,
      enabled: body.enabled ?? cur.enabled,
      kind: cur.kind,
      ...(cur.kind === 'once'
        ? {
            startsAt: body.startsAt ?? iso(cur.startsAt),
            endsAt: body.endsAt ?? iso(cur.endsAt),
          }
        : {
            weekdays: body.weekdays ?? cur.weekdays,
            startTime: body.startTime ?? cur.startTime,
            durationMinutes: body.durationMinutes ?? cur.durationMinutes,
            timeZone: body.timeZone ?? cur.timeZone,
          }),
    };
    const extra = Object.keys(body).filter(
      (k) => !(k in (cur.kind === 'once' ? OnceWindowFields.shape : WeeklyWindowFields.shape)),
    );
    if (extra.length) {
      throw new ApiError(400, 'invalid_request', `a ${cur.kind} window has no ${extra.join(', ')}`);
    }
    const valid = parseWith(CreateMaintenanceWindowRequest, merged);
    await checkScopeTarget(s.tx, valid.scope, valid.scopeTargetId);
    const [w] = await s.tx
      .update(maintenanceWindows)
      .set({ ...columnsOf(valid), updatedAt: new Date() })
      .where(eq(maintenanceWindows.id, id))
      .returning();
    await s.audit({
      action: 'maintenance_window.update',
      targetType: 'maintenance_window',
      targetId: id,
      details: body,
    });
    return w;
  });
  if (!row) throw notFound();
  return c.json(windowDto(row, new Date()));
});

maintenanceWindowsRoute.delete('/:id', requireRole('operator'), async (c) => {
  const id = pathId(c);
  const row = await inTenant(c, async (s) => {
    const [w] = await s.tx.delete(maintenanceWindows).where(eq(maintenanceWindows.id, id)).returning();
    if (w) {
      await s.audit({
        action: 'maintenance_window.delete',
        targetType: 'maintenance_window',
        targetId: id,
        details: { name: w.name },
      });
    }
    return w;
  });
  if (!row) throw notFound();
  return c.body(null, 204);
});
