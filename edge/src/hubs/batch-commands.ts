// How the BatchRunner reaches a device's collector: the edge's command channel (services/collector-commands).
import type { CollectorCommandInput, CommandReply } from '@tod/contracts';
import type { Bindings } from '../env';

export async function sendBatchCommand(
  _env: Bindings,
  _tenantId: string,
  _deviceId: string,
  _request: CollectorCommandInput,
  _opts: { timeoutMs: number },
): Promise<CommandReply> {
  throw new Error('the collector command channel is not available in this build');
}
