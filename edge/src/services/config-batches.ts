// Batches and templates on the database side: resolving a selection to the tenant's devices, planning what
// each device gets (rendered template, CLI form of the changes, the script), and the rows → DTO mappings.
// Runs inside a tenant transaction (RLS), from the routes and from the BatchRunner Durable Object.
import {
  type BatchAction,
  type BatchCounts,
  type BatchItemState,
  type BatchSelection,
  type ConfigBatch,
  type ConfigBatchItem,
  type ConfigBatchSummary,
  type ConfigTemplate,
  changesToCommands,
  type DeviceFacts,
  groupOutputs,
  renderTemplate,
  type TemplateValues,
  type TemplateVariable,
} from '@tod/contracts';
import {
  collectors,
  configBatches,
  configBatchItems,
  configTemplates,
  deviceGroupMembers,
  deviceGroups,
  devices,
  deviceTags,
  tags,
} from '@tod/drizzle/schema';
import { and, asc, eq, inArray, type SQL, sql } from 'drizzle-orm';
import type { Tx } from '../db';
import { ApiError } from '../errors';
import { iso } from '../routes/dto';

export interface SelectedDevice {
  id: string;
  name: string;
  facts: DeviceFacts;
  groupIds: string[];
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
export const MAX_BATCH_DEVICES = 5000;

function escapeLike(s: string): string {
  return s.replace(/[\\%_]/g, (ch) => `\\${ch}`);
}

/** `status:online model:RB5009 collector:<id> core-` → SQL conditions on devices (all must hold). */
function filterConditions(filter: string): SQL[] {
  const out: SQL[] = [];
  for (const term of filter.split(/\s+/).filter(Boolean)) {
    const m = term.match(/^(status|model|collector):(.+)$/);
    if (!m) {
      const prefix = `${escapeLike(term)}%`;
      out.push(sql`(${devices.name} ILIKE ${prefix} OR ${devices.host} ILIKE ${prefix})`);
    } else if (m[1] === 'status') out.push(sql`${devices.status} = ${m[2]}`);
    else if (m[1] === 'model') out.push(sql`${devices.model} ILIKE ${escapeLike(m[2]!)}`);
    else {
      if (!UUID.test(m[2]!)) throw new ApiError(400, 'invalid_request', 'collector: needs a collector id');
      out.push(eq(devices.collectorId, m[2]!.toLowerCase()));
    }
  }
  return out;
}

/** The tenant's devices the selection names, ordered by name. Unknown group, tag or device ids are a 404
 * (an id of another tenant is unknown here: RLS hides it); an empty result is a 400. */
export async function resolveSelection(tx: Tx, sel: BatchSelection): Promise<SelectedDevice[]> {
  const where: SQL[] = [];
  if (sel.deviceIds) {
    const ids = [...new Set(sel.deviceIds.map((d) => d.toLowerCase()))];
    const found = await tx.select({ id: devices.id }).from(devices).where(inArray(devices.id, ids));
    if (found.length !== ids.length)
      throw new ApiError(404, 'not_found', `${ids.length - found.length} of the devices were not found`);
    where.push(inArray(devices.id, ids));
  }
  if (sel.groupId) {
    const [g] = await tx
      .select({ id: deviceGroups.id })
      .from(deviceGroups)
      .where(eq(deviceGroups.id, sel.groupId));
    if (!g) throw new ApiError(404, 'not_found', 'device group not found');
    where.push(
      sql`EXISTS (SELECT 1 FROM ${deviceGroupMembers} m WHERE m.device_id = ${devices.id} AND m.group_id = ${g.id})`,
    );
  }
  if (sel.tag) {
    const byId = UUID.test(sel.tag);
    const [t] = await tx
      .select({ id: tags.id })
      .from(tags)
      .where(byId ? eq(tags.id, sel.tag.toLowerCase()) : eq(tags.name, sel.tag));
    if (!t) throw new ApiError(404, 'not_found', 'tag not found');
    where.push(
      sql`EXISTS (SELECT 1 FROM ${deviceTags} t WHERE t.device_id = ${devices.id} AND t.tag_id = ${t.id})`,
    );
  }
  if (sel.filter) where.push(...filterConditions(sel.filter));
  const rows = await tx
    .select({
      id: devices.id,
      name: devices.name,
      host: devices.host,
      model: devices.model,
      serial: devices.serial,
      boardName: devices.boardName,
      routerosVersion: devices.routerosVersion,
      site: collectors.site,
      // JSON, not an array: the edge's driver does not fetch array types.
      groupIds: sql<
        string[]
      >`COALESCE((SELECT jsonb_agg(m.group_id::text ORDER BY m.group_id) FROM ${deviceGroupMembers} m WHERE m.device_id = ${devices.id}), '[]'::jsonb)`,
    })
    .from(devices)
    .leftJoin(collectors, eq(collectors.id, devices.collectorId))
    .where(and(...where))
    .orderBy(asc(devices.name), asc(devices.id))
    .limit(MAX_BATCH_DEVICES + 1);
  if (rows.length === 0) throw new ApiError(400, 'empty_selection', 'the selection matches no devices');
  if (rows.length > MAX_BATCH_DEVICES)
    throw new ApiError(400, 'selection_too_large', `a batch runs on at most ${MAX_BATCH_DEVICES} devices`);
  return rows.map((r) => ({
    id: r.id,
    name: r.name,
    groupIds: r.groupIds,
    facts: {
      identity: r.name,
      managementIp: r.host,
      model: r.model,
      serial: r.serial,
      boardName: r.boardName,
      routerosVersion: r.routerosVersion,
      site: r.site ?? null,
    },
  }));
}

// ---- templates ----

type TemplateRow = typeof configTemplates.$inferSelect;

export function templateDto(t: TemplateRow): ConfigTemplate {
  return {
    id: t.id,
    name: t.name,
    description: t.description,
    body: t.body,
    variables: t.variables as TemplateVariable[],
    createdBy: t.createdBy,
    createdAt: iso(t.createdAt)!,
    updatedAt: iso(t.updatedAt)!,
  };
}

export async function getTemplate(tx: Tx, id: string): Promise<ConfigTemplate> {
  const [t] = await tx.select().from(configTemplates).where(eq(configTemplates.id, id));
  if (!t) throw new ApiError(404, 'not_found', 'template not found');
  return templateDto(t);
}

export interface ValueSet {
  variables?: TemplateValues;
  groupVariables?: Record<string, TemplateValues> | undefined;
  deviceVariables?: Record<string, TemplateValues> | undefined;
}

export function renderFor(template: ConfigTemplate, values: ValueSet, device: SelectedDevice) {
  const groupValues = device.groupIds
    .map((g) => values.groupVariables?.[g])
    .filter((v): v is TemplateValues => v !== undefined);
  return renderTemplate(template.body, template.variables, {
    values: values.variables ?? {},
    groupValues,
    deviceValues: values.deviceVariables?.[device.id] ?? {},
    facts: device.facts,
  });
}

// ---- planning ----

export interface PlannedItem {
  device: SelectedDevice;
  /** Lines sent (config.apply) or the CLI script (cli.run); empty when planning failed. */
  commands: string[];
  /** Why this device gets nothing (a template that does not render for it). */
  error: string | null;
}

/** Script lines as config.apply takes them (blank lines dropped; the collector joins them again). */
export function scriptLines(script: string): string[] {
  return script
    .replace(/\r\n?/g, '\n')
    .split('\n')
    .filter((l) => l.trim() !== '');
}

export function planItems(
  action: BatchAction,
  template: ConfigTemplate | null,
  selected: SelectedDevice[],
): PlannedItem[] {
  switch (action.kind) {
    case 'changes': {
      const commands = changesToCommands(action.changes);
      return selected.map((device) => ({ device, commands, error: null }));
    }
    case 'script':
      return selected.map((device) => ({ device, commands: scriptLines(action.script), error: null }));
    case 'cli':
      return selected.map((device) => ({ device, commands: [action.script], error: null }));
    case 'template':
      return selected.map((device) => {
        const r = renderFor(template!, action, device);
        if (!r.ok) return { device, commands: [], error: r.errors.map((e) => e.message).join('; ') };
        const commands = scriptLines(r.script);
        if (commands.length === 0) return { device, commands, error: 'the template renders to nothing' };
        return { device, commands, error: null };
      });
  }
}

// ---- DTOs ----

type BatchRow = typeof configBatches.$inferSelect;
type ItemRow = typeof configBatchItems.$inferSelect;

export function emptyCounts(): BatchCounts {
  return { total: 0, pending: 0, running: 0, succeeded: 0, failed: 0, skipped: 0, cancelled: 0 };
}

export function countItems(states: Iterable<BatchItemState>): BatchCounts {
  const c = emptyCounts();
  for (const s of states) {
    c.total++;
    c[s]++;
  }
  return c;
}

export function batchSummaryDto(b: BatchRow, counts: BatchCounts): ConfigBatchSummary {
  return {
    id: b.id,
    kind: b.kind,
    mode: b.mode,
    state: b.state,
    concurrency: b.concurrency,
    stopOnFailure: b.stopOnFailure,
    note: b.note,
    templateId: b.templateId,
    counts,
    createdBy: b.createdBy,
    createdAt: iso(b.createdAt)!,
    finishedAt: iso(b.finishedAt),
    cancelRequested: b.cancelRequestedAt !== null,
  };
}

export function itemDto(i: ItemRow): ConfigBatchItem {
  return {
    deviceId: i.deviceId,
    deviceName: i.deviceName,
    state: i.state,
    commands: i.commands,
    output: i.output,
    error: i.error,
    operationId: i.operationId,
    startedAt: iso(i.startedAt),
    finishedAt: iso(i.finishedAt),
  };
}

export async function loadBatch(tx: Tx, id: string): Promise<ConfigBatch | null> {
  const [b] = await tx.select().from(configBatches).where(eq(configBatches.id, id));
  if (!b) return null;
  const items = await tx
    .select()
    .from(configBatchItems)
    .where(eq(configBatchItems.batchId, id))
    .orderBy(asc(configBatchItems.position));
  const dtos = items.map(itemDto);
  return {
    ...batchSummaryDto(b, countItems(items.map((i) => i.state))),
    items: dtos,
    groups:
      b.kind === 'cli'
        ? groupOutputs(
            dtos
              .filter((i) => i.state === 'succeeded' && i.output !== null)
              .map((i) => ({ deviceId: i.deviceId, output: i.output! })),
          )
        : null,
  };
}
