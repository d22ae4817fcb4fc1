import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { inStoredRange, parseEventMessage } from './ingest';

const tenant = randomUUID();
const device = randomUUID();
const collector = randomUUID();

function body(over: Record<string, unknown> = {}) {
  return JSON.stringify({
    v: 1,
    id: randomUUID(),
    tenantId: tenant,
    deviceId: device,
    collectorId: collector,
    at: new Date().toISOString(),
    kind: 'status',
    data: { status: 'online' },
    ...over,
  });
}

const subject = (t = tenant, d = device, k = 'status') => `tod.evt.${t}.${d}.${k}`;

describe('parseEventMessage', () => {
  it('accepts an event whose subject and envelope agree with the hub’s tenant', () => {
    const r = parseEventMessage(tenant, subject(), new TextEncoder().encode(body()));
    expect(r.ok).toBe(true);
  });

  it('refuses another tenant’s subject, a mismatched envelope, a wrong kind and bad JSON', () => {
    const other = randomUUID();
    expect(parseEventMessage(tenant, subject(other), body()).ok).toBe(false);
    expect(parseEventMessage(tenant, subject(), body({ tenantId: other })).ok).toBe(false);
    expect(parseEventMessage(tenant, subject(tenant, randomUUID()), body()).ok).toBe(false);
    expect(parseEventMessage(tenant, subject(tenant, device, 'resource'), body()).ok).toBe(false);
    expect(parseEventMessage(tenant, subject(), '{').ok).toBe(false);
    expect(parseEventMessage(tenant, subject(), body({ data: { status: 'exploded' } })).ok).toBe(false);
    expect(parseEventMessage(tenant, 'tod.evt.x', body()).ok).toBe(false);
  });
});

describe('inStoredRange', () => {
  it('keeps events inside the retention and refuses the far past and future', () => {
    const now = Date.parse('2026-06-01T12:00:00Z');
    expect(inStoredRange('2026-06-01T11:59:00Z', now, 90)).toBe(true);
    expect(inStoredRange('2026-03-01T00:00:00Z', now, 90)).toBe(false);
    expect(inStoredRange('2026-06-03T00:00:00Z', now, 90)).toBe(false);
  });
});
