// Batch configuration (issue #8): templates (/api/config-templates) and batches over a selection of devices
// (/api/config-batches): one change, template, script or bulk CLI command run per device with a concurrency
// limit, progress streamed as SSE event `config-batch` (topic `config`).
import { z } from 'zod';
import {
  TemplateValue,
  TemplateVariable,
  TemplateVariables,
  undeclaredPlaceholders,
} from '../config/template';
import { PageQuery } from './common';
import { APPLY_SCRIPT_MAX_CHARS, Changes, SAFE_TIMEOUT_DEFAULT_S, SafeTimeoutSeconds } from './config-ops';

// ---- templates ----

const TemplateValues = z.record(z.string().max(63), TemplateValue);

const templateFields = {
  name: z.string().trim().min(1).max(200),
  description: z.string().max(2000).default(''),
  body: z.string().min(1).max(65_536),
  variables: TemplateVariables.default([]),
};

const placeholdersDeclared = (t: { body?: string; variables?: TemplateVariable[] }) =>
  t.body === undefined ||
  t.variables === undefined ||
  undeclaredPlaceholders(t.body, t.variables).length === 0;
const undeclaredMessage = {
  message: 'the body uses {{placeholders}} that are not declared variables',
  path: ['body'],
};

export const CreateConfigTemplateRequest = z
  .strictObject(templateFields)
  .refine(placeholdersDeclared, undeclaredMessage);
export type CreateConfigTemplateRequest = z.infer<typeof CreateConfigTemplateRequest>;

/** PUT replaces the template (name, body and variables together, so they stay consistent). */
export const UpdateConfigTemplateRequest = CreateConfigTemplateRequest;

export const ConfigTemplate = z.object({
  id: z.uuid(),
  name: z.string(),
  description: z.string(),
  body: z.string(),
  variables: z.array(TemplateVariable),
  createdBy: z.uuid().nullable(),
  createdAt: z.string(),
  updatedAt: z.string(),
});
export type ConfigTemplate = z.infer<typeof ConfigTemplate>;

export const ConfigTemplateListQuery = z.strictObject({ ...PageQuery, q: z.string().max(200).optional() });

/** Values of a template's variables for a run: shared, per group (id → values), per device (id → values);
 * a device's own values win over its groups', which win over device facts and the shared values. */
export const TemplateValueSet = {
  variables: TemplateValues.default({}),
  groupVariables: z.record(z.uuid(), TemplateValues).optional(),
  deviceVariables: z.record(z.uuid(), TemplateValues).optional(),
};

export const PreviewTemplateRequest = z.strictObject({
  deviceIds: z.array(z.uuid()).min(1).max(200),
  ...TemplateValueSet,
});
export type PreviewTemplateRequest = z.infer<typeof PreviewTemplateRequest>;

export const TemplatePreviewItem = z.object({
  deviceId: z.uuid(),
  deviceName: z.string(),
  ok: z.boolean(),
  script: z.string().nullable(),
  errors: z.array(z.object({ variable: z.string().nullable(), code: z.string(), message: z.string() })),
});
export const TemplatePreviewResponse = z.object({ items: z.array(TemplatePreviewItem) });
export type TemplatePreviewResponse = z.infer<typeof TemplatePreviewResponse>;

// ---- batches ----

/** The devices a batch runs on; the criteria given are combined (all must hold), always inside the tenant.
 * `tag` is a tag's id or name; `filter` is space-separated terms: `status:online`, `model:RB5009`,
 * `collector:<id>`, or a prefix of the device's name or host. */
export const BatchSelection = z
  .strictObject({
    deviceIds: z.array(z.uuid()).min(1).max(5000).optional(),
    groupId: z.uuid().optional(),
    tag: z.string().trim().min(1).max(200).optional(),
    filter: z.string().trim().min(1).max(500).optional(),
  })
  .refine((s) => Object.values(s).some((v) => v !== undefined), 'name devices, a group, a tag or a filter');
export type BatchSelection = z.infer<typeof BatchSelection>;

const Script = z.string().min(1).max(APPLY_SCRIPT_MAX_CHARS);

export const BatchAction = z.discriminatedUnion('kind', [
  z.strictObject({ kind: z.literal('changes'), changes: Changes }),
  z.strictObject({ kind: z.literal('script'), script: Script }),
  z.strictObject({ kind: z.literal('template'), templateId: z.uuid(), ...TemplateValueSet }),
  z.strictObject({ kind: z.literal('cli'), script: Script }),
]);
export type BatchAction = z.infer<typeof BatchAction>;
export type BatchKind = BatchAction['kind'];

export const CreateConfigBatchRequest = z.strictObject({
  selection: BatchSelection,
  action: BatchAction,
  /** For changes, scripts and templates; a CLI batch ignores it. */
  mode: z.enum(['standard', 'safe']).default('standard'),
  timeoutSeconds: SafeTimeoutSeconds.default(SAFE_TIMEOUT_DEFAULT_S),
  concurrency: z.number().int().min(1).max(50).default(10),
  stopOnFailure: z.boolean().default(false),
  /** A short note for the report and the audit log. */
  note: z.string().max(500).optional(),
});
export type CreateConfigBatchRequest = z.infer<typeof CreateConfigBatchRequest>;

export const BatchState = z.enum(['running', 'completed', 'stopped', 'cancelled']);
export type BatchState = z.infer<typeof BatchState>;
export const BatchItemState = z.enum(['pending', 'running', 'succeeded', 'failed', 'skipped', 'cancelled']);
export type BatchItemState = z.infer<typeof BatchItemState>;
export const BATCH_ITEM_DONE: readonly BatchItemState[] = ['succeeded', 'failed', 'skipped', 'cancelled'];

export const BatchCounts = z.object({
  total: z.number().int(),
  pending: z.number().int(),
  running: z.number().int(),
  succeeded: z.number().int(),
  failed: z.number().int(),
  skipped: z.number().int(),
  cancelled: z.number().int(),
});
export type BatchCounts = z.infer<typeof BatchCounts>;

export const ConfigBatchItem = z.object({
  deviceId: z.uuid(),
  deviceName: z.string(),
  state: BatchItemState,
  /** What was sent (rendered template, CLI form of the changes, the script). */
  commands: z.array(z.string()),
  output: z.string().nullable(),
  /** The device's own error text where there is one. */
  error: z.string().nullable(),
  operationId: z.uuid().nullable(),
  startedAt: z.string().nullable(),
  finishedAt: z.string().nullable(),
});
export type ConfigBatchItem = z.infer<typeof ConfigBatchItem>;

export const ConfigBatchSummary = z.object({
  id: z.uuid(),
  kind: z.enum(['changes', 'script', 'template', 'cli']),
  mode: z.enum(['standard', 'safe']),
  state: BatchState,
  concurrency: z.number().int(),
  stopOnFailure: z.boolean(),
  note: z.string().nullable(),
  templateId: z.uuid().nullable(),
  counts: BatchCounts,
  createdBy: z.uuid().nullable(),
  createdAt: z.string(),
  finishedAt: z.string().nullable(),
  cancelRequested: z.boolean(),
});
export type ConfigBatchSummary = z.infer<typeof ConfigBatchSummary>;

export const ConfigBatch = ConfigBatchSummary.extend({
  items: z.array(ConfigBatchItem),
  /** CLI batches: finished devices grouped by identical output (failed devices are not in any group). */
  groups: z.array(z.object({ output: z.string(), deviceIds: z.array(z.uuid()) })).nullable(),
});
export type ConfigBatch = z.infer<typeof ConfigBatch>;

export const ConfigBatchListQuery = z.strictObject({ ...PageQuery, state: BatchState.optional() });

/** SSE event `config-batch` (topic `config`): the batch's counts, and the items that changed. */
export const ConfigBatchProgress = z.object({
  batch: ConfigBatchSummary,
  items: z.array(ConfigBatchItem),
});
export type ConfigBatchProgress = z.infer<typeof ConfigBatchProgress>;

/** POST /api/config-batches/:id/confirm (safe batches): what happened to each change still waiting. */
export const ConfirmBatchResponse = z.object({
  confirmed: z.number().int(),
  reverted: z.number().int(),
  failed: z.array(z.object({ deviceId: z.uuid(), error: z.string().nullable() })),
});
export type ConfirmBatchResponse = z.infer<typeof ConfirmBatchResponse>;
