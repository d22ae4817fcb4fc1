// An alert row as the API and the SSE stream show it (contracts' Alert).
import type { Alert } from '@tod/contracts';
import type { alerts } from '@tod/drizzle/schema';
import { iso } from '../routes/dto';

type AlertRow = typeof alerts.$inferSelect;

export function alertDto(a: AlertRow): Alert {
  return {
    id: a.id,
    ruleId: a.ruleId,
    ruleName: a.ruleName,
    metric: a.metric,
    severity: a.severity,
    deviceId: a.deviceId,
    subject: a.subject,
    state: a.state,
    value: a.value,
    threshold: a.threshold,
    startedAt: iso(a.startedAt)!,
    endedAt: iso(a.endedAt),
    suppressed: a.suppressed,
    acknowledgedBy: a.acknowledgedBy,
    acknowledgedAt: iso(a.acknowledgedAt),
    resolution: a.resolution,
    resolvedBy: a.resolvedBy,
  };
}
