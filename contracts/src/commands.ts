// Edge → collector requests on `tod.cmd.<tenant>.<collector>` (NATS request/reply; see commandSubject in
// events.ts). The edge publishes with its own credentials; the collector answers every request, also a
// malformed one, with a CommandReply: `{ ok: true, result }` or `{ ok: false, error: { code, message } }`,
// where message is the device's own error text when the device refused. Operation progress (safe apply,
// revert) is reported separately as `config-operation` device events, which survive NATS outages.
import { z } from 'zod';
import {
  APPLY_SCRIPT_MAX_CHARS,
  ApplyMode,
  BinaryBackupResponse,
  MenuPath,
  MenuRow,
  OperationState,
  SAFE_TIMEOUT_DEFAULT_S,
  SafeTimeoutSeconds,
} from './api/config-ops';
import { CONFIG_EXPORT_MAX_CHARS } from './config/snapshot';

const deviceId = z.uuid();

export const MenuPrintCommand = z.strictObject({ op: z.literal('menu.print'), deviceId, path: MenuPath });

export const ConfigApplyCommand = z.strictObject({
  op: z.literal('config.apply'),
  deviceId,
  /** The edge's operation id; also names the safe-apply backup and scheduler entry (`tod-safe-<id>`). */
  operationId: z.uuid(),
  /** CLI command lines (changesToCommands); each simple line runs as one API sentence, in order, stopping at
   * the first error. With `script`, the lines are joined and run on the device as one script. */
  commands: z.array(z.string().min(1).max(CONFIG_EXPORT_MAX_CHARS)).min(1).max(2000),
  script: z.boolean().default(false),
  /** restore: the script is a full `/export`; rows of the menus it adds to are removed first (in the same
   * script), so the device ends with exactly the exported configuration. */
  replace: z.boolean().default(false),
  mode: ApplyMode,
  timeoutSeconds: SafeTimeoutSeconds.default(SAFE_TIMEOUT_DEFAULT_S),
});

export const ConfigConfirmCommand = z.strictObject({
  op: z.literal('config.confirm'),
  deviceId,
  operationId: z.uuid(),
});

export const CliRunCommand = z.strictObject({
  op: z.literal('cli.run'),
  deviceId,
  script: z.string().min(1).max(APPLY_SCRIPT_MAX_CHARS),
});

export const BackupExportCommand = z.strictObject({ op: z.literal('backup.export'), deviceId });

export const BackupBinaryCommand = z.strictObject({
  op: z.literal('backup.binary'),
  deviceId,
  name: z
    .string()
    .max(64)
    .regex(/^[A-Za-z0-9_.-]+$/)
    .optional(),
});

export const CollectorCommand = z.discriminatedUnion('op', [
  MenuPrintCommand,
  ConfigApplyCommand,
  ConfigConfirmCommand,
  CliRunCommand,
  BackupExportCommand,
  BackupBinaryCommand,
]);
export type CollectorCommand = z.infer<typeof CollectorCommand>;
export type CollectorCommandInput = z.input<typeof CollectorCommand>;
export type CommandOp = CollectorCommand['op'];

// ---- results ---------------------------------------------------------------------------------------------

export const MenuPrintResult = z.object({ path: MenuPath, rows: z.array(MenuRow) });
/** The apply finished on the device: `applied` (standard), `pending-confirmation` (safe; the device reverts by
 * itself after timeoutSeconds unless confirmed), or `failed` (error = the device's text; a safe apply that
 * failed half-way is rolled back at once). Also published as `config-operation` events. */
export const ConfigApplyResult = z.object({
  operationId: z.uuid(),
  state: OperationState,
  error: z.string().optional(),
  /** Safe apply: when the device's revert runs unless confirmed (collector clock). */
  confirmDeadline: z.iso.datetime({ offset: true }).optional(),
});
export const ConfigConfirmResult = z.object({ operationId: z.uuid(), state: OperationState });
export const CliRunResult = z.object({ output: z.string() });
export const BackupExportResult = z.object({ queued: z.literal(true) });
export const BackupBinaryResult = BinaryBackupResponse;

export const COMMAND_RESULTS = {
  'menu.print': MenuPrintResult,
  'config.apply': ConfigApplyResult,
  'config.confirm': ConfigConfirmResult,
  'cli.run': CliRunResult,
  'backup.export': BackupExportResult,
  'backup.binary': BackupBinaryResult,
} as const satisfies Record<CommandOp, z.ZodType>;
export type CommandResultOf<O extends CommandOp> = z.infer<(typeof COMMAND_RESULTS)[O]>;

export const CommandErrorCode = z.enum([
  /** The request did not parse. */
  'invalid_request',
  /** The collector does not serve this device. */
  'unknown_device',
  /** An HA peer holds the device's lease; ask that collector. */
  'not_leased',
  /** Connecting or a command failed on the socket (also: the change cut the collector off). */
  'device_unreachable',
  'auth_failed',
  'tls_failed',
  /** The device answered with an error (message = its text). */
  'device_error',
  /** confirm: no safe apply with that id is waiting (already confirmed, or unknown). */
  'not_pending',
  /** confirm: the device already reverted the change. */
  'already_reverted',
  /** Another apply runs on this device now. */
  'busy',
  'internal',
]);
export type CommandErrorCode = z.infer<typeof CommandErrorCode>;

export const CommandError = z.object({ code: CommandErrorCode, message: z.string().max(4000) });
export type CommandError = z.infer<typeof CommandError>;

export const CommandReply = z.discriminatedUnion('ok', [
  z.object({ ok: z.literal(true), result: z.unknown() }),
  z.object({ ok: z.literal(false), error: CommandError }),
]);
export type CommandReply = z.infer<typeof CommandReply>;
export type CommandReplyOf<O extends CommandOp> =
  | { ok: true; result: CommandResultOf<O> }
  | { ok: false; error: CommandError };

/** Safe apply's names on the device: the backup file (`<name>.backup`) and the revert scheduler entry. */
export function safeApplyName(operationId: string): string {
  return `tod-safe-${operationId}`;
}
