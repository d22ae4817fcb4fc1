// Turns one export of a device into the `config-snapshot` event the edge stores (TenantHub →
// storeSnapshotEvent). The collector calls it on a config-changed marker, on the nightly schedule and on
// request, and publishes the result like any other event (never droppable). The event carries secrets when
// sensitive: publish it, never log it.
import { CONFIG_EXPORT_MAX_CHARS, type ConfigSnapshotTrigger, DeviceEvent } from '@tod/contracts';
import type { z } from 'zod';
import type { DeviceIdentity } from '../poll/poll-device';
import type { RouterSession } from '../routeros/session';
import { ConfigExportError, type ExportOptions, exportConfig } from './export';
import { type ExportKey, sealExport } from './seal';

export interface SnapshotEventResult {
  event: z.input<typeof DeviceEvent>;
  /** An export file the collector could not remove from the device (report it; it may hold secrets). */
  leftoverFile?: string;
}

export async function takeConfigSnapshot(
  session: Pick<RouterSession, 'run'>,
  device: DeviceIdentity,
  /** sealTo: the tenant's export key; without one (a collector not enrolled with an edge that has export
   * keys) the text travels in plain form. */
  opts: ExportOptions & { trigger: ConfigSnapshotTrigger; sealTo?: ExportKey },
  clock: { now(): number },
  newId: () => string,
): Promise<SnapshotEventResult> {
  const exported = await exportConfig(session, opts);
  if (exported.text.length > CONFIG_EXPORT_MAX_CHARS)
    throw new ConfigExportError(
      'export_too_large',
      `the export has ${exported.text.length} characters, more than the ${CONFIG_EXPORT_MAX_CHARS} an event carries`,
    );
  const event = DeviceEvent.parse({
    v: 1,
    id: newId(),
    ...device,
    at: new Date(clock.now()).toISOString(),
    kind: 'config-snapshot',
    data: {
      trigger: opts.trigger,
      sensitive: exported.sensitive,
      ...(opts.sealTo
        ? { sealedExport: await sealExport(exported.text, device.deviceId, opts.sealTo) }
        : { export: exported.text }),
      ...(exported.routerosVersion ? { routerosVersion: exported.routerosVersion.slice(0, 64) } : {}),
    },
  });
  return { event, ...(exported.leftoverFile ? { leftoverFile: exported.leftoverFile } : {}) };
}
