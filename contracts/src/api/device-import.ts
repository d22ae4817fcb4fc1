// Bulk device import from CSV: one header line, then one device per line (RFC 4180 quoting).
import { z } from 'zod';

export const DEVICE_IMPORT_COLUMNS = [
  'name',
  'host',
  'port',
  'tls_mode',
  'username',
  'password',
  'collector_id',
  'notes',
] as const;
export const DEVICE_IMPORT_REQUIRED = ['name', 'host'] as const;
export const DEVICE_IMPORT_MAX_ROWS = 10_000;

export const DeviceImportResponse = z.object({ created: z.number().int(), ids: z.array(z.uuid()) });
export type DeviceImportResponse = z.infer<typeof DeviceImportResponse>;

export class CsvError extends Error {
  constructor(
    readonly line: number,
    message: string,
  ) {
    super(message);
  }
}

/** Parses RFC 4180 CSV (quoted fields, doubled quotes, CRLF or LF). Returns rows with their line numbers. */
export function parseCsv(text: string): { line: number; cells: string[] }[] {
  const rows: { line: number; cells: string[] }[] = [];
  let cells: string[] = [];
  let cell = '';
  let quoted = false;
  let line = 1;
  let rowLine = 1;
  let i = 0;
  const src = text.startsWith('\uFEFF') ? text.slice(1) : text;
  const endRow = () => {
    cells.push(cell);
    if (!(cells.length === 1 && cells[0] === '')) rows.push({ line: rowLine, cells });
    cells = [];
    cell = '';
  };
  while (i < src.length) {
    const ch = src[i]!;
    if (quoted) {
      if (ch === '"') {
        if (src[i + 1] === '"') {
          cell += '"';
          i += 2;
          continue;
        }
        quoted = false;
        i++;
        continue;
      }
      if (ch === '\n') line++;
      cell += ch;
      i++;
      continue;
    }
    if (ch === '"') {
      if (cell !== '') throw new CsvError(line, 'a quote inside an unquoted field');
      quoted = true;
    } else if (ch === ',') {
      cells.push(cell);
      cell = '';
    } else if (ch === '\n' || ch === '\r') {
      endRow();
      if (ch === '\r' && src[i + 1] === '\n') i++;
      line++;
      rowLine = line;
    } else {
      cell += ch;
    }
    i++;
  }
  if (quoted) throw new CsvError(rowLine, 'unterminated quoted field');
  if (cell !== '' || cells.length > 0) endRow();
  return rows;
}
