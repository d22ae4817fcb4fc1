// The collector's side of the command channel (`tod.cmd.<tenant>.<collector>`, request/reply): parses each
// request with zod, runs it on the device through a session of its own, and always answers with a typed
// CommandReply (never crashes on bad input). Safe apply arms a revert on the device before the change (see
// device-ops.ts); the collector remembers what is pending (also across restarts, in its state dir) and after
// each successful poll of such a device checks whether the device reverted by itself, which it reports as a
// `config-operation` event like every other state (through the outbox, so it survives NATS outages).
import { readFile, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Msg, NatsConnection, Subscription } from '@nats-io/transport-node';
import {
  CollectorCommand,
  type CollectorCommand as Command,
  type CommandError,
  type CommandErrorCode,
  type CommandReply,
  commandSubject,
  type OperationState,
} from '@tod/contracts';
import type { Logger } from 'pino';
import { z } from 'zod';
import type { Clock } from '../clock';
import { DeviceTrapError, type RouterSession, SessionError } from '../routeros/session';
import {
  ApplyError,
  applyLines,
  armRevert,
  cliRun,
  disarmRevert,
  printMenu,
  removeSafePoint,
  replaceScript,
  revertArmed,
  revertNow,
  saveBinaryBackup,
} from './device-ops';

/** A request that ends in a typed error reply. */
export class CommandFailure extends Error {
  constructor(
    readonly code: CommandErrorCode,
    message: string,
  ) {
    super(message);
  }
}

export interface CommandHost {
  tenantId: string;
  collectorId: string;
  clock: Clock;
  logger: Logger;
  stateDir: string;
  /** A new session to the device (closed by the caller); throws CommandFailure (unknown_device, not_leased)
   * or SessionError. */
  openSession(deviceId: string): Promise<RouterSession>;
  /** Queues a device event in the outbox (validated; published as soon as NATS allows). */
  publish(event: unknown): Promise<void>;
  /** Takes a configuration backup of the device with its next poll. */
  requestBackup(deviceId: string): void;
  /** Exports the device's configuration now and queues the `config-snapshot` event. */
  exportNow(deviceId: string): Promise<void>;
}

const Pending = z.object({
  operationId: z.uuid(),
  deviceId: z.uuid(),
  deadline: z.number(),
});
type Pending = z.infer<typeof Pending>;
const PendingFile = z.object({ v: z.literal(1), pending: z.array(Pending) });

const QUEUE = 'tod-collector';

function failure(err: unknown): CommandError {
  if (err instanceof CommandFailure) return { code: err.code, message: err.message.slice(0, 4000) };
  if (err instanceof ApplyError) return failure(err.cause);
  if (err instanceof DeviceTrapError) return { code: 'device_error', message: err.message.slice(0, 4000) };
  if (err instanceof SessionError)
    return {
      code:
        err.status === 'auth_failed'
          ? 'auth_failed'
          : err.status === 'tls_failed'
            ? 'tls_failed'
            : 'device_unreachable',
      message: err.message.slice(0, 4000),
    };
  return { code: 'internal', message: (err instanceof Error ? err.message : String(err)).slice(0, 4000) };
}

export class CommandHandler {
  private sub: Subscription | undefined;
  private loop: Promise<void> | undefined;
  private readonly pending = new Map<string, Pending>();
  private readonly busy = new Set<string>();
  private readonly inFlight = new Set<Promise<unknown>>();
  private saving = Promise.resolve();

  constructor(private readonly host: CommandHost) {}

  private get file(): string {
    return join(this.host.stateDir, 'safe-apply.json');
  }

  async start(nc: NatsConnection): Promise<void> {
    try {
      const parsed = PendingFile.safeParse(JSON.parse(await readFile(this.file, 'utf8')));
      if (parsed.success) for (const p of parsed.data.pending) this.pending.set(p.operationId, p);
    } catch {
      // none yet
    }
    this.sub = nc.subscribe(commandSubject(this.host.tenantId, this.host.collectorId), { queue: QUEUE });
    const sub = this.sub;
    this.loop = (async () => {
      for await (const msg of sub) {
        const p = this.handle(msg).catch((err: unknown) =>
          this.host.logger.error({ err: (err as Error).message }, 'command handler failed'),
        );
        this.inFlight.add(p);
        void p.finally(() => this.inFlight.delete(p));
      }
    })();
  }

  async stop(): Promise<void> {
    this.sub?.unsubscribe();
    await this.loop;
    await Promise.allSettled([...this.inFlight]);
    await this.saving;
  }

  /** Devices with a safe apply waiting for confirmation. */
  pendingFor(deviceId: string): Pending[] {
    return [...this.pending.values()].filter((p) => p.deviceId === deviceId);
  }

  private async handle(msg: Msg): Promise<void> {
    let reply: CommandReply;
    try {
      let body: unknown;
      try {
        body = msg.json();
      } catch {
        throw new CommandFailure('invalid_request', 'the request is not JSON');
      }
      const parsed = CollectorCommand.safeParse(body);
      if (!parsed.success) {
        const issue = parsed.error.issues[0];
        throw new CommandFailure(
          'invalid_request',
          `${issue?.path.join('.') || 'request'}: ${issue?.message ?? 'invalid'}`,
        );
      }
      reply = { ok: true, result: await this.execute(parsed.data) };
    } catch (err) {
      reply = { ok: false, error: failure(err) };
    }
    if (msg.reply) msg.respond(JSON.stringify(reply));
  }

  execute(cmd: Command): Promise<unknown> {
    switch (cmd.op) {
      case 'menu.print':
        return this.withSession(cmd.deviceId, async (s) => ({
          path: cmd.path,
          rows: await printMenu(s, cmd.path),
        }));
      case 'cli.run':
        return this.withSession(cmd.deviceId, async (s) => ({
          output: await cliRun(s, cmd.script, this.host.clock.now().toString(36)),
        }));
      case 'backup.export':
        return this.host.exportNow(cmd.deviceId).then(() => ({ queued: true as const }));
      case 'backup.binary':
        return this.withSession(cmd.deviceId, (s) =>
          saveBinaryBackup(
            s,
            cmd.name ?? `tod-${new Date(this.host.clock.now()).toISOString().replace(/[-:.TZ]/g, '')}`,
          ),
        );
      case 'config.apply':
        return this.exclusive(cmd.deviceId, () => this.apply(cmd));
      case 'config.confirm':
        return this.exclusive(cmd.deviceId, () => this.confirm(cmd));
    }
  }

  private async withSession<T>(deviceId: string, fn: (s: RouterSession) => Promise<T>): Promise<T> {
    const session = await this.host.openSession(deviceId);
    try {
      return await fn(session);
    } finally {
      session.close();
    }
  }

  private async exclusive<T>(deviceId: string, fn: () => Promise<T>): Promise<T> {
    if (this.busy.has(deviceId))
      throw new CommandFailure('busy', 'another operation runs on this device now');
    this.busy.add(deviceId);
    try {
      return await fn();
    } finally {
      this.busy.delete(deviceId);
    }
  }

  private async event(
    deviceId: string,
    operationId: string,
    state: OperationState,
    extra: { error?: string; confirmDeadline?: string } = {},
  ): Promise<void> {
    await this.host.publish({
      v: 1,
      // One event per state: a state reported twice (a revert seen by two polls) is stored once.
      id: `${operationId}-${state}`,
      tenantId: this.host.tenantId,
      deviceId,
      collectorId: this.host.collectorId,
      at: new Date(this.host.clock.now()).toISOString(),
      kind: 'config-operation',
      data: {
        operationId,
        state,
        ...(extra.error ? { error: extra.error.slice(0, 2000) } : {}),
        ...(extra.confirmDeadline ? { confirmDeadline: extra.confirmDeadline } : {}),
      },
    });
  }

  private async apply(cmd: Extract<Command, { op: 'config.apply' }>) {
    const { deviceId, operationId } = cmd;
    const log = this.host.logger.child({ deviceId, operationId, mode: cmd.mode });
    const finish = async (
      state: OperationState,
      extra: { error?: string; confirmDeadline?: string } = {},
    ) => {
      await this.event(deviceId, operationId, state, extra);
      log.info(
        { state, ...(extra.error ? { error: extra.error.slice(0, 300) } : {}) },
        'configuration operation',
      );
      return { operationId, state, ...extra };
    };
    let session: RouterSession;
    try {
      session = await this.host.openSession(deviceId);
    } catch (err) {
      if (err instanceof CommandFailure && (err.code === 'unknown_device' || err.code === 'not_leased'))
        throw err;
      return finish('failed', { error: failure(err).message });
    }
    await this.event(deviceId, operationId, 'applying');
    let armed = false;
    let deadline = 0;
    try {
      let lines = cmd.commands;
      if (cmd.replace) lines = [await replaceScript(session, cmd.commands.join('\n'))];
      if (cmd.mode === 'safe') {
        await armRevert(session, operationId, cmd.timeoutSeconds);
        armed = true;
        deadline = this.host.clock.now() + cmd.timeoutSeconds * 1000;
        await this.remember({ operationId, deviceId, deadline });
      }
      await applyLines(session, lines, cmd.script || cmd.replace, operationId.slice(0, 8));
      if (cmd.mode === 'standard') {
        this.host.requestBackup(deviceId);
        return await finish('applied');
      }
      return await finish('pending-confirmation', { confirmDeadline: new Date(deadline).toISOString() });
    } catch (err) {
      const cutOff =
        err instanceof SessionError || (err instanceof ApplyError && err.cause instanceof SessionError);
      if (armed && cutOff) {
        // The change may have cut the collector off (API service, address): the device reverts by itself at
        // the deadline unless confirmed; the poll that reaches it again reports the outcome.
        return finish('pending-confirmation', {
          confirmDeadline: new Date(deadline).toISOString(),
          error: `the connection was lost while applying (${failure(err).message}); the device reverts by itself unless confirmed`,
        });
      }
      const error = failure(err).message;
      if (armed) {
        // Nothing of a half-applied change may stay: revert now (the device reboots into the saved config).
        const appliedSome = err instanceof ApplyError && err.index > 0;
        try {
          if (appliedSome || cmd.script || cmd.replace) await revertNow(session, operationId);
          else await disarmRevert(session, operationId);
        } catch {
          // a reverting device drops the session; the scheduler entry still reverts it otherwise
        }
        await this.forget(operationId);
      }
      return finish('failed', { error });
    } finally {
      session.close();
    }
  }

  private async confirm(cmd: Extract<Command, { op: 'config.confirm' }>) {
    const { deviceId, operationId } = cmd;
    const outcome = await this.withSession(deviceId, async (s) => {
      const r = await disarmRevert(s, operationId);
      if (r === 'missing') {
        const left = await revertArmed(s, operationId);
        if (left.fileId) await removeSafePoint(s, operationId);
        return left.fileId || this.pending.has(operationId) ? 'reverted' : 'unknown';
      }
      return 'confirmed';
    });
    await this.forget(operationId);
    if (outcome === 'confirmed') {
      await this.event(deviceId, operationId, 'confirmed');
      this.host.requestBackup(deviceId);
      return { operationId, state: 'confirmed' as const };
    }
    if (outcome === 'reverted') {
      await this.event(deviceId, operationId, 'reverted');
      throw new CommandFailure('already_reverted', 'the device already reverted this change');
    }
    throw new CommandFailure(
      'not_pending',
      'no safe apply with this id waits for confirmation on the device',
    );
  }

  /** After a successful poll of a device with safe applies pending: the ones whose revert entry is gone were
   * reverted by the device (the entry is not part of the saved configuration it restored). */
  async checkPending(deviceId: string, session: Pick<RouterSession, 'run'>): Promise<void> {
    const mine = this.pendingFor(deviceId);
    if (mine.length === 0 || this.busy.has(deviceId)) return;
    for (const p of mine) {
      const found = await revertArmed(session, p.operationId);
      if (found.schedulerId) continue;
      if (found.fileId) await removeSafePoint(session, p.operationId);
      await this.forget(p.operationId);
      await this.event(deviceId, p.operationId, 'reverted', {
        error: 'not confirmed in time: the device restored the configuration saved before the change',
      });
      this.host.requestBackup(deviceId);
      this.host.logger.info({ deviceId, operationId: p.operationId }, 'safe apply reverted by the device');
    }
  }

  private async remember(p: Pending): Promise<void> {
    this.pending.set(p.operationId, p);
    await this.save();
  }

  private async forget(operationId: string): Promise<void> {
    if (this.pending.delete(operationId)) await this.save();
  }

  private save(): Promise<void> {
    const text = JSON.stringify({ v: 1, pending: [...this.pending.values()] });
    this.saving = this.saving
      .catch(() => undefined)
      .then(async () => {
        const tmp = `${this.file}.tmp`;
        await writeFile(tmp, text, { mode: 0o600 });
        await rename(tmp, this.file);
      });
    return this.saving.catch((err: unknown) =>
      this.host.logger.warn({ err: (err as Error).message }, 'could not persist pending safe applies'),
    );
  }
}
