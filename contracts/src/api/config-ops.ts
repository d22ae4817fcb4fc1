// Configuration operations on one device (issue #8): the editor's changes, their exact RouterOS commands, and
// the operations (standard or safe apply, restore) the edge records and streams. `changesToCommands` is pure
// and shared by preview, apply, templates and Simple Config: what the user previews is exactly what runs.
import { z } from 'zod';
import { PageQuery } from './common';

/** A menu path in API form: `/ip/address`, `/interface/bridge/port`, `/system/identity`. */
export const MenuPath = z
  .string()
  .max(128)
  .regex(/^(\/[a-z0-9][a-z0-9-]*)+$/, 'a menu path such as /ip/address');

/** An item id as RouterOS prints it (`.id`), e.g. `*1A`. */
export const ItemId = z
  .string()
  .max(32)
  .regex(/^\*[0-9A-Fa-f]+$/, 'an item id such as *1A');

/** Property names as RouterOS spells them (`address`, `place-before`, `wpa2-pre-shared-key`). */
const PropName = z
  .string()
  .min(1)
  .max(64)
  .regex(/^[a-z0-9][a-z0-9-]*$/, 'a property name such as address or comment');

export const ChangeAction = z.enum(['add', 'set', 'remove', 'enable', 'disable', 'move']);
export type ChangeAction = z.infer<typeof ChangeAction>;

export const Change = z
  .strictObject({
    action: ChangeAction,
    path: MenuPath,
    /** The item (`.id`) for set/remove/enable/disable/move; absent for `set` on a single-item menu
     * (`/system/identity`). */
    id: ItemId.optional(),
    values: z.record(PropName, z.string().max(4096)).optional(),
    /** move: the item to place it before; add: place-before. */
    destination: ItemId.optional(),
  })
  .superRefine((c, ctx) => {
    const needsId =
      c.action === 'remove' || c.action === 'enable' || c.action === 'disable' || c.action === 'move';
    if (needsId && !c.id)
      ctx.addIssue({ code: 'custom', path: ['id'], message: `${c.action} needs the item id` });
    if (c.action === 'move' && !c.destination)
      ctx.addIssue({ code: 'custom', path: ['destination'], message: 'move needs a destination item id' });
    if (c.action === 'set' && Object.keys(c.values ?? {}).length === 0)
      ctx.addIssue({ code: 'custom', path: ['values'], message: 'set needs at least one value' });
    if (c.values && ('.id' in c.values || 'numbers' in c.values))
      ctx.addIssue({ code: 'custom', path: ['values'], message: 'name the item with id, not in values' });
  });
export type Change = z.infer<typeof Change>;

export const Changes = z.array(Change).min(1).max(500);

/** A value as the RouterOS CLI writes it: bare when it is safe, otherwise in double quotes with `\`, `"`, `$`
 * and control characters escaped (so a value can never start a variable or a second command). */
export function quoteValue(v: string): string {
  if (/^[A-Za-z0-9_.,:/*+@-]+$/.test(v)) return v;
  const escaped = v
    .replace(/\\/g, '\\\\')
    .replace(/"/g, '\\"')
    .replace(/\$/g, '\\$')
    .replace(/\r/g, '\\r')
    .replace(/\n/g, '\\n')
    .replace(/\t/g, '\\t');
  return `"${escaped}"`;
}

/** `/ip/address` → `/ip address` (the CLI form). */
export function cliPath(path: string): string {
  return `/${path.split('/').filter(Boolean).join(' ')}`;
}

function args(values: Record<string, string> | undefined): string {
  return Object.entries(values ?? {})
    .map(([k, v]) => ` ${k}=${quoteValue(v)}`)
    .join('');
}

/** The exact CLI commands for a list of changes, one line each, addressing items by `.id` (never a `find`). */
export function changesToCommands(changes: readonly Change[]): string[] {
  return changes.map((raw) => {
    const c = Change.parse(raw);
    const p = cliPath(c.path);
    switch (c.action) {
      case 'add':
        return `${p} add${args(c.values)}${c.destination ? ` place-before=${c.destination}` : ''}`;
      case 'set':
        return `${p} set${c.id ? ` ${c.id}` : ''}${args(c.values)}`;
      case 'move':
        return `${p} move ${c.id} destination=${c.destination}`;
      default:
        return `${p} ${c.action} ${c.id}`;
    }
  });
}

/** One CLI command line in the simple form `changesToCommands` writes (`/path words cmd [*id] k=v …`), as an
 * API sentence; null for anything else (scripts with context, `find`, variables, flow control). */
export interface ApiSentence {
  command: string;
  args: Record<string, string>;
}

function unquote(tok: string): string {
  if (!tok.startsWith('"')) return tok;
  return tok
    .slice(1, -1)
    .replace(/\\(n|r|t|"|\\|\$)/g, (_m, c: string) =>
      c === 'n' ? '\n' : c === 'r' ? '\r' : c === 't' ? '\t' : c,
    );
}

export function cliToApiSentence(line: string): ApiSentence | null {
  const text = line.trim();
  if (!text.startsWith('/') || /[[\]{};]/.test(text.replace(/"(?:[^"\\]|\\.)*"/g, '""'))) return null;
  const tokens: string[] = [];
  const re = /\s*([^\s"=]+=(?:"(?:[^"\\]|\\.)*"|[^\s"]*)|"(?:[^"\\]|\\.)*"|[^\s"]+)/y;
  let at = 0;
  while (at < text.length) {
    const m = re.exec(text);
    if (!m) break;
    tokens.push(m[1] as string);
    at = re.lastIndex;
  }
  if (text.slice(at).trim() !== '') return null;
  const words: string[] = [];
  const out: Record<string, string> = {};
  let i = 0;
  for (; i < tokens.length; i++) {
    const t = tokens[i] as string;
    if (t.includes('=') || t.startsWith('*') || t.startsWith('"')) break;
    words.push(...t.split('/').filter(Boolean));
  }
  if (words.length < 2 || !words.every((w) => /^[a-z0-9][a-z0-9-]*$/.test(w))) return null;
  for (; i < tokens.length; i++) {
    const t = tokens[i] as string;
    const eq = t.indexOf('=');
    if (eq > 0 && !t.startsWith('"')) {
      const key = t.slice(0, eq);
      if (!/^[a-z0-9.][a-z0-9-]*$/.test(key)) return null;
      out[key] = unquote(t.slice(eq + 1));
    } else if (/^\*[0-9A-Fa-f]+$/.test(t) && !('.id' in out)) out['.id'] = t;
    else return null;
  }
  return { command: `/${words.join('/')}`, args: out };
}

/** Properties whose values are secrets: masked for viewers in menus, never logged. */
const SENSITIVE =
  /(^|-)(password|passphrase|secret|pre-shared-key|private-key|psk|auth-key|authentication-key)$|^key$/;
export function isSensitiveField(name: string): boolean {
  return SENSITIVE.test(name);
}
export const MASKED_VALUE = '********';

// ---------------------------------------------------------------------------------------------------------
// Operations

export const ApplyMode = z.enum(['standard', 'safe']);
export type ApplyMode = z.infer<typeof ApplyMode>;

export const OperationState = z.enum([
  'applying',
  'pending-confirmation',
  'confirmed',
  'reverted',
  'failed',
  'applied',
]);
export type OperationState = z.infer<typeof OperationState>;

/** States an operation never leaves. */
export const FINAL_OPERATION_STATES: ReadonlySet<OperationState> = new Set([
  'confirmed',
  'reverted',
  'failed',
  'applied',
]);

export const OperationKind = z.enum(['changes', 'script', 'restore']);
export type OperationKind = z.infer<typeof OperationKind>;

export const SAFE_TIMEOUT_DEFAULT_S = 300;
export const SafeTimeoutSeconds = z.number().int().min(5).max(3600);

export const OperationDto = z.object({
  id: z.uuid(),
  deviceId: z.uuid(),
  kind: OperationKind,
  mode: ApplyMode,
  state: OperationState,
  commands: z.array(z.string()),
  error: z.string().nullable(),
  createdBy: z.uuid().nullable(),
  createdAt: z.iso.datetime({ offset: true }),
  updatedAt: z.iso.datetime({ offset: true }),
  /** Safe apply: when the device reverts by itself unless confirmed. */
  confirmDeadline: z.iso.datetime({ offset: true }).nullable(),
  timeoutSeconds: z.number().int().nullable(),
  /** restore: the snapshot restored. */
  snapshotId: z.uuid().nullable(),
});
export type OperationDto = z.infer<typeof OperationDto>;

export const MenuQuery = z.strictObject({ path: MenuPath });
export const MenuRow = z.record(z.string(), z.string());
export type MenuRow = z.infer<typeof MenuRow>;
export const MenuResponse = z.object({ path: MenuPath, rows: z.array(MenuRow), fields: z.array(z.string()) });
export type MenuResponse = z.infer<typeof MenuResponse>;

export const PreviewBody = z.strictObject({ changes: Changes });
export type PreviewBody = z.infer<typeof PreviewBody>;
export const PreviewResponse = z.object({ commands: z.array(z.string()) });
export type PreviewResponse = z.infer<typeof PreviewResponse>;

export const APPLY_SCRIPT_MAX_CHARS = 256 * 1024;

export const ApplyBody = z
  .strictObject({
    changes: Changes.optional(),
    script: z.string().min(1).max(APPLY_SCRIPT_MAX_CHARS).optional(),
    mode: ApplyMode,
    timeoutSeconds: SafeTimeoutSeconds.default(SAFE_TIMEOUT_DEFAULT_S),
  })
  .refine((b) => (b.changes ? 1 : 0) + (b.script ? 1 : 0) === 1, {
    message: 'give either changes or script',
  });
export type ApplyBody = z.infer<typeof ApplyBody>;

export const OperationResponse = z.object({ operation: OperationDto });
export type OperationResponse = z.infer<typeof OperationResponse>;

export const OperationListQuery = z.strictObject({
  ...PageQuery,
  deviceId: z.uuid().optional(),
  state: OperationState.optional(),
});
export type OperationListQuery = z.infer<typeof OperationListQuery>;

export const RestoreBody = z.strictObject({
  mode: z.literal('safe'),
  timeoutSeconds: SafeTimeoutSeconds.default(SAFE_TIMEOUT_DEFAULT_S),
});
export type RestoreBody = z.infer<typeof RestoreBody>;

export const BinaryBackupBody = z.strictObject({
  name: z
    .string()
    .max(64)
    .regex(/^[A-Za-z0-9_.-]+$/)
    .optional(),
});
export const BinaryBackupResponse = z.object({ name: z.string(), size: z.number().int().nonnegative() });
export type BinaryBackupResponse = z.infer<typeof BinaryBackupResponse>;
