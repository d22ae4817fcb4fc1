// Configuration operations from the event stream: each `config-operation` event moves its operation forward
// (services/config-operations.ts) in the batch's transaction; SSE clients get the operation DTO as event
// `config-operation` on topic `config` (commands with secrets masked: SSE is open to viewers).
import type { OperationDto } from '@tod/contracts';
import { advanceOperation, getOperation, operationDto } from '../services/config-operations';
import type { EventSink } from './event-sink';

export function configOperationSink(): EventSink {
  let pending: OperationDto[] = [];
  return {
    name: 'config-operations',
    async write(tx, { fresh }, hub) {
      pending = [];
      for (const { event } of fresh) {
        if (event.kind !== 'config-operation') continue;
        const row = await advanceOperation(tx, hub.tenantId, event.data.operationId, {
          deviceId: event.deviceId,
          state: event.data.state,
          ...(event.data.error !== undefined ? { error: event.data.error } : {}),
          ...(event.data.confirmDeadline ? { confirmDeadline: event.data.confirmDeadline } : {}),
        });
        // The route may have recorded the same state from the collector's reply already: stream the operation
        // as it is now either way, so the browser sees every step.
        const current = row ?? (await getOperation(tx, hub.tenantId, event.data.operationId));
        if (current && current.deviceId === event.deviceId)
          pending.push(operationDto(current, { maskSecrets: true }));
      }
    },
    abort() {
      pending = [];
    },
    async onCommitted(_events, hub) {
      for (const op of pending) hub.broadcast('config', 'config-operation', op);
      pending = [];
    },
  };
}
