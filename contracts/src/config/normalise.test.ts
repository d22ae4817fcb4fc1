import { describe, expect, it } from 'vitest';
import { contentHash, diffLines, normaliseExport, sideBySide, splitLines, unifiedDiff } from './normalise';

const v7 = (date: string, serial = 'HE30812ABC1') =>
  [
    `# ${date} by RouterOS 7.16.2`,
    '# software id = 9EER-511K',
    '#',
    '# model = RB5009UG+S+',
    `# serial number = ${serial}`,
    '/interface bridge',
    'add name=bridge',
    '/ip address',
    'add address=192.168.88.1/24 interface=bridge network=192.168.88.0   ',
    '/system identity',
    'set name=core-1',
    '',
  ].join('\r\n');

describe('normaliseExport', () => {
  it('drops the date header, software id and serial number but keeps the model', () => {
    const out = normaliseExport(v7('2025-01-12 10:01:22'));
    expect(out).toBe(
      [
        '# model = RB5009UG+S+',
        '/interface bridge',
        'add name=bridge',
        '/ip address',
        'add address=192.168.88.1/24 interface=bridge network=192.168.88.0',
        '/system identity',
        'set name=core-1',
        '',
      ].join('\n'),
    );
  });

  it('gives the same text for two exports taken at different times and on a replaced board', async () => {
    const a = normaliseExport(v7('2025-01-12 10:01:22'));
    const b = normaliseExport(v7('2025-03-02 23:59:01', 'HF0000XYZ'));
    expect(a).toBe(b);
    expect(await contentHash(a)).toBe(await contentHash(b));
  });

  it('drops the v6 date header format too', () => {
    expect(
      normaliseExport(
        '# sep/25/2018 10:10:52 by RouterOS 6.42.5\n# software id = 9EER-511K\n/ip dns\nset servers=1.1.1.1\n',
      ),
    ).toBe('/ip dns\nset servers=1.1.1.1\n');
  });

  it('joins RouterOS line continuations so re-wrapping is not a change', () => {
    const wrapped =
      '/ip firewall filter\nadd action=accept chain=input comment="allow established" \\\n    connection-state=established,related\n';
    expect(normaliseExport(wrapped)).toBe(
      '/ip firewall filter\nadd action=accept chain=input comment="allow established" connection-state=established,related\n',
    );
  });

  it('keeps an escaped backslash at the end of a line', () => {
    expect(normaliseExport('/system script\nadd name=a source="x\\\\"\nset b\n')).toBe(
      '/system script\nadd name=a source="x\\\\"\nset b\n',
    );
  });

  it('removes transient interface remarks', () => {
    expect(
      normaliseExport('/interface ethernet\n# sfp1 not ready\nset [ find default-name=sfp1 ] disabled=no\n'),
    ).toBe('/interface ethernet\nset [ find default-name=sfp1 ] disabled=no\n');
  });

  it('counts a real configuration change', async () => {
    const a = normaliseExport(v7('2025-01-12 10:01:22'));
    const b = normaliseExport(v7('2025-01-12 10:01:22').replace('core-1', 'core-2'));
    expect(await contentHash(a)).not.toBe(await contentHash(b));
  });
});

describe('contentHash', () => {
  it('is the SHA-256 of the UTF-8 text in hex', async () => {
    expect(await contentHash('abc')).toBe('ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad');
  });
});

describe('diff', () => {
  it('finds a minimal edit script', () => {
    const ops = diffLines(['a', 'b', 'c', 'a', 'b', 'b', 'a'], ['c', 'b', 'a', 'b', 'a', 'c']);
    expect(ops.filter((o) => o.op !== 'equal')).toHaveLength(5);
    // Applying the script reproduces both sides.
    expect(ops.filter((o) => o.op !== 'insert').map((o) => o.text)).toEqual([
      'a',
      'b',
      'c',
      'a',
      'b',
      'b',
      'a',
    ]);
    expect(ops.filter((o) => o.op !== 'delete').map((o) => o.text)).toEqual(['c', 'b', 'a', 'b', 'a', 'c']);
  });

  it('round-trips random edits', () => {
    let seed = 7;
    const rnd = (n: number) => {
      seed = (seed * 1103515245 + 12345) % 2147483648;
      return seed % n;
    };
    for (let t = 0; t < 200; t++) {
      const a = Array.from({ length: rnd(30) }, () => String.fromCharCode(97 + rnd(4)));
      const b = Array.from({ length: rnd(30) }, () => String.fromCharCode(97 + rnd(4)));
      const ops = diffLines(a, b);
      expect(ops.filter((o) => o.op !== 'insert').map((o) => o.text)).toEqual(a);
      expect(ops.filter((o) => o.op !== 'delete').map((o) => o.text)).toEqual(b);
    }
  });

  it('writes a unified diff with hunk headers like diff -u', () => {
    const a = `${Array.from({ length: 10 }, (_, i) => `line ${i + 1}`).join('\n')}\n`;
    const b = a.replace('line 5\n', 'line five\n').replace('line 10\n', 'line 10\nline 11\n');
    expect(unifiedDiff(a, b, { oldName: 'v1', newName: 'v2' })).toBe(
      [
        '--- v1',
        '+++ v2',
        '@@ -2,9 +2,10 @@',
        ' line 2',
        ' line 3',
        ' line 4',
        '-line 5',
        '+line five',
        ' line 6',
        ' line 7',
        ' line 8',
        ' line 9',
        ' line 10',
        '+line 11',
        '',
      ].join('\n'),
    );
  });

  it('splits distant changes into separate hunks and handles an empty old side', () => {
    const a = `${Array.from({ length: 20 }, (_, i) => `l${i + 1}`).join('\n')}\n`;
    const b = a.replace('l2\n', 'x\n').replace('l19\n', 'y\n');
    const u = unifiedDiff(a, b);
    expect(u.match(/^@@/gm)).toHaveLength(2);
    expect(u).toContain('@@ -1,5 +1,5 @@');
    expect(u).toContain('@@ -16,5 +16,5 @@');
    expect(unifiedDiff('', 'one\n')).toBe('--- a\n+++ b\n@@ -0,0 +1 @@\n+one\n');
    expect(unifiedDiff('same\n', 'same\n')).toBe('');
  });

  it('pairs changed lines side by side', () => {
    const rows = sideBySide('a\nb\nc\n', 'a\nB\nc\nd\n');
    expect(rows).toEqual([
      { kind: 'equal', left: { line: 1, text: 'a' }, right: { line: 1, text: 'a' } },
      { kind: 'change', left: { line: 2, text: 'b' }, right: { line: 2, text: 'B' } },
      { kind: 'equal', left: { line: 3, text: 'c' }, right: { line: 3, text: 'c' } },
      { kind: 'insert', right: { line: 4, text: 'd' } },
    ]);
    expect(splitLines('')).toEqual([]);
  });
});
