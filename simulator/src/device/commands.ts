// Command execution for one device: maps an API command word + attributes to rows, traps or a stream (PROTOCOL.md §7).

import { type Device, parseDurationMs } from './device';
import {
  liveClock,
  liveHealth,
  liveInterface,
  liveNeighbors,
  liveRegistrations,
  liveResource,
  liveRouterboard,
  liveTraffic,
} from './live';
import { DIRECTORIES, GENERIC_COMMANDS, type MenuDef, menuByPath, SINGLE_COMMANDS } from './menus';
import { matchesQuery, QueryError, type Row } from './query';

export interface Trap {
  message: string;
  category?: number;
}

export interface StreamControl {
  emit(row: Row): void;
  finish(ret?: string): void;
  trap(t: Trap): void;
}

export type CommandOutcome =
  | { kind: 'rows'; rows: Row[]; printLike: boolean; ret?: string }
  | { kind: 'traps'; traps: Trap[] }
  | { kind: 'stream'; start(ctl: StreamControl): () => void }
  | { kind: 'reboot' }
  | { kind: 'quit' };

export interface Caller {
  user: string;
  policies: ReadonlySet<string>;
}

export interface Request {
  command: string;
  args: Map<string, string>;
  queries: string[];
}

const trap = (message: string, category?: number): CommandOutcome => ({
  kind: 'traps',
  traps: [{ message, ...(category === undefined ? {} : { category }) }],
});
const noSuch = (what: string): CommandOutcome => ({
  kind: 'traps',
  traps: [
    { message: `no such command or directory (${what})`, category: 0 },
    { message: 'no such command prefix' },
  ],
});
const done = (ret?: string): CommandOutcome => ({
  kind: 'rows',
  rows: [],
  printLike: false,
  ...(ret === undefined ? {} : { ret }),
});
const PERM = 'not enough permissions (9)';
const PRINT_ARGS = new Set([
  '.proplist',
  'count-only',
  'detail',
  'stats',
  'follow',
  'follow-only',
  'interval',
  'without-paging',
  'terse',
  'brief',
  'as-value',
  'from',
  'value-list',
  'oid',
  'where',
  'show-ids',
  'stats-detail',
]);
const BOOL_FIELDS = new Set([
  'disabled',
  'vlan-filtering',
  'trusted',
  'allow-remote-requests',
  'dont-require-permissions',
  'time-zone-autodetect',
  'passthrough',
  'log',
  'auto-upgrade',
]);
const normBool = (k: string, v: string) =>
  BOOL_FIELDS.has(k) ? (v === 'yes' ? 'true' : v === 'no' ? 'false' : v) : v;

export function menuAvailable(dev: Device, m: MenuDef): boolean {
  if (m.path.startsWith('interface/wifi')) return dev.board.radio === 'wifi' && dev.traits.wifiMenu;
  if (m.path.startsWith('interface/wireless'))
    return dev.board.radio === 'wireless' || (dev.board.radio === 'wifi' && !dev.traits.wifiMenu);
  return true;
}

/** Rows of a menu as a client sees them (live values merged, internal fields dropped). */
export function menuRows(dev: Device, m: MenuDef, caller?: Caller): Row[] {
  let rows: Row[];
  switch (m.table) {
    case 'resource':
      rows = [liveResource(dev)];
      break;
    case 'routerboard':
      rows = [liveRouterboard(dev)];
      break;
    case 'clock':
      rows = [liveClock(dev, dev.table('clock').rows[0] ?? {})];
      break;
    case 'health':
      rows = liveHealth(dev);
      break;
    case 'wireless-reg':
      rows = liveRegistrations(dev, 'wireless');
      break;
    case 'wifi-reg':
      rows = liveRegistrations(dev, 'wifi');
      break;
    case 'neighbor':
      rows = liveNeighbors(dev);
      break;
    case 'interface':
      rows = dev
        .table('interface')
        .rows.filter((r) => !m.viewType || r.type === m.viewType)
        .map((r) => liveInterface(dev, r));
      break;
    case 'file':
      rows = dev.table('file').rows.map((r) => {
        const c = r.contents;
        const size = r._size ?? String(c === undefined ? 0 : Buffer.byteLength(c));
        const out: Row = { ...r, size };
        if (c !== undefined && c.length > 4095) delete out.contents;
        if (r.type === 'directory') delete out.size;
        return out;
      });
      break;
    default:
      rows = dev.table(m.table).rows;
  }
  const hideSensitive = caller !== undefined && !caller.policies.has('sensitive');
  return rows.map((r) => {
    const out: Row = {};
    for (const [k, v] of Object.entries(r)) {
      if (k.startsWith('_') || m.hidden?.includes(k)) continue;
      if (hideSensitive && m.sensitive?.includes(k)) continue;
      out[k] = v;
    }
    if (m.kind === 'single') delete out['.id'];
    return out;
  });
}

function project(row: Row, proplist: string[] | undefined): Row {
  if (!proplist) return row;
  const out: Row = {};
  for (const p of proplist) if (row[p] !== undefined) out[p] = row[p];
  return out;
}

function findRows(dev: Device, m: MenuDef, ids: string): Row[] | string {
  const t = dev.table(m.table);
  const out: Row[] = [];
  for (const id of ids.split(',')) {
    const row = t.rows.find(
      (r) =>
        (r['.id'] === id || (m.nameKey !== undefined && r[m.nameKey] === id)) &&
        (!m.viewType || r.type === m.viewType),
    );
    if (!row) return id;
    out.push(row);
  }
  return out;
}

function validateValues(dev: Device, m: MenuDef, values: Map<string, string>): CommandOutcome | undefined {
  for (const k of values.keys()) if (m.settable && !m.settable.includes(k)) return trap(`unknown parameter`);
  for (const ref of m.interfaceRefs ?? []) {
    const v = values.get(ref);
    if (v !== undefined && !dev.table('interface').rows.some((r) => r.name === v))
      return trap(`input does not match any value of ${ref}`, 1);
  }
  return undefined;
}

function derive(m: MenuDef, row: Row): void {
  if (m.table === 'ip-address' && row.address) {
    const [ip, bits] = row.address.split('/');
    const prefix = Number(bits ?? '32');
    const n = (ip ?? '').split('.').reduce((a, o) => (a << 8) + Number(o), 0) >>> 0;
    const net = prefix === 0 ? 0 : (n & (~0 << (32 - prefix))) >>> 0;
    row.network = [24, 16, 8, 0].map((s) => (net >>> s) & 0xff).join('.');
    if (!row.address.includes('/')) row.address += '/32';
    row['actual-interface'] = row.interface ?? '';
  }
}

function historyAction(m: MenuDef, verb: string): string {
  const noun = m.path.split('/').pop() ?? m.path;
  return `${noun} ${verb}`;
}

export function executeCommand(dev: Device, caller: Caller, req: Request): CommandOutcome {
  const word = req.command;
  if (word === '#') return done();
  if (!word.startsWith('/')) return noSuch(word);
  const parts = word
    .slice(1)
    .split('/')
    .filter((p) => p !== '');
  const cmd = parts.pop() ?? '';
  const path = parts.join('/');
  const root = rootCommand(dev, caller, path, cmd, req);
  if (root) return root;
  const m = menuByPath.get(path);
  if (!m || !menuAvailable(dev, m)) {
    if (!DIRECTORIES.has(path) || (m && !menuAvailable(dev, m))) {
      let known = '';
      for (const seg of parts) {
        const next = known ? `${known}/${seg}` : seg;
        const mm = menuByPath.get(next);
        if (!DIRECTORIES.has(next) || (mm && !menuAvailable(dev, mm))) return noSuch(seg);
        known = next;
      }
    }
    return noSuch(cmd);
  }
  const allowed = m.readonly
    ? ['print', 'getall', 'listen', 'get', 'export']
    : m.kind === 'single'
      ? SINGLE_COMMANDS
      : GENERIC_COMMANDS;
  if (!allowed.includes(cmd) && !(m.commands ?? []).includes(cmd)) return noSuch(cmd);
  const mutating = ![
    'print',
    'getall',
    'listen',
    'get',
    'export',
    'monitor-traffic',
    'monitor',
    'check-for-updates',
  ].includes(cmd);
  if (!caller.policies.has('read')) return trap(PERM);
  if (mutating && !caller.policies.has('write')) return trap(PERM);
  if (mutating && (m.path === 'user' || m.path === 'user/group') && !caller.policies.has('policy'))
    return trap(PERM);
  return menuCommand(dev, caller, m, cmd, req);
}

function menuCommand(dev: Device, caller: Caller, m: MenuDef, cmd: string, req: Request): CommandOutcome {
  const args = req.args;
  switch (cmd) {
    case 'print':
    case 'getall':
      return print(dev, caller, m, req);
    case 'listen':
      return listen(dev, caller, m, req, false);
    case 'get': {
      const name = args.get('value-name');
      let rows = menuRows(dev, m, caller);
      if (m.kind === 'list') {
        const id = args.get('number') ?? args.get('.id');
        if (id === undefined) return trap('missing value(s) of argument(s) number', 1);
        const found = findRows(dev, m, id);
        if (typeof found === 'string') return trap('no such item', 1);
        const ids = new Set(found.map((r) => r['.id']));
        rows = rows.filter((r) => ids.has(r['.id']));
      }
      const row = rows[0] ?? {};
      if (name === undefined) return done();
      if (!(name in row) && !(m.settable ?? []).includes(name)) return trap(`no such property (${name})`, 1);
      return done(row[name] ?? '');
    }
    case 'add':
      return add(dev, caller, m, args);
    case 'set':
    case 'unset':
    case 'enable':
    case 'disable':
    case 'remove':
    case 'comment':
      return modify(dev, caller, m, cmd, args);
    case 'move': {
      const nums = args.get('numbers') ?? args.get('.id');
      if (!nums) return trap('missing value(s) of argument(s) numbers', 1);
      const t = dev.table(m.table);
      const found = findRows(dev, m, nums);
      if (typeof found === 'string') return trap('no such item', 1);
      const dest = args.get('destination');
      for (const r of found) t.rows.splice(t.rows.indexOf(r), 1);
      let at = t.rows.length;
      if (dest !== undefined) {
        const d = findRows(dev, m, dest);
        if (typeof d === 'string') return trap('no such item', 1);
        at = t.rows.indexOf(d[0] as Row);
      }
      t.rows.splice(at, 0, ...found);
      dev.recordHistory(historyAction(m, 'moved'), caller.user);
      return done();
    }
    case 'export':
      return exportConfig(dev, caller, args, m);
    case 'reset-counters':
    case 'find':
      return done();
    default:
      return special(dev, caller, m, cmd, args);
  }
}

function print(dev: Device, caller: Caller, m: MenuDef, req: Request): CommandOutcome {
  for (const k of req.args.keys()) if (!PRINT_ARGS.has(k)) return trap('unknown parameter');
  const proplist = req.args
    .get('.proplist')
    ?.split(',')
    .filter((p) => p !== '');
  const select = (): Row[] | CommandOutcome => {
    try {
      return menuRows(dev, m, caller).filter((r) => matchesQuery(r, req.queries));
    } catch (e) {
      if (e instanceof QueryError) return trap(e.message, 1);
      throw e;
    }
  };
  const rows = select();
  if (!Array.isArray(rows)) return rows;
  if (req.args.has('count-only')) return done(String(rows.length));
  if (req.args.has('follow') || req.args.has('follow-only'))
    return listen(dev, caller, m, req, !req.args.has('follow-only'));
  const interval = req.args.get('interval');
  if (interval !== undefined) {
    const ms = Math.max(100, parseDurationMs(interval));
    return {
      kind: 'stream',
      start(ctl) {
        let timer = dev.clock.setTimer(0, tick);
        function tick(): void {
          const r = select();
          if (Array.isArray(r)) for (const row of r) ctl.emit(project(row, proplist));
          timer = dev.clock.setTimer(ms, tick);
        }
        return () => timer.cancel();
      },
    };
  }
  return { kind: 'rows', rows: rows.map((r) => project(r, proplist)), printLike: true };
}

function listen(dev: Device, caller: Caller, m: MenuDef, req: Request, initial: boolean): CommandOutcome {
  const proplist = req.args
    .get('.proplist')
    ?.split(',')
    .filter((p) => p !== '');
  return {
    kind: 'stream',
    start(ctl) {
      if (initial)
        for (const r of menuRows(dev, m, caller).filter((r) => matchesQuery(r, req.queries)))
          ctl.emit(project(r, proplist));
      return dev.onChange((table, row, dead) => {
        if (table !== m.table || (m.viewType && row.type !== m.viewType)) return;
        if (dead) {
          ctl.emit({ '.id': row['.id'] ?? '', '.dead': 'true' });
          return;
        }
        const shown = menuRows(dev, m, caller).find((r) => r['.id'] === row['.id']) ?? row;
        if (matchesQuery(shown, req.queries)) ctl.emit(project(shown, proplist));
      });
    },
  };
}

function add(dev: Device, caller: Caller, m: MenuDef, args: Map<string, string>): CommandOutcome {
  const values = new Map([...args].filter(([k]) => k !== 'place-before' && k !== 'copy-from'));
  const bad = validateValues(dev, m, values);
  if (bad) return bad;
  const missing = (m.required ?? []).filter((k) => !values.get(k));
  if (missing.length) return trap(`missing value(s) of argument(s) ${missing.join(' ')}`, 1);
  const t = dev.table(m.table);
  if (m.nameKey) {
    const name = values.get(m.nameKey);
    const pool = m.table === 'interface' ? t.rows : t.rows;
    if (name && pool.some((r) => r[m.nameKey as string] === name))
      return trap(
        m.table === 'interface'
          ? 'failure: already have interface with such name'
          : `failure: ${m.path.split('/').pop()} with such name already exists`,
      );
  }
  const row: Row = { ...(m.defaults ?? {}) };
  for (const [k, v] of values) row[k] = normBool(k, v);
  if (m.viewType) {
    const slot = 32 + t.rows.length;
    Object.assign(row, {
      type: m.viewType,
      'actual-mtu': row.mtu === 'auto' ? '1500' : (row.mtu ?? '1500'),
      'mac-address': dev.mac(slot),
      running: 'true',
      disabled: row.disabled ?? 'false',
      _slot: String(slot),
    });
    if (m.viewType === 'wg')
      row['public-key'] =
        Buffer.from(`${dev.index}:${row.name}`).toString('base64').padEnd(43, 'A').slice(0, 43) + '=';
  }
  if (m.table === 'scheduler') {
    const now = dev.clock.now();
    row.owner = caller.user;
    if (!row['start-time']) row['start-time'] = dev.date(now).split(' ')[1] ?? '00:00:00';
    if (!row['start-date'] && row['start-time'] !== 'startup')
      row['start-date'] = dev.date(now).split(' ')[0] ?? '';
  }
  if (m.table === 'script') row.owner = caller.user;
  derive(m, row);
  const before = args.get('place-before');
  const full: Row = { '.id': dev.newId(t), ...row };
  if (before !== undefined) {
    const d = findRows(dev, m, before);
    if (typeof d === 'string') return trap('no such item', 1);
    t.rows.splice(t.rows.indexOf(d[0] as Row), 0, full);
  } else t.rows.push(full);
  dev.notify(m.table, full, false);
  if (m.table === 'scheduler') dev.armScheduler(full);
  if (m.history) dev.recordHistory(historyAction(m, 'added'), caller.user);
  return done(full['.id']);
}

function modify(
  dev: Device,
  caller: Caller,
  m: MenuDef,
  cmd: string,
  args: Map<string, string>,
): CommandOutcome {
  let targets: Row[];
  if (m.kind === 'single') targets = dev.table(m.table).rows.slice(0, 1);
  else {
    const ids = args.get('.id') ?? args.get('numbers');
    if (ids === undefined) return trap('missing value(s) of argument(s) numbers', 1);
    const found = findRows(dev, m, ids);
    if (typeof found === 'string') return trap('no such item', 1);
    targets = found;
  }
  const values = new Map([...args].filter(([k]) => k !== '.id' && k !== 'numbers'));
  if (cmd === 'set') {
    const bad = validateValues(dev, m, values);
    if (bad) return bad;
    if (m.nameKey && values.has(m.nameKey)) {
      const name = values.get(m.nameKey);
      if (dev.table(m.table).rows.some((r) => r[m.nameKey as string] === name && !targets.includes(r)))
        return trap(
          m.table === 'interface'
            ? 'failure: already have interface with such name'
            : `failure: ${m.path.split('/').pop()} with such name already exists`,
        );
    }
  }
  const t = dev.table(m.table);
  for (const row of targets) {
    if (cmd === 'remove') {
      if (
        row.default === 'true' ||
        row['default-name'] !== undefined ||
        row.dynamic === 'true' ||
        m.kind === 'single'
      )
        return trap('failure: can not remove default or dynamic item');
      t.rows.splice(t.rows.indexOf(row), 1);
      if (m.table === 'scheduler') dev.disarmScheduler(row['.id'] ?? '');
      dev.notify(m.table, row, true);
      continue;
    }
    if (cmd === 'set') for (const [k, v] of values) row[k] = normBool(k, v);
    else if (cmd === 'unset') {
      const name = values.get('value-name');
      if (name) delete row[name];
    } else if (cmd === 'comment') row.comment = values.get('comment') ?? '';
    else row.disabled = cmd === 'disable' ? 'true' : 'false';
    derive(m, row);
    if (m.table === 'scheduler') dev.armScheduler(row);
    dev.notify(m.table, row, false);
  }
  if (m.history) dev.recordHistory(historyAction(m, cmd === 'remove' ? 'removed' : 'changed'), caller.user);
  return done();
}

function special(
  dev: Device,
  caller: Caller,
  m: MenuDef,
  cmd: string,
  args: Map<string, string>,
): CommandOutcome {
  if (m.path === 'system/package/update') {
    const u = dev.table('update').rows[0] as Row;
    if (cmd === 'check-for-updates') {
      const base = { channel: u.channel ?? 'stable', 'installed-version': dev.version };
      const ok = !dev.updateStatus.startsWith('ERROR');
      const latest = dev.latestVersion();
      u.status = dev.updateStatus;
      if (ok) u['latest-version'] = latest;
      return {
        kind: 'rows',
        printLike: false,
        rows: [
          { '.section': '0', ...base, status: 'finding out latest version...' },
          { '.section': '1', ...base, ...(ok ? { 'latest-version': latest } : {}), status: dev.updateStatus },
        ],
      };
    }
    if (!u['latest-version']) return trap('ERROR: no new version available, run check-for-updates first');
    dev.pendingVersion = u['latest-version'];
    u.status = 'Downloaded, please reboot router to upgrade it';
    dev.log('system,info', `downloaded ${u['latest-version']}`);
    if (cmd === 'download')
      return {
        kind: 'rows',
        printLike: false,
        rows: [
          {
            '.section': '0',
            status: 'Downloading...',
            'installed-version': dev.version,
            'latest-version': u['latest-version'] ?? '',
          },
          { '.section': '1', status: u.status },
        ],
      };
    return { kind: 'reboot' };
  }
  if (m.path === 'system/script' && cmd === 'run') {
    const id = args.get('number') ?? args.get('.id');
    if (!id) return trap('missing value(s) of argument(s) number', 1);
    const found = findRows(dev, m, id);
    if (typeof found === 'string') return trap('no such item', 1);
    for (const s of found) {
      s['run-count'] = String(Number(s['run-count'] ?? '0') + 1);
      s['last-started'] = dev.date(dev.clock.now());
      try {
        dev.runScript(s.source ?? '', caller.user);
      } catch (e) {
        return trap(e instanceof Error ? e.message : String(e), 3);
      }
    }
    return done();
  }
  if (m.path === 'log') {
    dev.log(`script,${cmd}`, args.get('message') ?? '');
    return done();
  }
  if (m.path === 'interface' && cmd === 'monitor-traffic') {
    const names = (args.get('interface') ?? '').split(',').filter((n) => n);
    if (names.length === 0) return trap('missing value(s) of argument(s) interface', 1);
    const rows = dev.table('interface').rows;
    for (const n of names)
      if (n !== 'aggregate' && !rows.some((r) => r.name === n))
        return trap('input does not match any value of interface', 1);
    const sample = () =>
      names.map((n) => liveTraffic(dev, rows.find((r) => r.name === n) ?? { name: n, running: 'true' }));
    if (args.has('once')) return { kind: 'rows', rows: sample(), printLike: false };
    const proplist = args.get('.proplist')?.split(',');
    return {
      kind: 'stream',
      start(ctl) {
        let section = 0;
        let timer = dev.clock.setTimer(0, tick);
        function tick(): void {
          for (const r of sample()) ctl.emit({ ...project(r, proplist), '.section': String(section) });
          section++;
          timer = dev.clock.setTimer(1000, tick);
        }
        return () => timer.cancel();
      },
    };
  }
  if (cmd === 'make-static') return done();
  if (cmd === 'upgrade') return done();
  if (cmd === 'read') return trap('unknown parameter');
  if (cmd === 'monitor')
    return {
      kind: 'rows',
      rows: [{ status: 'link-ok', rate: '1Gbps', 'full-duplex': 'true' }],
      printLike: false,
    };
  return noSuch(cmd);
}

function rootCommand(
  dev: Device,
  caller: Caller,
  path: string,
  cmd: string,
  req: Request,
): CommandOutcome | undefined {
  const args = req.args;
  if (path === '' && cmd === 'quit') return { kind: 'quit' };
  if (path === '' && cmd === 'export') return exportConfig(dev, caller, args);
  if (path === '' && cmd === 'import') {
    if (!caller.policies.has('write')) return trap(PERM);
    const name = args.get('file-name');
    if (!name) return trap('missing value(s) of argument(s) file-name', 1);
    const f = dev.table('file').rows.find((r) => r.name === name || r.name === `${name}.rsc`);
    if (!f) return trap('no such file', 1);
    try {
      dev.runScript(f.contents ?? '', caller.user);
    } catch (e) {
      return trap(e instanceof Error ? e.message : String(e), 3);
    }
    return done();
  }
  if (path === 'system' && cmd === 'reboot') {
    if (!caller.policies.has('reboot')) return trap(PERM);
    return { kind: 'reboot' };
  }
  if (path === 'system/backup' && (cmd === 'save' || cmd === 'load')) {
    if (!caller.policies.has('write')) return trap(PERM);
    let name = args.get('name') ?? `${dev.identity}-${dev.date(dev.clock.now()).replace(/[ :/]/g, '')}`;
    if (cmd === 'save') {
      if (!name.endsWith('.backup')) name += '.backup';
      writeFile(dev, name, 'backup', undefined, dev.snapshot());
      return done();
    }
    const f = dev.table('file').rows.find((r) => r.name === name || r.name === `${name}.backup`);
    if (!f?._snapshot) return trap('no such file', 1);
    dev.restore(f._snapshot);
    return { kind: 'reboot' };
  }
  if (path === 'system' && cmd === 'reset-configuration') return trap('not supported by simulator', 4);
  return undefined;
}

export function writeFile(
  dev: Device,
  name: string,
  type: string,
  contents: string | undefined,
  snapshot?: string,
): void {
  const t = dev.table('file');
  const now = dev.date(dev.clock.now());
  let f = t.rows.find((r) => r.name === name);
  if (!f) {
    f = { '.id': dev.newId(t), name, type, 'creation-time': now };
    t.rows.push(f);
  }
  f.type = type;
  if (dev.traits.major >= 7) f['last-modified'] = now;
  if (contents !== undefined) f.contents = contents;
  if (snapshot !== undefined) {
    f._snapshot = snapshot;
    f._size = String(snapshot.length);
  }
  dev.notify('file', f, false);
}

const quote = (v: string) =>
  /^[A-Za-z0-9_.,:/*+@-]+$/.test(v)
    ? v
    : `"${v.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\$/g, '\\$').replace(/\r?\n/g, '\\n')}"`;
const SKIP_EXPORT = new Set([
  '.id',
  'dynamic',
  'invalid',
  'running',
  'actual-mtu',
  'mac-address',
  'actual-interface',
  'network',
  'run-count',
  'next-run',
  'owner',
  'last-started',
  'bytes',
  'packets',
  'default',
  'type',
  'l2mtu',
  'max-l2mtu',
  'link-downs',
  'default-name',
  'public-key',
  'active',
  'static',
  'status',
  'last-link-up-time',
]);

/** /export text as RouterOS writes it; 7.x hides secrets unless show-sensitive, 6.x shows them unless hide-sensitive. */
export function renderExport(dev: Device, opts: { showSensitive: boolean; only?: MenuDef }): string {
  const now = dev.clock.now();
  const lines = [
    `# ${dev.date(now)} by RouterOS ${dev.version}`,
    `# software id = ${dev.softwareId}`,
    '#',
    `# model = ${dev.board.model}`,
    `# serial number = ${dev.serial}`,
  ];
  for (const m of [...menuByPath.values()]) {
    if (!m.exportAs || !menuAvailable(dev, m) || (opts.only && opts.only !== m)) continue;
    const rows = dev
      .table(m.table)
      .rows.filter((r) => (!m.viewType || r.type === m.viewType) && r.dynamic !== 'true');
    const body: string[] = [];
    for (const r of rows) {
      const props = Object.entries(r)
        .filter(
          ([k, v]) =>
            !k.startsWith('_') &&
            !SKIP_EXPORT.has(k) &&
            !(k === 'disabled' && v === 'false') &&
            (m.defaults?.[k] !== v || k === 'name'),
        )
        .filter(([k]) => opts.showSensitive || !m.sensitive?.includes(k))
        .map(([k, v]) => `${k}=${quote(v === 'true' ? 'yes' : v === 'false' ? 'no' : v)}`);
      if (m.kind === 'single') {
        if (props.length) body.push(`set ${props.join(' ')}`);
      } else if (r.default === 'true' || m.path === 'ip/service') {
        const key = m.nameKey ? `[ find ${m.nameKey}=${quote(r[m.nameKey] ?? '')} ]` : `[ find default=yes ]`;
        const changed = props.filter(
          (p) =>
            !p.startsWith(`${m.nameKey}=`) &&
            !p.startsWith('port=') &&
            !p.startsWith('address=""') &&
            !p.startsWith('topics=') &&
            !p.startsWith('action=') &&
            !p.startsWith('mode=') &&
            !p.startsWith('authentication-types=') &&
            !p.startsWith('wpa2-pre-shared-key=') &&
            !p.startsWith('certificate=') &&
            !p.startsWith('tls-version='),
        );
        if (changed.length) body.push(`set ${key} ${changed.join(' ')}`);
      } else body.push(`add ${props.join(' ')}`);
    }
    if (body.length) lines.push(m.exportAs, ...body);
  }
  return `${lines.join('\n')}\n`;
}

function exportConfig(
  dev: Device,
  caller: Caller,
  args: Map<string, string>,
  only?: MenuDef,
): CommandOutcome {
  if (!caller.policies.has('read')) return trap(PERM);
  const showSensitive =
    caller.policies.has('sensitive') &&
    (dev.traits.exportHidesSensitive ? args.has('show-sensitive') : !args.has('hide-sensitive'));
  const text = renderExport(dev, { showSensitive, ...(only ? { only } : {}) });
  const file = args.get('file');
  if (file) writeFile(dev, file.endsWith('.rsc') ? file : `${file}.rsc`, 'script', text);
  return done();
}
