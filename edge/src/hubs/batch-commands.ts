// How the BatchRunner reaches devices. Placeholder until the edge's command channel
// (services/collector-commands) is merged: every device fails with this error.
import type { ApplyMode, CommandReply } from '@tod/contracts';
import type { Tx } from '../db';
import type { Bindings } from '../env';

export interface BatchDeviceRequest {
  deviceId: string;
  kind: 'changes' | 'script' | 'template' | 'cli';
  commands: string[];
  mode: ApplyMode;
  timeoutSeconds: number;
  createdBy: string | null;
}

export interface BatchChannel {
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

export async function openBatchChannel(_env: Bindings): Promise<BatchChannel> {
  return {
    prepare: async (_tx, _tenantId, r) => (r.kind === 'cli' ? null : crypto.randomUUID()),
    send: async () => {
      throw new Error('the collector command channel is not available in this build');
    },
    close: async () => {},
  };
}
