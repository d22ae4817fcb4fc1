// /api/alerts: the alerts the TenantHub raised (open and past), newest first, and acknowledging or
// resolving one by hand. Both are audited; a manual resolve records who did it.
import { type Alert, AlertActionRequest, AlertListQuery } from '@tod/contracts';
import { alerts } from '@tod/drizzle/schema';
import { and, desc, eq, type SQL, sql } from 'drizzle-orm';
import { type Context, Hono } from 'hono';
import { alertDto } from '../alerting/alert-dto';
import type { AppEnv, Principal } from '../env';
import { ApiError } from '../errors';
import { inTenant, requireRole } from '../middleware/auth';
import { pathId, readBody, readQuery } from '../validate';
import { decodeCursor, encodeCursor, iso } from './dto';
import { tenantHub } from './live';

const notFound = () => new ApiError(404, 'not_found', 'alert not found');
/** Who acted: the user, or the API key when no user stands behind it. */
const actorId = (p: Principal) => p.userId ?? p.id;

/** Streams a change made by hand to the tenant's SSE clients, after the response; never fails the request. */
function announce(c: Context<AppEnv>, kind: 'acknowledged' | 'resolved', alert: Alert): void {
  const tenantId = c.var.tenantId;
  c.executionCtx.waitUntil(
    tenantHub(c, tenantId)
      .alertChanged(tenantId, kind, alert)
      .catch((err: unknown) =>
        console.error(
          JSON.stringify({
            level: 'error',
            msg: 'alert change not streamed',
            tenantId,
            alertId: alert.id,
            error: err instanceof Error ? err.message : String(err),
          }),
        ),
      ),
  );
}

/** The optional note of an acknowledge or resolve (no body is no note). */
async function actionNote(c: Context<AppEnv>): Promise<Record<string, string> | undefined> {
  const length = c.req.header('content-length');
  if (!c.req.header('content-type') && (!length || length === '0')) return undefined;
  const { note } = await readBody(c, AlertActionRequest);
  return note ? { note } : undefined;
}

export const alertsRoute = new Hono<AppEnv>();

alertsRoute.get('/', requireRole('viewer'), async (c) => {
  const q = readQuery(c, AlertListQuery);
  const where: SQL[] = [];
  if (q.state) where.push(eq(alerts.state, q.state));
  if (q.severity) where.push(eq(alerts.severity, q.severity));
  if (q.deviceId) where.push(eq(alerts.deviceId, q.deviceId));
  if (q.ruleId) where.push(eq(alerts.ruleId, q.ruleId));
  if (q.cursor) {
    const cur = decodeCursor(q.cursor);
    if (!cur || Number.isNaN(Date.parse(cur[0])))
      throw new ApiError(400, 'invalid_request', 'invalid cursor');
    where.push(sql`(${alerts.startedAt}, ${alerts.id}) < (${cur[0]}::timestamptz, ${cur[1]}::uuid)`);
  }
  const rows = await inTenant(c, ({ tx }) =>
    tx
      .select()
      .from(alerts)
      .where(and(...where))
      .orderBy(desc(alerts.startedAt), desc(alerts.id))
      .limit(q.limit + 1),
  );
  const page = rows.slice(0, q.limit);
  const last = page[page.length - 1];
  return c.json({
    items: page.map(alertDto),
    nextCursor: rows.length > q.limit && last ? encodeCursor(iso(last.startedAt)!, last.id) : null,
  });
});

alertsRoute.get('/:id', requireRole('viewer'), async (c) => {
  const id = pathId(c);
  const row = await inTenant(
    c,
    async ({ tx }) => (await tx.select().from(alerts).where(eq(alerts.id, id)))[0],
  );
  if (!row) throw notFound();
  return c.json(alertDto(row));
});

alertsRoute.post('/:id/acknowledge', requireRole('operator'), async (c) => {
  const id = pathId(c);
  const details = await actionNote(c);
  const row = await inTenant(c, async (s) => {
    const [cur] = await s.tx.select().from(alerts).where(eq(alerts.id, id)).for('update');
    if (!cur) return null;
    // Acknowledging twice keeps the first acknowledgement.
    if (cur.acknowledgedAt) return cur;
    const [a] = await s.tx
      .update(alerts)
      .set({ acknowledgedBy: actorId(s.principal), acknowledgedAt: new Date() })
      .where(eq(alerts.id, id))
      .returning();
    await s.audit({ action: 'alert.acknowledge', targetType: 'alert', targetId: id, details });
    return a;
  });
  if (!row) throw notFound();
  const dto = alertDto(row);
  announce(c, 'acknowledged', dto);
  return c.json(dto);
});

alertsRoute.post('/:id/resolve', requireRole('operator'), async (c) => {
  const id = pathId(c);
  const details = await actionNote(c);
  const row = await inTenant(c, async (s) => {
    const [cur] = await s.tx.select().from(alerts).where(eq(alerts.id, id)).for('update');
    if (!cur) return null;
    if (cur.state === 'resolved') throw new ApiError(409, 'conflict', 'the alert is already resolved');
    const [a] = await s.tx
      .update(alerts)
      .set({ state: 'resolved', resolution: 'manual', resolvedBy: actorId(s.principal), endedAt: new Date() })
      .where(eq(alerts.id, id))
      .returning();
    await s.audit({ action: 'alert.resolve', targetType: 'alert', targetId: id, details });
    return a;
  });
  if (!row) throw notFound();
  const dto = alertDto(row);
  announce(c, 'resolved', dto);
  return c.json(dto);
});
