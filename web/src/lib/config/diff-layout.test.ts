import { describe, expect, it } from 'vitest';
import { type DiffRow, foldUnchanged, unifiedLines } from './diff-layout';

const eq = (n: number): DiffRow => ({
  kind: 'equal',
  left: { line: n, text: `l${n}` },
  right: { line: n, text: `l${n}` },
});

describe('diff layout', () => {
  it('folds long unchanged runs but keeps context around changes', () => {
    const rows: DiffRow[] = [
      ...Array.from({ length: 10 }, (_, i) => eq(i + 1)),
      { kind: 'change', left: { line: 11, text: 'old' }, right: { line: 11, text: 'new' } },
      ...Array.from({ length: 10 }, (_, i) => eq(i + 12)),
    ];
    const items = foldUnchanged(rows, 3);
    expect(items.map((it) => [it.kind, it.rows.length])).toEqual([
      ['fold', 7],
      ['rows', 7],
      ['fold', 7],
    ]);
    const opened = foldUnchanged(rows, 3, new Set([0]));
    expect(opened.map((it) => [it.kind, it.rows.length])).toEqual([
      ['rows', 14],
      ['fold', 7],
    ]);
  });

  it('keeps short unchanged runs as they are', () => {
    expect(foldUnchanged([eq(1), eq(2), eq(3)], 3)).toEqual([{ kind: 'rows', rows: [eq(1), eq(2), eq(3)] }]);
  });

  it('writes a changed row as removal then addition, with both line numbers', () => {
    expect(
      unifiedLines([
        eq(1),
        { kind: 'change', left: { line: 2, text: 'a' }, right: { line: 2, text: 'b' } },
        { kind: 'insert', right: { line: 3, text: 'c' } },
        { kind: 'delete', left: { line: 3, text: 'd' } },
      ]),
    ).toEqual([
      { sign: ' ', oldLine: 1, newLine: 1, text: 'l1' },
      { sign: '-', oldLine: 2, newLine: null, text: 'a' },
      { sign: '-', oldLine: 3, newLine: null, text: 'd' },
      { sign: '+', oldLine: null, newLine: 2, text: 'b' },
      { sign: '+', oldLine: null, newLine: 3, text: 'c' },
    ]);
  });
});
