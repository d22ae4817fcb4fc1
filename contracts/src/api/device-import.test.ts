import { describe, expect, it } from 'vitest';
import { CsvError, parseCsv } from './device-import';

describe('parseCsv', () => {
  it('parses quoted fields, doubled quotes, CRLF and a BOM', () => {
    const rows = parseCsv('\uFEFFname,host\r\n"core, main","10.0.0.1"\r\n"say ""hi""",h2\n\n');
    expect(rows).toEqual([
      { line: 1, cells: ['name', 'host'] },
      { line: 2, cells: ['core, main', '10.0.0.1'] },
      { line: 3, cells: ['say "hi"', 'h2'] },
    ]);
  });

  it('keeps newlines inside quotes and reports the line of broken input', () => {
    expect(parseCsv('a\n"x\ny"\n')).toEqual([
      { line: 1, cells: ['a'] },
      { line: 2, cells: ['x\ny'] },
    ]);
    expect(() => parseCsv('a\n"open')).toThrow(CsvError);
    expect(() => parseCsv('a\nb"c')).toThrow(CsvError);
  });
});
