// Reads a device's configuration as `/export` text for a backup. `/export` over the API returns only !done on
// many versions, so the export goes to a file on the device which is read back (`contents` of /file/print
// for small files, chunked `/file/read` on 7.x for larger ones) and removed. The text may hold secrets: it
// is returned to the caller and never logged here.
import { randomBytes } from 'node:crypto';
import type { RouterSession } from '../routeros/session';

export interface ExportOptions {
  /** Include passwords and keys (7.x `show-sensitive`; 6.x exports them unless `hide-sensitive`). Only where
   * the tenant allows it. */
  showSensitive: boolean;
  /** How often to look for the file before giving up (a real device writes it asynchronously). */
  fileAttempts?: number;
  /** Waits between those attempts; injected so tests never sleep. */
  delay?: (ms: number) => Promise<void>;
}

export interface ConfigExport {
  text: string;
  /** The text was exported with secrets included. */
  sensitive: boolean;
  /** `version` of /system/resource, e.g. `7.16.2 (stable)`. */
  routerosVersion: string;
  /** The export file could not be removed (e.g. a read-only API user); its name, so it can be reported. */
  leftoverFile?: string;
}

/** A backup that could not be taken, with a stable code (the session's own errors pass through unchanged). */
export class ConfigExportError extends Error {
  constructor(
    readonly code: 'export_file_missing' | 'export_unreadable' | 'export_incomplete' | 'export_too_large',
    message: string,
  ) {
    super(message);
  }
}

type Session = Pick<RouterSession, 'run'>;

/** Bytes `/file/read` asks for per call; far below the API's word-size limits. */
const READ_CHUNK = 32 * 1024;

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

export function routerosMajor(version: string): number {
  const major = Number.parseInt(version, 10);
  return Number.isFinite(major) ? major : 7;
}

export async function exportConfig(session: Session, opts: ExportOptions): Promise<ConfigExport> {
  const [resource] = await session.run('/system/resource/print', { '.proplist': 'version' });
  const routerosVersion = resource?.version ?? '';
  const major = routerosMajor(routerosVersion);
  const base = `tod-export-${randomBytes(6).toString('hex')}`;
  const fileName = `${base}.rsc`;
  const flags: Record<string, string> =
    major >= 7
      ? opts.showSensitive
        ? { 'show-sensitive': '' }
        : {}
      : opts.showSensitive
        ? {}
        : { 'hide-sensitive': '' };
  await session.run('/export', { file: base, ...flags });

  const file = await findFile(session, fileName, opts);
  // A leftover export holds the configuration (perhaps with secrets) on the device's disk: always try to
  // remove it, and tell the caller when that failed (e.g. an API user without the write policy).
  const remove = () =>
    session.run('/file/remove', { '.id': file.id }).then(
      () => true,
      () => false,
    );
  let text: string;
  try {
    text = await readFile(session, fileName, file);
  } catch (err) {
    await remove();
    throw err;
  }
  const removed = await remove();
  return {
    text,
    sensitive: opts.showSensitive,
    routerosVersion,
    ...(removed ? {} : { leftoverFile: fileName }),
  };
}

interface FileInfo {
  id: string;
  size: number;
  contents: string | undefined;
}

async function findFile(session: Session, fileName: string, opts: ExportOptions): Promise<FileInfo> {
  const attempts = opts.fileAttempts ?? 10;
  const delay = opts.delay ?? sleep;
  for (let i = 0; i < attempts; i++) {
    const rows = await session.run('/file/print', { '.proplist': '.id,name,size,contents' });
    const row = rows.find((r) => r.name === fileName || r.name === `flash/${fileName}`);
    if (row?.['.id']) return { id: row['.id'], size: Number(row.size ?? '0'), contents: row.contents };
    if (i < attempts - 1) await delay(250);
  }
  throw new ConfigExportError('export_file_missing', `the device did not write ${fileName}`);
}

// node-routeros decodes every API word as Windows-1252, one character per byte; undo that to get the file's
// bytes back, then read them as the UTF-8 RouterOS writes.
const WIN1252_HIGH = '€\u0081‚ƒ„…†‡ˆ‰Š‹Œ\u008dŽ\u008f\u0090‘’“”•–—˜™š›œ\u009džŸ';

export function win1252Bytes(word: string): Buffer {
  const out = Buffer.alloc(word.length);
  for (let i = 0; i < word.length; i++) {
    const code = word.charCodeAt(i);
    const high = WIN1252_HIGH.indexOf(word[i] as string);
    out[i] = high >= 0 ? 0x80 + high : code <= 0xff ? code : 0x3f;
  }
  return out;
}

async function readFile(session: Session, fileName: string, file: FileInfo): Promise<string> {
  if (file.contents !== undefined) {
    const bytes = win1252Bytes(file.contents);
    if (bytes.length === file.size) return bytes.toString('utf8');
  }
  // Too large for /file/print's contents: read in chunks (7.x /file/read, offsets in bytes).
  const chunks: Buffer[] = [];
  let offset = 0;
  while (offset < file.size) {
    let rows: Record<string, string>[];
    try {
      rows = await session.run('/file/read', {
        file: fileName,
        offset: String(offset),
        'chunk-size': String(READ_CHUNK),
      });
    } catch (err) {
      throw new ConfigExportError(
        'export_unreadable',
        `the export (${file.size} bytes) is too large for /file/print and the device cannot /file/read it: ${
          err instanceof Error ? err.message : String(err)
        }`,
      );
    }
    const data = rows[0]?.data ?? '';
    if (data === '') break;
    const bytes = win1252Bytes(data);
    chunks.push(bytes);
    offset += bytes.length;
  }
  const text = Buffer.concat(chunks).toString('utf8');
  if (offset !== file.size)
    throw new ConfigExportError('export_incomplete', `read ${offset} of ${file.size} bytes of the export`);
  return text;
}
