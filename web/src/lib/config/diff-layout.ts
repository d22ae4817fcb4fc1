// Layout of a configuration diff for the viewer: the side-by-side rows the API returns, with long runs of
// unchanged lines folded (context kept on each side), and the same rows as unified lines.
import type { ConfigDiff } from '@tod/contracts';

export type DiffRow = ConfigDiff['sideBySide'][number];
export type DiffItem = { kind: 'rows'; rows: DiffRow[] } | { kind: 'fold'; key: number; rows: DiffRow[] };

/** Folds every run of equal rows that leaves at least 4 hidden, keeping `context` rows at each end (none at the
 * file's start or end). Folds in `expanded` (by key: index of their first row) stay open. */
export function foldUnchanged(
  rows: DiffRow[],
  context = 3,
  expanded: ReadonlySet<number> = new Set(),
): DiffItem[] {
  const out: DiffItem[] = [];
  let plain: DiffRow[] = [];
  const flush = () => {
    if (plain.length) out.push({ kind: 'rows', rows: plain });
    plain = [];
  };
  let i = 0;
  while (i < rows.length) {
    if (rows[i]!.kind !== 'equal') {
      plain.push(rows[i++]!);
      continue;
    }
    let j = i;
    while (j < rows.length && rows[j]!.kind === 'equal') j++;
    const head = i === 0 ? 0 : context;
    const tail = j === rows.length ? 0 : context;
    if (j - i - head - tail >= 4 && !expanded.has(i + head)) {
      plain.push(...rows.slice(i, i + head));
      flush();
      out.push({ kind: 'fold', key: i + head, rows: rows.slice(i + head, j - tail) });
      plain.push(...rows.slice(j - tail, j));
    } else plain.push(...rows.slice(i, j));
    i = j;
  }
  flush();
  return out;
}

export interface UnifiedLine {
  sign: ' ' | '-' | '+';
  oldLine: number | null;
  newLine: number | null;
  text: string;
}

/** Unified lines of side-by-side rows: a changed row is its old line removed, then its new line added. */
export function unifiedLines(rows: DiffRow[]): UnifiedLine[] {
  const removed: UnifiedLine[] = [];
  const added: UnifiedLine[] = [];
  const out: UnifiedLine[] = [];
  const flush = () => {
    out.push(...removed.splice(0), ...added.splice(0));
  };
  for (const r of rows) {
    if (r.kind === 'equal') {
      flush();
      out.push({
        sign: ' ',
        oldLine: r.left?.line ?? null,
        newLine: r.right?.line ?? null,
        text: r.left?.text ?? '',
      });
      continue;
    }
    if (r.left) removed.push({ sign: '-', oldLine: r.left.line, newLine: null, text: r.left.text });
    if (r.right) added.push({ sign: '+', oldLine: null, newLine: r.right.line, text: r.right.text });
  }
  flush();
  return out;
}
