// /api/config-templates: reusable configuration snippets with typed variables (issue #8), and a per-device
// preview of what a template renders to (the exact script a batch would send). Viewers read; operators write.
import {
  ConfigTemplateListQuery,
  CreateConfigTemplateRequest,
  PreviewTemplateRequest,
  type TemplatePreviewResponse,
  UpdateConfigTemplateRequest,
} from '@tod/contracts';
import { configTemplates } from '@tod/drizzle/schema';
import { and, asc, eq, sql } from 'drizzle-orm';
import { Hono } from 'hono';
import type { AppEnv } from '../env';
import { ApiError } from '../errors';
import { inTenant, requireRole } from '../middleware/auth';
import { getTemplate, renderFor, resolveSelection, templateDto } from '../services/config-batches';
import { pathId, readBody, readQuery } from '../validate';
import { nameFilters, pageOf } from './paging';

export const configTemplatesRoute = new Hono<AppEnv>();

/** A second template with the same name is a 409, not a 500. */
function isUniqueViolation(err: unknown): boolean {
  const e = err as { code?: string; cause?: { code?: string } };
  return e?.code === '23505' || e?.cause?.code === '23505';
}
const nameTaken = () => new ApiError(409, 'conflict', 'a template with this name exists');

configTemplatesRoute.get('/', requireRole('viewer'), async (c) => {
  const q = readQuery(c, ConfigTemplateListQuery);
  const rows = await inTenant(c, ({ tx }) =>
    tx
      .select()
      .from(configTemplates)
      .where(and(...nameFilters(q, configTemplates.name, configTemplates.id)))
      .orderBy(asc(configTemplates.name), asc(configTemplates.id))
      .limit(q.limit + 1),
  );
  return c.json(
    pageOf(
      rows,
      q.limit,
      (r) => [r.name, r.id],
      (r) => templateDto(r),
    ),
  );
});

configTemplatesRoute.post('/', requireRole('operator'), async (c) => {
  const body = await readBody(c, CreateConfigTemplateRequest);
  try {
    const row = await inTenant(c, async (s) => {
      const [t] = await s.tx
        .insert(configTemplates)
        .values({ tenantId: s.tenantId, ...body, createdBy: s.principal.userId })
        .returning();
      await s.audit({
        action: 'config_template.create',
        targetType: 'config_template',
        targetId: t!.id,
        details: { name: body.name, variables: body.variables.map((v) => v.name) },
      });
      return t!;
    });
    return c.json(templateDto(row), 201);
  } catch (err) {
    if (isUniqueViolation(err)) throw nameTaken();
    throw err;
  }
});

configTemplatesRoute.get('/:id', requireRole('viewer'), async (c) => {
  const id = pathId(c);
  return c.json(await inTenant(c, ({ tx }) => getTemplate(tx, id)));
});

configTemplatesRoute.put('/:id', requireRole('operator'), async (c) => {
  const id = pathId(c);
  const body = await readBody(c, UpdateConfigTemplateRequest);
  try {
    const row = await inTenant(c, async (s) => {
      const [t] = await s.tx
        .update(configTemplates)
        .set({ ...body, updatedAt: sql`now()` })
        .where(eq(configTemplates.id, id))
        .returning();
      if (!t) throw new ApiError(404, 'not_found', 'template not found');
      await s.audit({
        action: 'config_template.update',
        targetType: 'config_template',
        targetId: id,
        details: { name: body.name, variables: body.variables.map((v) => v.name) },
      });
      return t;
    });
    return c.json(templateDto(row));
  } catch (err) {
    if (isUniqueViolation(err)) throw nameTaken();
    throw err;
  }
});

configTemplatesRoute.delete('/:id', requireRole('operator'), async (c) => {
  const id = pathId(c);
  await inTenant(c, async (s) => {
    const [t] = await s.tx
      .delete(configTemplates)
      .where(eq(configTemplates.id, id))
      .returning({ name: configTemplates.name });
    if (!t) throw new ApiError(404, 'not_found', 'template not found');
    await s.audit({
      action: 'config_template.delete',
      targetType: 'config_template',
      targetId: id,
      details: { name: t.name },
    });
  });
  return c.body(null, 204);
});

// What the template renders to on each device, or why it does not (missing or invalid values).
configTemplatesRoute.post('/:id/preview', requireRole('viewer'), async (c) => {
  const id = pathId(c);
  const body = await readBody(c, PreviewTemplateRequest);
  const out = await inTenant(c, async ({ tx }) => {
    const template = await getTemplate(tx, id);
    const selected = await resolveSelection(tx, { deviceIds: body.deviceIds });
    return {
      items: selected.map((d) => {
        const r = renderFor(template, body, d);
        return {
          deviceId: d.id,
          deviceName: d.name,
          ok: r.ok,
          script: r.ok ? r.script : null,
          errors: r.ok ? [] : r.errors,
        };
      }),
    } satisfies TemplatePreviewResponse;
  });
  return c.json(out);
});
