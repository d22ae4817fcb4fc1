// What the TenantHub accepts from the bus: a message on `tod.evt.<tenant>.<device>.<kind>` whose body is a
// valid DeviceEvent of the same tenant, device and kind, about a device of this tenant assigned to the
// collector that sent it, observed inside the stored time range. Everything else is dropped and counted.
import { type DeviceEvent, DeviceEvent as DeviceEventSchema, EventSubject } from '@tod/contracts';
import { devices } from '@tod/drizzle/schema';
import { inArray } from 'drizzle-orm';
import type { Tx } from '../db';

export type DropReason = 'invalid' | 'foreignDevice' | 'wrongCollector' | 'outOfRange';

export type Parsed = { ok: true; event: DeviceEvent } | { ok: false; reason: 'invalid' };

/** Checks subject, body and envelope against each other and the hub's tenant. */
export function parseEventMessage(tenantId: string, subject: string, body: Uint8Array | string): Parsed {
  const subj = EventSubject.safeParse(subject);
  if (!subj.success || subj.data.tenantId !== tenantId) return { ok: false, reason: 'invalid' };
  let json: unknown;
  try {
    json = JSON.parse(typeof body === 'string' ? body : new TextDecoder().decode(body));
  } catch {
    return { ok: false, reason: 'invalid' };
  }
  const parsed = DeviceEventSchema.safeParse(json);
  if (!parsed.success) return { ok: false, reason: 'invalid' };
  const e = parsed.data;
  if (e.tenantId !== tenantId || e.deviceId !== subj.data.deviceId || e.kind !== subj.data.kind) {
    return { ok: false, reason: 'invalid' };
  }
  return { ok: true, event: e };
}

interface DirectoryEntry {
  /** null: no such device in this tenant */
  collectorId: string | null;
  exists: boolean;
  loadedAt: number;
}

/** Which collector each of the tenant's devices belongs to, cached (devices move rarely; a miss or a
 * mismatch reloads the device once before an event is dropped). */
export class DeviceDirectory {
  private readonly entries = new Map<string, DirectoryEntry>();

  constructor(
    private readonly ttlMs = 60_000,
    private readonly now: () => number = Date.now,
  ) {}

  /** Reloads the entries of these devices that are missing, stale, or do not match the given collectors. */
  async refresh(tx: Tx, wanted: Map<string, string>): Promise<void> {
    const t = this.now();
    const stale = [...wanted].filter(([id, collectorId]) => {
      const e = this.entries.get(id);
      return !e || t - e.loadedAt > this.ttlMs || (e.collectorId !== collectorId && t - e.loadedAt > 1000);
    });
    if (stale.length === 0) return;
    const ids = stale.map(([id]) => id);
    const rows = await tx
      .select({ id: devices.id, collectorId: devices.collectorId })
      .from(devices)
      .where(inArray(devices.id, ids));
    const found = new Map(rows.map((r) => [r.id, r.collectorId]));
    for (const id of ids) {
      this.entries.set(id, {
        exists: found.has(id),
        collectorId: found.get(id) ?? null,
        loadedAt: t,
      });
    }
    if (this.entries.size > 200_000) this.entries.clear();
  }

  /** After refresh(): why an event of this device from this collector is refused, or null. */
  check(deviceId: string, collectorId: string): DropReason | null {
    const e = this.entries.get(deviceId);
    if (!e?.exists) return 'foreignDevice';
    if (e.collectorId !== collectorId) return 'wrongCollector';
    return null;
  }
}

/** Events observed before the retention or implausibly far in the future have no partition. */
export function inStoredRange(at: string, now: number, retentionDays: number): boolean {
  const t = Date.parse(at);
  return t > now - (retentionDays - 1) * 86_400_000 && t < now + 86_400_000;
}
