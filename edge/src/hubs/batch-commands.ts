// How the BatchRunner reaches devices: the edge's command channel (services/collector-commands), one NATS
// connection for the whole run, and for applies an operation row (services/config-operations) per device,
// so a batch's safe applies are confirmed, listed and streamed like any other operation.
import type { ApplyMode, CommandReply } from '@tod/contracts';
import type { Tx } from '../db';
import type { Bindings } from '../env';
import { CollectorCommands, commandRoute } from '../services/collector-commands';
import { advanceFromReply, createOperation } from '../services/config-operations';

export interface BatchDeviceRequest {
  deviceId: string;
  kind: 'changes' | 'script' | 'template' | 'cli';
  commands: string[];
  mode: ApplyMode;
  timeoutSeconds: number;
  createdBy: string | null;
}

export interface BatchChannel {
  /** Before sending an apply: the operation it becomes (its id names the safe-apply revert on the device). */
  prepare(tx: Tx, tenantId: string, r: BatchDeviceRequest): Promise<string | null>;
  send(
    inTenant: <T>(fn: (tx: Tx) => Promise<T>) => Promise<T>,
    tenantId: string,
    r: BatchDeviceRequest,
    operationId: string | null,
    timeoutMs: number,
  ): Promise<CommandReply>;
  close(): Promise<void>;
}

export async function openBatchChannel(env: Bindings): Promise<BatchChannel> {
  const cc = await CollectorCommands.connect(env);
  return {
    async prepare(tx, tenantId, r) {
      if (r.kind === 'cli') return null;
      const op = await createOperation(tx, {
        tenantId,
        deviceId: r.deviceId,
        kind: r.kind === 'changes' ? 'changes' : 'script',
        mode: r.mode,
        commands: r.commands,
        createdBy: r.createdBy,
        ...(r.mode === 'safe' ? { timeoutSeconds: r.timeoutSeconds } : {}),
      });
      return op.id;
    },
    async send(inTenant, tenantId, r, operationId, timeoutMs) {
      const route = await inTenant((tx) => commandRoute(tx, tenantId, r.deviceId));
      if (r.kind === 'cli') {
        return cc.send(
          route,
          { op: 'cli.run', deviceId: r.deviceId, script: r.commands[0] ?? '' },
          { timeoutMs },
        );
      }
      const reply = await cc.send(
        route,
        {
          op: 'config.apply',
          deviceId: r.deviceId,
          operationId: operationId!,
          commands: r.commands,
          script: r.kind !== 'changes',
          mode: r.mode,
          timeoutSeconds: r.timeoutSeconds,
        },
        { timeoutMs },
      );
      const result = reply.ok
        ? reply.result
        : { operationId: operationId!, state: 'failed' as const, error: reply.error.message };
      await inTenant((tx) => advanceFromReply(tx, tenantId, result)).catch(() => undefined);
      return reply;
    },
    close: () => cc.close(),
  };
}
