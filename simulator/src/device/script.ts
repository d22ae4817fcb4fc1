// Just enough of the RouterOS scripting language for exported configs, /import and panic-revert scheduler scripts.

import { type Caller, executeCommand } from './commands';
import type { Device } from './device';
import { DIRECTORIES, menuByPath } from './menus';
import { matchesQuery } from './query';

export class ScriptError extends Error {
  readonly code = 'SCRIPT_ERROR';
}

function unquote(tok: string): string {
  if (!tok.startsWith('"')) return tok;
  return tok
    .slice(1, -1)
    .replace(/\\(n|r|t|"|\\|\$)/g, (_m, c: string) =>
      c === 'n' ? '\n' : c === 'r' ? '\r' : c === 't' ? '\t' : c,
    );
}

/** Split source into statements (newlines / `;`) and tokens, keeping quoted strings and [ ... ] intact. */
export function tokenize(source: string): string[][] {
  const text = source.replace(/\\\r?\n\s*/g, '');
  const statements: string[][] = [];
  let cur: string[] = [];
  let tok = '';
  let i = 0;
  const flush = () => {
    if (tok !== '') cur.push(tok);
    tok = '';
  };
  const end = () => {
    flush();
    if (cur.length) statements.push(cur);
    cur = [];
  };
  while (i < text.length) {
    const c = text[i] as string;
    if (c === '"') {
      let j = i + 1;
      while (j < text.length && text[j] !== '"') j += text[j] === '\\' ? 2 : 1;
      tok += text.slice(i, j + 1);
      i = j + 1;
    } else if (c === '[') {
      let depth = 0;
      let j = i;
      for (; j < text.length; j++) {
        if (text[j] === '[') depth++;
        else if (text[j] === ']' && --depth === 0) break;
      }
      tok += text.slice(i, j + 1);
      i = j + 1;
    } else if (c === '#' && tok === '' && cur.length === 0) {
      while (i < text.length && text[i] !== '\n') i++;
    } else if (c === '\n' || c === ';') {
      end();
      i++;
    } else if (c === ' ' || c === '\t' || c === '\r') {
      flush();
      i++;
    } else if (c === '{' || c === '}') {
      end();
      i++;
    } else {
      tok += c;
      i++;
    }
  }
  end();
  return statements;
}

function splitArg(tok: string): [string, string] | undefined {
  if (tok.startsWith('"') || tok.startsWith('[')) return undefined;
  const eq = tok.indexOf('=');
  if (eq <= 0) return undefined;
  return [tok.slice(0, eq), unquote(tok.slice(eq + 1))];
}

function findIds(dev: Device, path: string, expr: string): string {
  const m = menuByPath.get(path);
  if (!m) throw new ScriptError(`no such command prefix`);
  const inner = expr
    .slice(1, -1)
    .trim()
    .replace(/^find\s*/, '')
    .replace(/^where\s*/, '');
  const queries: string[] = [];
  for (const stmt of tokenize(inner))
    for (const t of stmt) {
      if (t === 'where') continue;
      const kv = splitArg(t);
      if (kv) queries.push(`?${kv[0]}=${kv[1]}`);
    }
  return dev
    .table(m.table)
    .rows.filter((r) => (!m.viewType || r.type === m.viewType) && matchesQuery(r, queries))
    .map((r) => r['.id'] ?? '')
    .join(',');
}

export function runScript(dev: Device, source: string, by: string): void {
  const user = dev.userByName(by) ?? dev.userByName('admin');
  const caller: Caller = {
    user: by,
    policies: user ? dev.policiesOf(user) : new Set(['read', 'write', 'reboot', 'policy', 'sensitive']),
  };
  let context = '';
  for (const stmt of tokenize(source)) {
    const first = stmt[0] ?? '';
    if (first.startsWith(':')) {
      if (first === ':log') dev.log(`script,${stmt[1] ?? 'info'}`, unquote(stmt[2] ?? ''));
      continue;
    }
    let path = context;
    let idx = 0;
    let cmd: string | undefined;
    while (idx < stmt.length) {
      let w = stmt[idx] as string;
      if (splitArg(w) || w.startsWith('[') || w.startsWith('"')) break;
      if (w.startsWith('/')) {
        path = '';
        w = w.slice(1);
      }
      for (const seg of w.split('/').filter((s) => s)) {
        const next = path ? `${path}/${seg}` : seg;
        if (cmd === undefined && DIRECTORIES.has(next)) path = next;
        else if (cmd === undefined) cmd = seg;
        else throw new ScriptError(`syntax error (${seg})`);
      }
      idx++;
      if (cmd !== undefined) break;
    }
    if (cmd === undefined) {
      context = path;
      continue;
    }
    const args = new Map<string, string>();
    for (const t of stmt.slice(idx)) {
      const kv = splitArg(t);
      if (kv) args.set(kv[0], kv[1]);
      else if (t.startsWith('[')) args.set('numbers', findIds(dev, path, t));
      else args.set(cmd === 'print' ? 'detail' : 'numbers', unquote(t));
    }
    if (['set', 'remove', 'enable', 'disable'].includes(cmd) && args.get('numbers') === '') continue;
    const outcome = executeCommand(dev, caller, {
      command: `/${path ? `${path}/` : ''}${cmd}`,
      args,
      queries: [],
    });
    if (outcome.kind === 'traps') throw new ScriptError(outcome.traps.map((t) => t.message).join(', '));
    if (outcome.kind === 'reboot') {
      dev.reboot();
      return;
    }
  }
}

export function installScripting(dev: Device): void {
  dev.runScript = (source, by) => {
    try {
      runScript(dev, source, by);
    } catch (e) {
      dev.log('script,error', `executing script failed: ${e instanceof Error ? e.message : String(e)}`);
      throw e;
    }
  };
}
