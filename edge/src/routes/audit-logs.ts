// /api/audit-logs: the tenant's trail, newest first, keyset by id; details decrypted for admins; CSV export.
// /api/kms-events: every use of the tenant's data key (the transparency view).
import { AuditListQuery } from '@tod/contracts';
import { auditLog, kmsEvents } from '@tod/drizzle/schema';
import { and, desc, eq, lt, type SQL } from 'drizzle-orm';
import { Hono } from 'hono';
import { z } from 'zod';
import type { AppEnv } from '../env';
import { ApiError } from '../errors';
import { inTenant, requireRole, type TenantScope } from '../middleware/auth';
import { openJson, rewrapTenantKeys } from '../services/envelope';
import { readQuery } from '../validate';
import { type AuditEntryDto, iso } from './dto';

type Row = typeof auditLog.$inferSelect;

async function entryDto(s: TenantScope, r: Row): Promise<AuditEntryDto> {
  let details: Record<string, unknown> | null = null;
  if (r.detailsEnc) {
    try {
      details = (await openJson(s.envelope, 'audit', new Uint8Array(r.detailsEnc))) as Record<
        string,
        unknown
      >;
    } catch {
      details = { error: 'details could not be decrypted' };
    }
  }
  return {
    id: r.id,
    actorType: r.actorType,
    actorId: r.actorId,
    action: r.action,
    targetType: r.targetType,
    targetId: r.targetId,
    outcome: r.outcome,
    ip: r.ip,
    requestId: r.requestId,
    details,
    createdAt: iso(r.createdAt)!,
  };
}

async function listEntries(s: TenantScope, q: z.infer<typeof AuditListQuery>, limit: number) {
  const filters: SQL[] = [eq(auditLog.tenantId, s.tenantId)];
  if (q.action) filters.push(eq(auditLog.action, q.action));
  if (q.outcome) filters.push(eq(auditLog.outcome, q.outcome));
  if (q.cursor) {
    if (!/^\d{1,18}$/.test(q.cursor)) throw new ApiError(400, 'invalid_request', 'invalid cursor');
    filters.push(lt(auditLog.id, Number(q.cursor)));
  }
  const rows = await s.tx
    .select()
    .from(auditLog)
    .where(and(...filters))
    .orderBy(desc(auditLog.id))
    .limit(limit + 1);
  const page = rows.slice(0, limit);
  const items = [];
  for (const r of page) items.push(await entryDto(s, r));
  return { items, nextCursor: rows.length > limit ? String(page[page.length - 1]!.id) : null };
}

export const auditLogsRoute = new Hono<AppEnv>();

auditLogsRoute.get('/', requireRole('admin'), async (c) => {
  const q = readQuery(c, AuditListQuery);
  return c.json(await inTenant(c, (s) => listEntries(s, q, q.limit)));
});

const ExportQuery = AuditListQuery.extend({
  limit: z.coerce.number().int().min(1).max(50_000).default(10_000),
});

function csvCell(v: unknown): string {
  let s = v === null || v === undefined ? '' : typeof v === 'string' ? v : JSON.stringify(v);
  // Cells starting with a formula character are neutralised for spreadsheet apps.
  if (/^[=+\-@\t\r]/.test(s)) s = "'" + s;
  return /[",\r\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

auditLogsRoute.get('/export.csv', requireRole('admin'), async (c) => {
  const q = readQuery(c, ExportQuery);
  const { items } = await inTenant(c, async (s) => {
    const out = await listEntries(s, q, q.limit);
    await s.audit({
      action: 'audit_log.export',
      targetType: 'audit_log',
      details: { rows: out.items.length },
    });
    return out;
  });
  const header = [
    'id',
    'created_at',
    'actor_type',
    'actor_id',
    'action',
    'target_type',
    'target_id',
    'outcome',
    'ip',
    'request_id',
    'details',
  ];
  const lines = [header.join(',')];
  for (const e of items) {
    lines.push(
      [
        e.id,
        e.createdAt,
        e.actorType,
        e.actorId,
        e.action,
        e.targetType,
        e.targetId,
        e.outcome,
        e.ip,
        e.requestId,
        e.details,
      ]
        .map(csvCell)
        .join(','),
    );
  }
  c.header('Content-Type', 'text/csv; charset=utf-8');
  c.header('Content-Disposition', 'attachment; filename="audit-log.csv"');
  return c.body(lines.join('\r\n') + '\r\n');
});

export const kmsEventsRoute = new Hono<AppEnv>();

kmsEventsRoute.get('/', requireRole('admin'), async (c) => {
  const rows = await inTenant(c, ({ tx }) =>
    tx.select().from(kmsEvents).orderBy(desc(kmsEvents.id)).limit(500),
  );
  return c.json({
    items: rows.map((r) => ({
      id: r.id,
      operation: r.operation,
      kms: r.kms,
      keyVersion: r.keyVersion,
      purpose: r.purpose,
      requestId: r.requestId,
      createdAt: iso(r.createdAt)!,
    })),
    nextCursor: null,
  });
});

/** After rotating the KMS key (e.g. `bao write -f transit/keys/tod-tenant-<id>/rotate`): rewrap this tenant's
 * data keys under the new key version. The data keys, and everything sealed with them, stay as they are. */
kmsEventsRoute.post('/rewrap', requireRole('admin', { apiKeys: false }), async (c) => {
  const rewrapped = await inTenant(c, async (s) => {
    const n = await rewrapTenantKeys(s.envelope);
    await s.audit({ action: 'kms.rewrap', targetType: 'tenant', targetId: s.tenantId, details: { keys: n } });
    return n;
  });
  return c.json({ rewrapped });
});
