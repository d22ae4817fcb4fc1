// What the command channel does on a device, over one API session: read a menu, run CLI lines or a script,
// and safe apply's three steps on the device (save the configuration, arm the revert scheduler, disarm it).
// Every device refusal surfaces as DeviceTrapError with the device's own text.
import { cliToApiSentence, safeApplyName } from '@tod/contracts';
import type { Row } from '../poll/parse';
import { DeviceTrapError, type RouterSession } from '../routeros/session';

export type Session = Pick<RouterSession, 'run'>;

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

export async function printMenu(session: Session, path: string): Promise<Row[]> {
  return session.run(`${path}/print`);
}

/** A failure while applying: which line, and whether anything before it had been applied. */
export class ApplyError extends Error {
  constructor(
    override readonly cause: unknown,
    readonly index: number,
    readonly line: string,
  ) {
    super(cause instanceof Error ? cause.message : String(cause));
  }
}

/** Runs CLI lines one API sentence each, in order, stopping at the first error; lines that are not simple
 * commands (context, `find`, variables) make the whole list run as one script. */
export async function applyLines(
  session: Session,
  lines: string[],
  asScript: boolean,
  tag: string,
): Promise<void> {
  const sentences = asScript ? null : lines.map(cliToApiSentence);
  if (!sentences || sentences.some((s) => s === null)) {
    try {
      await runScript(session, lines.join('\n'), tag);
    } catch (err) {
      throw new ApplyError(err, 0, '(script)');
    }
    return;
  }
  for (const [i, s] of sentences.entries()) {
    try {
      await session.run(s!.command, s!.args);
    } catch (err) {
      throw new ApplyError(err, i, lines[i] ?? '');
    }
  }
}

/** Runs a script on the device (`/system/script` add, run, remove); the device's error text on failure. */
export async function runScript(session: Session, source: string, tag: string): Promise<void> {
  const name = `tod-run-${tag}`;
  await session.run('/system/script/add', {
    name,
    source,
    policy: 'read,write,policy,test,reboot,sensitive',
  });
  const row = (await session.run('/system/script/print', { '.proplist': '.id,name' })).find(
    (r) => r.name === name,
  );
  const id = row?.['.id'];
  if (!id) throw new DeviceTrapError(`the device did not keep script ${name}`);
  try {
    await session.run('/system/script/run', { '.id': id });
  } finally {
    await session.run('/system/script/remove', { '.id': id }).catch(() => undefined);
  }
}

/** Bulk CLI on one device: simple lines run as API sentences and print what they return; anything else runs
 * as a script. */
export async function cliRun(session: Session, script: string, tag: string): Promise<string> {
  const lines = script
    .split(/\r?\n/)
    .map((l) => l.trim())
    .filter((l) => l && !l.startsWith('#'));
  const sentences = lines.map(cliToApiSentence);
  if (sentences.some((s) => s === null)) {
    await runScript(session, script, tag);
    return '';
  }
  const out: string[] = [];
  for (const s of sentences) {
    const rows = await session.run(s!.command, s!.args);
    for (const r of rows)
      out.push(
        Object.entries(r)
          .map(([k, v]) => `${k}=${v}`)
          .join(' '),
      );
  }
  return out.join('\n');
}

async function findFile(session: Session, name: string): Promise<{ id: string; size: number } | undefined> {
  const rows = await session.run('/file/print', { '.proplist': '.id,name,size' });
  const row = rows.find((r) => r.name === name || r.name === `flash/${name}`);
  return row?.['.id'] ? { id: row['.id'], size: Number(row.size ?? '0') } : undefined;
}

/** `/system/backup save`; waits (bounded) until the device shows the file. */
export async function saveBinaryBackup(
  session: Session,
  base: string,
  attempts = 20,
): Promise<{ name: string; size: number }> {
  await session.run('/system/backup/save', { name: base, 'dont-encrypt': 'yes' });
  const name = `${base}.backup`;
  for (let i = 0; i < attempts; i++) {
    const f = await findFile(session, name);
    if (f) return { name, size: f.size };
    await sleep(250);
  }
  throw new DeviceTrapError(`the device did not write ${name}`);
}

/** Safe apply, step 1 and 2: the current configuration saved as `tod-safe-<op>.backup`, and a scheduler entry
 * that loads it (and so reboots into it) `timeoutSeconds` from now. The entry is not in the saved config, so
 * the revert also removes it. */
export async function armRevert(
  session: Session,
  operationId: string,
  timeoutSeconds: number,
): Promise<void> {
  const name = safeApplyName(operationId);
  await saveBinaryBackup(session, name);
  await session.run('/system/scheduler/add', {
    name,
    interval: `${timeoutSeconds}s`,
    'on-event': `/system backup load name=${name}.backup`,
  });
}

/** The revert entry is still on the device (the change is neither confirmed nor reverted). */
export async function revertArmed(
  session: Session,
  operationId: string,
): Promise<{ schedulerId?: string; fileId?: string }> {
  const name = safeApplyName(operationId);
  const entry = (await session.run('/system/scheduler/print', { '.proplist': '.id,name' })).find(
    (r) => r.name === name,
  );
  const file = await findFile(session, `${name}.backup`);
  return { ...(entry?.['.id'] ? { schedulerId: entry['.id'] } : {}), ...(file ? { fileId: file.id } : {}) };
}

/** Confirm: removes the revert entry, then the saved backup. 'missing' = no entry (already reverted or never
 * armed). */
export async function disarmRevert(session: Session, operationId: string): Promise<'removed' | 'missing'> {
  const found = await revertArmed(session, operationId);
  if (!found.schedulerId) return 'missing';
  await session.run('/system/scheduler/remove', { '.id': found.schedulerId });
  if (found.fileId) await session.run('/file/remove', { '.id': found.fileId }).catch(() => undefined);
  return 'removed';
}

/** Cleans up after a revert: the saved backup is no longer needed. */
export async function removeSafePoint(session: Session, operationId: string): Promise<void> {
  const f = await findFile(session, `${safeApplyName(operationId)}.backup`);
  if (f) await session.run('/file/remove', { '.id': f.id }).catch(() => undefined);
}

/** Reverts now (a safe apply that failed half-way): loads the saved backup; the device reboots into it. */
export async function revertNow(session: Session, operationId: string): Promise<void> {
  await session.run('/system/backup/load', { name: `${safeApplyName(operationId)}.backup` });
}

/** Restore: a full `/export` run over the current configuration would add every entry a second time. For each
 * menu the export adds entries to, the script first removes the entries there now (never default, dynamic or
 * built-in ones, nor TOD's own safe-apply entries), by id, in the same script: the device ends with exactly
 * the exported entries, and a management address is gone only between two lines of one script run. */
export async function replaceScript(session: Session, exportText: string): Promise<string> {
  const lines = exportText.replace(/\\\r?\n\s*/g, '').split(/\r?\n/);
  const adding = new Set<string>();
  let section = '';
  for (const line of lines) {
    const t = line.trim();
    if (t.startsWith('/')) section = t;
    else if (section && /^add\b/.test(t)) adding.add(section);
  }
  const removals: string[] = [];
  for (const cli of adding) {
    const apiPath = `/${cli.slice(1).trim().split(/\s+/).join('/')}`;
    const rows = await session.run(`${apiPath}/print`);
    const ids = rows
      .filter(
        (r) =>
          r['.id'] &&
          r.dynamic !== 'true' &&
          r.default !== 'true' &&
          r.builtin !== 'true' &&
          r['default-name'] === undefined &&
          !(r.name ?? '').startsWith('tod-'),
      )
      .map((r) => r['.id'] as string);
    if (ids.length) removals.push(`${cli} remove numbers=${ids.join(',')}`);
  }
  return [...removals, exportText].join('\n');
}
