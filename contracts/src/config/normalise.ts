// Normalises a RouterOS `/export` so only configuration counts as a change, hashes it, and diffs two versions.
// Runs in the collector (Node), the edge (workerd) and the browser: Web Crypto only, no runtime imports.

/** Comment lines RouterOS prints that change without any configuration change. Oxidized's RouterOS model drops
 * the same set (date header, transient interface/firmware remarks); serial number and software id are dropped
 * too, so a replaced board running the restored configuration is not a change. `# model =` stays: it is stable
 * per device and tells the reader which hardware the export belongs to. */
const VOLATILE_LINES: readonly RegExp[] = [
  // v6 `# jan/02/2025 10:01:22 by RouterOS 6.49.10`, v7 `# 2025-01-02 10:01:22 by RouterOS 7.16.2`
  /^#\s*\S+\s+\S+\s+by RouterOS\b.*$/,
  /^#\s*software id\s*=.*$/,
  /^#\s*serial number\s*=.*$/,
  /^#\s*inactive time$/,
  /^#\s*\S+ not ready$/,
  /^#\s*Interface not running$/,
  /^#\s*poe-out status: short_circuit$/,
  /^#\s*received packet from \S+ bad format$/,
  /^#\s*Firmware upgraded successfully, please reboot for changes to take effect!$/,
];

/** Lines of an export after joining RouterOS's `\` line continuations (`\` at the end, next line indented). */
function joinContinuations(lines: readonly string[]): string[] {
  const out: string[] = [];
  let pending: string | undefined;
  for (const raw of lines) {
    const line = pending === undefined ? raw : pending + raw.replace(/^\s+/, '');
    // An odd number of trailing backslashes is a continuation; an even number is an escaped backslash.
    const trailing = /\\+$/.exec(line)?.[0].length ?? 0;
    if (trailing % 2 === 1) {
      pending = line.slice(0, -1);
      continue;
    }
    pending = undefined;
    out.push(line);
  }
  if (pending !== undefined) out.push(pending);
  return out;
}

/** The export as TOD stores and compares it: LF line ends, continuations joined, trailing whitespace and
 * volatile comments removed, no leading or trailing blank lines, one final newline. */
export function normaliseExport(text: string): string {
  const lines = joinContinuations(text.replace(/\r\n?/g, '\n').split('\n'))
    .map((l) => l.replace(/\s+$/, ''))
    .filter((l) => !VOLATILE_LINES.some((re) => re.test(l)));
  while (lines.length && lines[0] === '') lines.shift();
  while (lines.length && lines[lines.length - 1] === '') lines.pop();
  // A header reduced to a lone `#` separator carries nothing.
  while (lines.length && lines[0] === '#') lines.shift();
  return lines.length ? `${lines.join('\n')}\n` : '';
}

/** Lowercase hex SHA-256 of the UTF-8 text (pass the normalised export). */
export async function contentHash(text: string): Promise<string> {
  const digest = await crypto.subtle.digest('SHA-256', new TextEncoder().encode(text));
  return [...new Uint8Array(digest)].map((b) => b.toString(16).padStart(2, '0')).join('');
}

// ---------------------------------------------------------------------------------------------------------
// Line diff (Myers, O((N+M)·D)): exports are thousands of lines with a handful of changes.

export type DiffOp =
  | { op: 'equal'; oldLine: number; newLine: number; text: string }
  | { op: 'delete'; oldLine: number; text: string }
  | { op: 'insert'; newLine: number; text: string };

/** Text split into lines without the final newline's empty tail. */
export function splitLines(text: string): string[] {
  if (text === '') return [];
  const lines = text.split('\n');
  if (lines[lines.length - 1] === '') lines.pop();
  return lines;
}

/** Edit script turning `a` into `b`, line numbers 1-based. Deletions come before insertions in a change. */
export function diffLines(a: readonly string[], b: readonly string[]): DiffOp[] {
  // Common prefix and suffix first: the usual case is a few changed lines in a long file.
  let start = 0;
  while (start < a.length && start < b.length && a[start] === b[start]) start++;
  let endA = a.length;
  let endB = b.length;
  while (endA > start && endB > start && a[endA - 1] === b[endB - 1]) {
    endA--;
    endB--;
  }
  const middle = myers(a.slice(start, endA), b.slice(start, endB));
  const ops: DiffOp[] = [];
  for (let i = 0; i < start; i++)
    ops.push({ op: 'equal', oldLine: i + 1, newLine: i + 1, text: a[i] as string });
  for (const m of middle) {
    if (m.op === 'equal')
      ops.push({
        op: 'equal',
        oldLine: m.i + start + 1,
        newLine: m.j + start + 1,
        text: a[m.i + start] as string,
      });
    else if (m.op === 'delete')
      ops.push({ op: 'delete', oldLine: m.i + start + 1, text: a[m.i + start] as string });
    else ops.push({ op: 'insert', newLine: m.j + start + 1, text: b[m.j + start] as string });
  }
  for (let k = 0; endA + k < a.length; k++)
    ops.push({ op: 'equal', oldLine: endA + k + 1, newLine: endB + k + 1, text: a[endA + k] as string });
  return ops;
}

type RawOp = { op: 'equal' | 'delete' | 'insert'; i: number; j: number };

function myers(a: readonly string[], b: readonly string[]): RawOp[] {
  const n = a.length;
  const m = b.length;
  const max = n + m;
  if (max === 0) return [];
  const offset = max;
  const v = new Int32Array(2 * max + 2);
  const trace: Int32Array[] = [];
  let found = false;
  for (let d = 0; d <= max && !found; d++) {
    trace.push(v.slice());
    for (let k = -d; k <= d; k += 2) {
      let x =
        k === -d || (k !== d && (v[offset + k - 1] as number) < (v[offset + k + 1] as number))
          ? (v[offset + k + 1] as number)
          : (v[offset + k - 1] as number) + 1;
      let y = x - k;
      while (x < n && y < m && a[x] === b[y]) {
        x++;
        y++;
      }
      v[offset + k] = x;
      if (x >= n && y >= m) {
        found = true;
        break;
      }
    }
  }
  // Walk the trace back from (n, m) to (0, 0).
  const ops: RawOp[] = [];
  let x = n;
  let y = m;
  for (let d = trace.length - 1; d >= 0; d--) {
    const vd = trace[d] as Int32Array;
    const k = x - y;
    const prevK =
      k === -d || (k !== d && (vd[offset + k - 1] as number) < (vd[offset + k + 1] as number))
        ? k + 1
        : k - 1;
    const prevX = d === 0 ? 0 : (vd[offset + prevK] as number);
    const prevY = prevX - prevK;
    while (x > prevX && y > prevY) {
      x--;
      y--;
      ops.push({ op: 'equal', i: x, j: y });
    }
    if (d > 0) {
      if (x === prevX) ops.push({ op: 'insert', i: x, j: prevY });
      else ops.push({ op: 'delete', i: prevX, j: y });
    }
    x = prevX;
    y = prevY;
  }
  ops.reverse();
  // Myers interleaves deletes and inserts inside a change; readers expect the old lines first.
  const out: RawOp[] = [];
  let dels: RawOp[] = [];
  let ins: RawOp[] = [];
  const flush = () => {
    out.push(...dels, ...ins);
    dels = [];
    ins = [];
  };
  for (const op of ops) {
    if (op.op === 'equal') {
      flush();
      out.push(op);
    } else if (op.op === 'delete') dels.push(op);
    else ins.push(op);
  }
  flush();
  return out;
}

/** Unified diff (`diff -u` format) of two texts; empty string when they are equal. */
export function unifiedDiff(
  oldText: string,
  newText: string,
  opts: { oldName?: string; newName?: string; context?: number } = {},
): string {
  const ops = diffLines(splitLines(oldText), splitLines(newText));
  if (!ops.some((o) => o.op !== 'equal')) return '';
  const context = opts.context ?? 3;
  const out = [`--- ${opts.oldName ?? 'a'}`, `+++ ${opts.newName ?? 'b'}`];
  let i = 0;
  while (i < ops.length) {
    // Find the next change, then grow the hunk while changes are within 2·context of each other.
    while (i < ops.length && (ops[i] as DiffOp).op === 'equal') i++;
    if (i >= ops.length) break;
    const from = Math.max(0, i - context);
    let to = i;
    let lastChange = i;
    while (to < ops.length) {
      if ((ops[to] as DiffOp).op !== 'equal') lastChange = to;
      else if (to - lastChange > 2 * context) break;
      to++;
    }
    const end = Math.min(ops.length, lastChange + context + 1);
    const hunk = ops.slice(from, end);
    let oldStart = 0;
    let newStart = 0;
    let oldCount = 0;
    let newCount = 0;
    // Line numbers of the hunk start: the first op that has one, else the position before.
    let oldBefore = 0;
    let newBefore = 0;
    for (let p = from - 1; p >= 0; p--) {
      const o = ops[p] as DiffOp;
      if (oldBefore === 0 && o.op !== 'insert') oldBefore = o.oldLine;
      if (newBefore === 0 && o.op !== 'delete') newBefore = o.newLine;
      if (oldBefore && newBefore) break;
    }
    const lines: string[] = [];
    for (const o of hunk) {
      if (o.op !== 'insert') {
        if (!oldStart) oldStart = o.oldLine;
        oldCount++;
      }
      if (o.op !== 'delete') {
        if (!newStart) newStart = o.newLine;
        newCount++;
      }
      lines.push(`${o.op === 'equal' ? ' ' : o.op === 'delete' ? '-' : '+'}${o.text}`);
    }
    // diff -u: an empty side starts at the line before the hunk (0 at the top of the file).
    if (!oldStart) oldStart = oldBefore;
    if (!newStart) newStart = newBefore;
    const range = (start: number, count: number) => (count === 1 ? `${start}` : `${start},${count}`);
    out.push(`@@ -${range(oldStart, oldCount)} +${range(newStart, newCount)} @@`, ...lines);
    i = end;
  }
  return `${out.join('\n')}\n`;
}

/** One row of a side-by-side view: the old line on the left, the new on the right, either may be absent. */
export interface SideBySideRow {
  kind: 'equal' | 'change' | 'delete' | 'insert';
  left?: { line: number; text: string };
  right?: { line: number; text: string };
}

/** Side-by-side rows: deletions and insertions of one change are paired line by line. */
export function sideBySide(oldText: string, newText: string): SideBySideRow[] {
  const ops = diffLines(splitLines(oldText), splitLines(newText));
  const rows: SideBySideRow[] = [];
  let i = 0;
  while (i < ops.length) {
    const o = ops[i] as DiffOp;
    if (o.op === 'equal') {
      rows.push({
        kind: 'equal',
        left: { line: o.oldLine, text: o.text },
        right: { line: o.newLine, text: o.text },
      });
      i++;
      continue;
    }
    const dels: Extract<DiffOp, { op: 'delete' }>[] = [];
    const ins: Extract<DiffOp, { op: 'insert' }>[] = [];
    while (i < ops.length && (ops[i] as DiffOp).op === 'delete') dels.push(ops[i++] as (typeof dels)[number]);
    while (i < ops.length && (ops[i] as DiffOp).op === 'insert') ins.push(ops[i++] as (typeof ins)[number]);
    for (let p = 0; p < Math.max(dels.length, ins.length); p++) {
      const d = dels[p];
      const n = ins[p];
      rows.push({
        kind: d && n ? 'change' : d ? 'delete' : 'insert',
        ...(d ? { left: { line: d.oldLine, text: d.text } } : {}),
        ...(n ? { right: { line: n.newLine, text: n.text } } : {}),
      });
    }
  }
  return rows;
}
