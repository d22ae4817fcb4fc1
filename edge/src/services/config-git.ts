// A tenant's configuration history as a git repository (issue #8: MSPs already keep router configs in git,
// e.g. with Oxidized): one commit per stored snapshot in time order, one `<device>.rsc` file per device.
// Written as a git bundle (v2 header + a packfile of whole objects), which `git clone history.bundle` reads
// directly. Built with Web Crypto (SHA-1 object ids) and CompressionStream, so it runs in workerd.
import { configSnapshots, devices } from '@tod/drizzle/schema';
import { asc, eq } from 'drizzle-orm';
import { snapshotText } from './config-backups';
import type { Envelope } from './envelope';

const enc = new TextEncoder();

function concat(parts: readonly Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}

const hex = (b: Uint8Array) => [...b].map((x) => x.toString(16).padStart(2, '0')).join('');

async function sha1(data: Uint8Array): Promise<Uint8Array> {
  return new Uint8Array(await crypto.subtle.digest('SHA-1', data as unknown as ArrayBuffer));
}

async function deflate(data: Uint8Array): Promise<Uint8Array> {
  // 'deflate' is the zlib format (RFC 1950) git's packfiles use.
  const stream = new Blob([data as unknown as ArrayBuffer])
    .stream()
    .pipeThrough(new CompressionStream('deflate'));
  return new Uint8Array(await new Response(stream).arrayBuffer());
}

type ObjectType = 'commit' | 'tree' | 'blob';
const PACK_TYPE: Record<ObjectType, number> = { commit: 1, tree: 2, blob: 3 };

interface GitObject {
  type: ObjectType;
  body: Uint8Array;
  id: Uint8Array;
}

/** Collects objects once each (identical blobs and trees are shared) in the order they are made. */
class ObjectStore {
  readonly objects: GitObject[] = [];
  private readonly seen = new Set<string>();

  async add(type: ObjectType, body: Uint8Array): Promise<Uint8Array> {
    const id = await sha1(concat([enc.encode(`${type} ${body.length}\0`), body]));
    const key = hex(id);
    if (!this.seen.has(key)) {
      this.seen.add(key);
      this.objects.push({ type, body, id });
    }
    return id;
  }
}

/** A tree of plain files (mode 100644); git orders entries by name bytes. */
function treeBody(files: Map<string, Uint8Array>): Uint8Array {
  const names = [...files.keys()].sort((a, b) => compareBytes(enc.encode(a), enc.encode(b)));
  return concat(names.flatMap((n) => [enc.encode(`100644 ${n}\0`), files.get(n) as Uint8Array]));
}

function compareBytes(a: Uint8Array, b: Uint8Array): number {
  for (let i = 0; i < Math.min(a.length, b.length); i++)
    if (a[i] !== b[i]) return (a[i] as number) - (b[i] as number);
  return a.length - b.length;
}

function packHeader(type: ObjectType, size: number): Uint8Array {
  const bytes: number[] = [];
  let b = (PACK_TYPE[type] << 4) | (size & 0x0f);
  let rest = Math.floor(size / 16);
  while (rest > 0) {
    bytes.push(b | 0x80);
    b = rest & 0x7f;
    rest = Math.floor(rest / 128);
  }
  bytes.push(b);
  return new Uint8Array(bytes);
}

async function packfile(objects: readonly GitObject[]): Promise<Uint8Array> {
  const header = new Uint8Array(12);
  header.set(enc.encode('PACK'));
  const view = new DataView(header.buffer);
  view.setUint32(4, 2);
  view.setUint32(8, objects.length);
  const parts: Uint8Array[] = [header];
  for (const o of objects) parts.push(packHeader(o.type, o.body.length), await deflate(o.body));
  const body = concat(parts);
  return concat([body, await sha1(body)]);
}

/** File name of a device in the repository: its name made path-safe, plus its id so two devices that share
 * a name do not collide. */
export function deviceFileName(name: string, id: string): string {
  const safe = name.replace(/[^A-Za-z0-9._-]+/g, '_').replace(/^[._]+/, '') || 'device';
  return `${safe}-${id.slice(0, 8)}.rsc`;
}

export interface HistoryBundle {
  bundle: Uint8Array;
  commits: number;
  head: string | null;
}

/** Every snapshot of the tenant (including sensitive ones: the caller checks the role) as a git bundle with
 * branch `main`. Commit times are the snapshots' export times. */
export async function buildHistoryBundle(env: Envelope): Promise<HistoryBundle> {
  const rows = await env.tx
    .select({ snapshot: configSnapshots, deviceName: devices.name })
    .from(configSnapshots)
    .innerJoin(devices, eq(devices.id, configSnapshots.deviceId))
    .where(eq(configSnapshots.tenantId, env.tenantId))
    .orderBy(asc(configSnapshots.takenAt), asc(configSnapshots.deviceId), asc(configSnapshots.seq));
  const store = new ObjectStore();
  const files = new Map<string, Uint8Array>();
  let parent: string | null = null;
  for (const { snapshot, deviceName } of rows) {
    const text = await snapshotText(env, snapshot);
    files.set(deviceFileName(deviceName, snapshot.deviceId), await store.add('blob', enc.encode(text)));
    const tree = await store.add('tree', treeBody(files));
    const when = `${Math.floor(snapshot.takenAt.getTime() / 1000)} +0000`;
    const lines = [
      `tree ${hex(tree)}`,
      ...(parent ? [`parent ${parent}`] : []),
      `author TOD <tod@localhost> ${when}`,
      `committer TOD <tod@localhost> ${when}`,
      '',
      `${deviceName}: version ${snapshot.seq} (${snapshot.trigger})`,
      '',
      `Snapshot ${snapshot.id}, RouterOS ${snapshot.routerosVersion ?? 'unknown'}, sha256 ${snapshot.contentHash}.`,
      '',
    ];
    parent = hex(await store.add('commit', enc.encode(lines.join('\n'))));
  }
  const refs = parent ? `${parent} HEAD\n${parent} refs/heads/main\n` : '';
  const bundle = concat([enc.encode(`# v2 git bundle\n${refs}\n`), await packfile(store.objects)]);
  return { bundle, commits: rows.length, head: parent };
}
