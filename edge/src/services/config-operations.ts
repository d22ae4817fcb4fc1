// Configuration operations (issue #8): the rows of `config_operations`, their DTO, and their state machine.
// States only move forward: applying → applied | pending-confirmation → confirmed | reverted, or failed; a
// final state never changes again, so a late or redelivered event (or a collector reply racing its own
// event) cannot undo what is known.
import {
  type ConfigApplyResult,
  FINAL_OPERATION_STATES,
  isSensitiveField,
  MASKED_VALUE,
  type OperationDto,
  type OperationState,
} from '@tod/contracts';
import { configOperations } from '@tod/drizzle/schema';
import { and, desc, eq, lt, or, sql } from 'drizzle-orm';
import type { z } from 'zod';
import type { Tx } from '../db';

export type OperationRow = typeof configOperations.$inferSelect;

const RANK: Record<OperationState, number> = {
  applying: 0,
  'pending-confirmation': 1,
  confirmed: 2,
  reverted: 2,
  failed: 2,
  applied: 2,
};

function iso(d: Date | string | null): string | null {
  if (d === null) return null;
  return (d instanceof Date ? d : new Date(d)).toISOString();
}

/** `k=v` pairs whose property is a secret, masked (stored operations, viewers' menus). */
export function maskCommand(line: string): string {
  return line.replace(/([a-z0-9-]+)=("(?:[^"\\]|\\.)*"|\S*)/g, (m, k: string) =>
    isSensitiveField(k) ? `${k}=${MASKED_VALUE}` : m,
  );
}

export function operationDto(row: OperationRow, opts: { maskSecrets?: boolean } = {}): OperationDto {
  const commands = (row.commands ?? []) as string[];
  return {
    id: row.id,
    deviceId: row.deviceId,
    kind: row.kind,
    mode: row.mode,
    state: row.state,
    commands: opts.maskSecrets ? commands.map(maskCommand) : commands,
    error: row.error,
    createdBy: row.createdBy,
    createdAt: iso(row.createdAt)!,
    updatedAt: iso(row.updatedAt)!,
    confirmDeadline: iso(row.confirmDeadline),
    timeoutSeconds: row.timeoutSeconds,
    snapshotId: row.snapshotId,
  };
}

export async function createOperation(
  tx: Tx,
  values: Pick<OperationRow, 'tenantId' | 'deviceId' | 'kind' | 'mode' | 'commands' | 'createdBy'> &
    Partial<Pick<OperationRow, 'timeoutSeconds' | 'snapshotId'>>,
): Promise<OperationRow> {
  // The record keeps what was done, never the secrets it set: the commands went to the collector as sent,
  // and the row holds them with secret values masked (it is readable through the API and rests unsealed).
  const [row] = await tx
    .insert(configOperations)
    .values({ ...values, commands: values.commands.map(maskCommand), state: 'applying' })
    .returning();
  return row!;
}

export async function getOperation(tx: Tx, tenantId: string, id: string): Promise<OperationRow | undefined> {
  const [row] = await tx
    .select()
    .from(configOperations)
    .where(and(eq(configOperations.tenantId, tenantId), eq(configOperations.id, id)));
  return row;
}

/** Moves an operation forward (never back, never out of a final state); the row when it changed. */
export async function advanceOperation(
  tx: Tx,
  tenantId: string,
  id: string,
  next: { state: OperationState; error?: string | null; confirmDeadline?: string | null; deviceId?: string },
): Promise<OperationRow | undefined> {
  const allowedFrom = (Object.keys(RANK) as OperationState[]).filter(
    (s) => !FINAL_OPERATION_STATES.has(s) && RANK[s] <= RANK[next.state],
  );
  if (allowedFrom.length === 0) return undefined;
  const [row] = await tx
    .update(configOperations)
    .set({
      state: next.state,
      ...(next.error !== undefined ? { error: next.error } : {}),
      ...(next.confirmDeadline ? { confirmDeadline: new Date(next.confirmDeadline) } : {}),
      updatedAt: sql`now()`,
    })
    .where(
      and(
        eq(configOperations.tenantId, tenantId),
        eq(configOperations.id, id),
        ...(next.deviceId ? [eq(configOperations.deviceId, next.deviceId)] : []),
        sql`${configOperations.state} IN (${sql.join(
          allowedFrom.map((s) => sql`${s}`),
          sql`, `,
        )})`,
      ),
    )
    .returning();
  return row;
}

/** The collector's reply to config.apply, recorded like its events. */
export function advanceFromReply(
  tx: Tx,
  tenantId: string,
  result: z.infer<typeof ConfigApplyResult>,
): Promise<OperationRow | undefined> {
  return advanceOperation(tx, tenantId, result.operationId, {
    state: result.state,
    ...(result.error ? { error: result.error } : {}),
    ...(result.confirmDeadline ? { confirmDeadline: result.confirmDeadline } : {}),
  });
}

export interface OperationPage {
  items: OperationRow[];
  nextCursor: string | null;
}

/** Newest first; the cursor is `<createdAt ISO>|<id>`. */
export async function listOperations(
  tx: Tx,
  tenantId: string,
  q: {
    deviceId?: string | undefined;
    state?: OperationState | undefined;
    limit: number;
    cursor?: string | undefined;
  },
): Promise<OperationPage> {
  const conds = [eq(configOperations.tenantId, tenantId)];
  if (q.deviceId) conds.push(eq(configOperations.deviceId, q.deviceId));
  if (q.state) conds.push(eq(configOperations.state, q.state));
  if (q.cursor) {
    const [at, id] = q.cursor.split('|');
    const when = new Date(at ?? '');
    if (id && !Number.isNaN(when.getTime()) && /^[0-9a-f-]{36}$/.test(id))
      conds.push(
        or(
          lt(configOperations.createdAt, when),
          and(eq(configOperations.createdAt, when), lt(configOperations.id, id)),
        )!,
      );
  }
  const rows = await tx
    .select()
    .from(configOperations)
    .where(and(...conds))
    .orderBy(desc(configOperations.createdAt), desc(configOperations.id))
    .limit(q.limit + 1);
  const items = rows.slice(0, q.limit);
  const last = items.at(-1);
  return {
    items,
    nextCursor: rows.length > q.limit && last ? `${iso(last.createdAt)}|${last.id}` : null,
  };
}
