// /api/tenants: super admins only, through the audited cross-tenant path (the database records who and why
// before it shows any tenant's row).
import { CreateTenantRequest, NameListQuery, UpdateTenantRequest } from '@tod/contracts';
import { tenants } from '@tod/drizzle/schema';
import { and, asc, eq } from 'drizzle-orm';
import { type Context, Hono } from 'hono';
import { type Tx, withCrossTenant } from '../db';
import type { AppEnv } from '../env';
import { ApiError } from '../errors';
import { requireRole } from '../middleware/auth';
import { type AuditInput, appendAudit, auditContext } from '../services/audit';
import { kmsFor } from '../services/kms-config';
import { pathId, readBody, readQuery } from '../validate';
import { iso } from './dto';
import { nameFilters, pageOf } from './paging';

type Row = typeof tenants.$inferSelect;
const dto = (t: Row) => ({ id: t.id, name: t.name, slug: t.slug, createdAt: iso(t.createdAt)! });

function crossTenant<T>(
  c: Context<AppEnv>,
  reason: string,
  fn: (tx: Tx, audit: (tenantId: string, e: AuditInput) => Promise<void>) => Promise<T>,
): Promise<T> {
  const p = c.var.principal;
  return withCrossTenant(c.var.openDb(), { userId: p.id, reason, requestId: c.var.requestId }, (tx) =>
    fn(tx, (tenantId, e) => appendAudit(auditContext(c, tx, kmsFor(c.env), tenantId, p), e)),
  );
}

export const tenantsRoute = new Hono<AppEnv>();
const SUPER = requireRole('super_admin', { tenant: false, apiKeys: false });

tenantsRoute.get('/', SUPER, async (c) => {
  const q = readQuery(c, NameListQuery);
  const rows = await crossTenant(c, 'tenant.list', (tx) =>
    tx
      .select()
      .from(tenants)
      .where(and(...nameFilters(q, tenants.name, tenants.id)))
      .orderBy(asc(tenants.name), asc(tenants.id))
      .limit(q.limit + 1),
  );
  return c.json(pageOf(rows, q.limit, (t) => [t.name, t.id], dto));
});

tenantsRoute.post('/', SUPER, async (c) => {
  const body = await readBody(c, CreateTenantRequest);
  const row = await crossTenant(c, 'tenant.create', async (tx, audit) => {
    const [t] = await tx.insert(tenants).values(body).returning();
    await audit(t!.id, { action: 'tenant.create', targetType: 'tenant', targetId: t!.id, details: body });
    return t!;
  });
  return c.json(dto(row), 201);
});

tenantsRoute.get('/:id', SUPER, async (c) => {
  const id = pathId(c);
  const row = await crossTenant(
    c,
    'tenant.read',
    async (tx) => (await tx.select().from(tenants).where(eq(tenants.id, id)))[0],
  );
  if (!row) throw new ApiError(404, 'not_found', 'tenant not found');
  return c.json(dto(row));
});

tenantsRoute.patch('/:id', SUPER, async (c) => {
  const id = pathId(c);
  const body = await readBody(c, UpdateTenantRequest);
  const row = await crossTenant(c, 'tenant.update', async (tx, audit) => {
    const [t] = await tx
      .update(tenants)
      .set({ ...body, updatedAt: new Date() })
      .where(eq(tenants.id, id))
      .returning();
    if (t) await audit(id, { action: 'tenant.update', targetType: 'tenant', targetId: id, details: body });
    return t;
  });
  if (!row) throw new ApiError(404, 'not_found', 'tenant not found');
  return c.json(dto(row));
});

tenantsRoute.delete('/:id', SUPER, async (c) => {
  const id = pathId(c);
  const row = await crossTenant(c, 'tenant.delete', async (tx, audit) => {
    const [t] = await tx
      .delete(tenants)
      .where(eq(tenants.id, id))
      .returning({ id: tenants.id, slug: tenants.slug });
    // The trail outlives the tenant; details would need its (now deleted) data key, so none.
    if (t) await audit(id, { action: 'tenant.delete', targetType: 'tenant', targetId: id });
    return t;
  });
  if (!row) throw new ApiError(404, 'not_found', 'tenant not found');
  return c.body(null, 204);
});
