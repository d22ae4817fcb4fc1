// /api/alert-rules: what the TenantHub's alert engine evaluates. A rule names its scope (all devices, a
// group, a tag or one device) and the notification channels it notifies; ids of another tenant are 404.
import {
  type AlertRule,
  alertRuleProblems,
  CreateAlertRuleRequest,
  NameListQuery,
  UpdateAlertRuleRequest,
} from '@tod/contracts';
import { alertRuleChannels, alertRules, alerts, deviceGroups, devices, tags } from '@tod/drizzle/schema';
import { and, asc, eq, inArray } from 'drizzle-orm';
import { Hono } from 'hono';
import type { Tx } from '../db';
import type { AppEnv } from '../env';
import { ApiError } from '../errors';
import { inTenant, requireRole, type TenantScope } from '../middleware/auth';
import { pathId, readBody, readQuery } from '../validate';
import { iso } from './dto';
import { alertingChanged } from './live';
import { nameFilters, pageOf } from './paging';

type RuleRow = typeof alertRules.$inferSelect;

export function ruleDto(r: RuleRow, channelIds: string[]): AlertRule {
  return {
    id: r.id,
    name: r.name,
    metric: r.metric,
    comparison: r.comparison,
    threshold: r.threshold,
    durationSeconds: r.durationSeconds,
    severity: r.severity,
    scope: r.scope,
    scopeTargetId: r.scopeTargetId,
    interfaceName: r.interfaceName,
    fireAfter: r.fireAfter,
    clearAfter: r.clearAfter,
    enabled: r.enabled,
    channelIds,
    createdAt: iso(r.createdAt)!,
    updatedAt: iso(r.updatedAt)!,
  };
}

const notFound = () => new ApiError(404, 'not_found', 'alert rule not found');

/** A scope target must be a group, tag or device of this tenant (RLS hides the others). */
export async function checkScopeTarget(tx: Tx, scope: string, id: string | null | undefined): Promise<void> {
  if (!id) return;
  const table =
    scope === 'group' ? deviceGroups : scope === 'tag' ? tags : scope === 'device' ? devices : null;
  if (!table) return;
  const [row] = await tx.select({ id: table.id }).from(table).where(eq(table.id, id));
  if (!row) throw new ApiError(404, 'not_found', `the ${scope} of the scope does not exist`);
}

async function channelsOf(tx: Tx, ruleIds: string[]): Promise<Map<string, string[]>> {
  const out = new Map<string, string[]>();
  if (ruleIds.length === 0) return out;
  const rows = await tx
    .select()
    .from(alertRuleChannels)
    .where(inArray(alertRuleChannels.ruleId, ruleIds))
    .orderBy(asc(alertRuleChannels.channelId));
  for (const r of rows) out.set(r.ruleId, [...(out.get(r.ruleId) ?? []), r.channelId]);
  return out;
}

async function replaceChannels(s: TenantScope, ruleId: string, channelIds: string[]): Promise<string[]> {
  const unique = [...new Set(channelIds.map((c) => c.toLowerCase()))].sort();
  await s.tx.delete(alertRuleChannels).where(eq(alertRuleChannels.ruleId, ruleId));
  if (unique.length) {
    // A channel of another tenant fails the (tenant, channel) foreign key: 404.
    await s.tx
      .insert(alertRuleChannels)
      .values(unique.map((channelId) => ({ tenantId: s.tenantId, ruleId, channelId })));
  }
  return unique;
}

export const alertRulesRoute = new Hono<AppEnv>();
alertRulesRoute.use('*', alertingChanged);

alertRulesRoute.get('/', requireRole('viewer'), async (c) => {
  const q = readQuery(c, NameListQuery);
  const page = await inTenant(c, async ({ tx }) => {
    const rows = await tx
      .select()
      .from(alertRules)
      .where(and(...nameFilters(q, alertRules.name, alertRules.id)))
      .orderBy(asc(alertRules.name), asc(alertRules.id))
      .limit(q.limit + 1);
    const channels = await channelsOf(
      tx,
      rows.slice(0, q.limit).map((r) => r.id),
    );
    return pageOf(
      rows,
      q.limit,
      (r) => [r.name, r.id],
      (r) => ruleDto(r, channels.get(r.id) ?? []),
    );
  });
  return c.json(page);
});

alertRulesRoute.post('/', requireRole('operator'), async (c) => {
  const body = await readBody(c, CreateAlertRuleRequest);
  const dto = await inTenant(c, async (s) => {
    await checkScopeTarget(s.tx, body.scope, body.scopeTargetId);
    const { channelIds, ...fields } = body;
    const [row] = await s.tx
      .insert(alertRules)
      .values({
        ...fields,
        tenantId: s.tenantId,
        comparison: fields.comparison ?? null,
        threshold: fields.threshold ?? null,
        scopeTargetId: fields.scopeTargetId ?? null,
        interfaceName: fields.interfaceName ?? null,
      })
      .returning();
    const channels = await replaceChannels(s, row!.id, channelIds);
    await s.audit({
      action: 'alert_rule.create',
      targetType: 'alert_rule',
      targetId: row!.id,
      details: body,
    });
    return ruleDto(row!, channels);
  });
  return c.json(dto, 201);
});

alertRulesRoute.get('/:id', requireRole('viewer'), async (c) => {
  const id = pathId(c);
  const dto = await inTenant(c, async ({ tx }) => {
    const [row] = await tx.select().from(alertRules).where(eq(alertRules.id, id));
    if (!row) return null;
    return ruleDto(row, (await channelsOf(tx, [id])).get(id) ?? []);
  });
  if (!dto) throw notFound();
  return c.json(dto);
});

alertRulesRoute.patch('/:id', requireRole('operator'), async (c) => {
  const id = pathId(c);
  const body = await readBody(c, UpdateAlertRuleRequest);
  const dto = await inTenant(c, async (s) => {
    const [cur] = await s.tx.select().from(alertRules).where(eq(alertRules.id, id)).for('update');
    if (!cur) return null;
    const { channelIds, ...fields } = body;
    const merged = { ...cur, ...fields };
    const problems = alertRuleProblems(merged);
    if (problems.length) throw new ApiError(400, 'invalid_request', 'the rule is not consistent', problems);
    if (fields.scope !== undefined || fields.scopeTargetId !== undefined) {
      await checkScopeTarget(s.tx, merged.scope, merged.scopeTargetId);
    }
    const [row] = await s.tx
      .update(alertRules)
      .set({ ...fields, updatedAt: new Date() })
      .where(eq(alertRules.id, id))
      .returning();
    const channels =
      channelIds !== undefined
        ? await replaceChannels(s, id, channelIds)
        : ((await channelsOf(s.tx, [id])).get(id) ?? []);
    await s.audit({ action: 'alert_rule.update', targetType: 'alert_rule', targetId: id, details: body });
    return ruleDto(row!, channels);
  });
  if (!dto) throw notFound();
  return c.json(dto);
});

alertRulesRoute.delete('/:id', requireRole('operator'), async (c) => {
  const id = pathId(c);
  const row = await inTenant(c, async (s) => {
    // Its open alerts end with it (afterwards they no longer name the rule the engine would resolve).
    await s.tx
      .update(alerts)
      .set({
        state: 'resolved',
        resolution: 'manual',
        resolvedBy: s.principal.userId ?? s.principal.id,
        endedAt: new Date(),
      })
      .where(and(eq(alerts.ruleId, id), eq(alerts.state, 'firing')));
    const [r] = await s.tx.delete(alertRules).where(eq(alertRules.id, id)).returning();
    if (r) {
      await s.audit({
        action: 'alert_rule.delete',
        targetType: 'alert_rule',
        targetId: id,
        details: { name: r.name },
      });
    }
    return r;
  });
  if (!row) throw notFound();
  return c.body(null, 204);
});
