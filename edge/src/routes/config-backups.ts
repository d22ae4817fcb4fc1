// /api/devices/:id/config/snapshots: a device's configuration history (issue #8): list, download one version
// as text, and diff two versions (unified and side by side). Snapshots are written by the TenantHub from
// collector events (services/config-backups.ts), not through this API. A viewer sees the history but cannot
// read the content of a snapshot exported with secrets, neither as a download nor through a diff.
import {
  type ConfigDiff,
  ConfigDiffQuery,
  ConfigSnapshotListQuery,
  sideBySide,
  unifiedDiff,
} from '@tod/contracts';
import { devices } from '@tod/drizzle/schema';
import { and, eq } from 'drizzle-orm';
import { Hono } from 'hono';
import type { AppEnv } from '../env';
import { ApiError } from '../errors';
import { inTenant, requireRole, type TenantScope } from '../middleware/auth';
import {
  ConfigBackupError,
  getSnapshot,
  listSnapshots,
  snapshotDto,
  snapshotText,
} from '../services/config-backups';
import { buildHistoryBundle } from '../services/config-git';
import { pathId, readQuery } from '../validate';

export const configBackupsRoute = new Hono<AppEnv>();

async function requireDevice(s: TenantScope, deviceId: string): Promise<{ name: string }> {
  const [d] = await s.tx
    .select({ name: devices.name })
    .from(devices)
    .where(and(eq(devices.tenantId, s.tenantId), eq(devices.id, deviceId)));
  if (!d) throw new ApiError(404, 'not_found', 'device not found');
  return d;
}

async function snapshotOr404(s: TenantScope, deviceId: string, snapshotId: string) {
  try {
    return await getSnapshot(s.envelope, deviceId, snapshotId);
  } catch (err) {
    if (err instanceof ConfigBackupError && err.code === 'snapshot_not_found')
      throw new ApiError(404, 'not_found', 'snapshot not found');
    throw err;
  }
}

function mayReadSensitive(s: TenantScope): boolean {
  return s.principal.role !== 'viewer';
}

function refuseSensitive(): never {
  throw new ApiError(
    403,
    'forbidden',
    'this snapshot contains sensitive values (passwords, keys); reading it requires the operator role',
  );
}

configBackupsRoute.get('/:id/config/snapshots', requireRole('viewer'), async (c) => {
  const deviceId = pathId(c);
  const q = readQuery(c, ConfigSnapshotListQuery);
  const page = await inTenant(c, async (s) => {
    await requireDevice(s, deviceId);
    return listSnapshots(s.envelope, deviceId, { limit: q.limit, ...(q.before ? { before: q.before } : {}) });
  });
  return c.json(page);
});

// Registered before /:sid so `diff` is not taken for a snapshot id.
configBackupsRoute.get('/:id/config/snapshots/diff', requireRole('viewer'), async (c) => {
  const deviceId = pathId(c);
  const q = readQuery(c, ConfigDiffQuery);
  const diff = await inTenant(c, async (s) => {
    await requireDevice(s, deviceId);
    const from = await snapshotOr404(s, deviceId, q.from.toLowerCase());
    const to = await snapshotOr404(s, deviceId, q.to.toLowerCase());
    if ((from.sensitive || to.sensitive) && !mayReadSensitive(s)) refuseSensitive();
    const [a, b] = [await snapshotText(s.envelope, from), await snapshotText(s.envelope, to)];
    const rows = sideBySide(a, b);
    return {
      from: snapshotDto(from),
      to: snapshotDto(to),
      unified: unifiedDiff(a, b, { oldName: `v${from.seq}`, newName: `v${to.seq}`, context: q.context }),
      sideBySide: rows,
      stats: {
        added: rows.filter((r) => r.right && r.kind !== 'equal').length,
        removed: rows.filter((r) => r.left && r.kind !== 'equal').length,
      },
    } satisfies ConfigDiff;
  });
  return c.json(diff);
});

configBackupsRoute.get('/:id/config/snapshots/:sid', requireRole('viewer'), async (c) => {
  const deviceId = pathId(c);
  const snapshotId = pathId(c, 'sid');
  const out = await inTenant(c, async (s) => {
    const device = await requireDevice(s, deviceId);
    const row = await snapshotOr404(s, deviceId, snapshotId);
    if (row.sensitive) {
      if (!mayReadSensitive(s)) refuseSensitive();
      // Reading secrets is worth a trace; the audit entry names the version, never the content.
      await s.audit({
        action: 'config_snapshot.download',
        targetType: 'device',
        targetId: deviceId,
        details: { snapshotId: row.id, seq: row.seq, sensitive: true },
      });
    }
    return { text: await snapshotText(s.envelope, row), device, seq: row.seq };
  });
  const file = `${out.device.name.replace(/[^A-Za-z0-9._-]+/g, '_')}-v${out.seq}.rsc`;
  return c.body(out.text, 200, {
    'content-type': 'text/plain; charset=utf-8',
    'content-disposition': `attachment; filename="${file}"`,
    'cache-control': 'no-store',
  });
});

/** /api/config-backups: tenant-wide views of the history. */
export const configHistoryRoute = new Hono<AppEnv>();

// The whole history as a git bundle (`git clone history.bundle`). It holds every version, sensitive ones
// included, so it needs the operator role, and every export is audited.
configHistoryRoute.get('/history.bundle', requireRole('operator'), async (c) => {
  const out = await inTenant(c, async (s) => {
    const history = await buildHistoryBundle(s.envelope);
    if (history.commits === 0)
      throw new ApiError(404, 'not_found', 'this tenant has no configuration snapshots yet');
    await s.audit({
      action: 'config_history.export',
      targetType: 'tenant',
      targetId: s.tenantId,
      details: { commits: history.commits, head: history.head },
    });
    return { history, tenantId: s.tenantId };
  });
  return c.body(out.history.bundle as unknown as ArrayBuffer, 200, {
    'content-type': 'application/x-git-bundle',
    'content-disposition': `attachment; filename="tod-config-history-${out.tenantId.slice(0, 8)}.bundle"`,
    'cache-control': 'no-store',
  });
});
