// One persistent API session per device (node-routeros, patched). Opens through the TLS tiers the device's
// policy allows (CA-verified, then self-signed or anonymous DH, then plain API), bounds every command with a
// timeout, and turns every failure into a status instead of an exception that escapes.
import type { Socket } from 'node:net';
import { type ConnectionOptions, rootCertificates, type TlsOptions } from 'node:tls';
import type { DeviceRegistration, PolledStatus, TlsTier } from '@tod/contracts';
import { RouterOSAPI } from 'node-routeros';
import type { Row } from '../poll/parse';

/** The device's TLS policy, as the registry carries it. */
export type TlsMode = DeviceRegistration['tlsMode'];

export interface DeviceTarget {
  host: string;
  /** Plain API port (8728). */
  port: number;
  /** API-SSL port (8729). */
  tlsPort: number;
  tlsMode: TlsMode;
  username: string;
  password: string;
  /** PEM of the CA(s) that sign the device certificates, trusted for the verified tier besides Node's roots. */
  caPem?: string;
}

export interface SessionOptions {
  connectTimeoutMs: number;
  commandTimeoutMs: number;
}

export const TIERS_BY_MODE: Record<TlsMode, TlsTier[]> = {
  strict: ['verified'],
  self_signed: ['verified', 'self_signed'],
  any: ['verified', 'self_signed', 'plain'],
  plain: ['plain'],
};

/** Why a session could not be opened or was lost, in the terms a device status uses. */
export class SessionError extends Error {
  constructor(
    readonly status: Exclude<PolledStatus, 'online' | 'degraded'>,
    message: string,
  ) {
    super(message);
  }
}

/** A command the device answered with !trap (its own error text), as opposed to a lost session. */
export class DeviceTrapError extends Error {
  readonly code = 'device_trap';
}

function tlsOptions(tier: TlsTier, target: DeviceTarget): ConnectionOptions | undefined {
  if (tier === 'plain') return undefined;
  if (tier === 'verified') {
    return {
      rejectUnauthorized: true,
      // `ca` replaces Node's roots; keep them so publicly signed devices still verify.
      ...(target.caPem ? { ca: [...rootCertificates, target.caPem] } : {}),
      servername: servername(target.host),
    };
  }
  // Unverified: a self-signed certificate, or RouterOS API-SSL without any certificate (anonymous DH, TLS 1.2).
  return { rejectUnauthorized: false, ciphers: UNVERIFIED_CIPHERS, maxVersion: 'TLSv1.2' };
}

/** Strong ciphers first, anonymous DH last. Not `DEFAULT:ADH-…`: DEFAULT carries `!aNULL`, and OpenSSL never adds
 * back what a `!` removed, so such a list offered no ADH cipher at all and every certificate-less device failed. */
export const UNVERIFIED_CIPHERS = 'HIGH:!eNULL:!MD5:!PSK:!SRP:!CAMELLIA:!ARIA:+aNULL:@SECLEVEL=0';

function servername(host: string): string | undefined {
  return /^[\d.]+$|:/.test(host) ? undefined : host;
}

const AUTH_FAILURE = /CANTLOGIN|invalid user name or password|cannot log in|not logged in/i;
const TLS_FAILURE =
  /certificate|self[- ]signed|SSL|TLS|handshake|EPROTO|ERR_SSL|UNABLE_TO_VERIFY|DEPTH_ZERO|ALTNAME|wrong version number/i;

/** A connection the API-SSL port accepted and then reset: the handshake was refused (RouterOS without a usable
 * certificate for what the client asked, or something else than API-SSL on the port). Refused is unreachable. */
const RESET_IN_HANDSHAKE = /ECONNRESET|disconnected before secure TLS connection/i;

/** `opening`: the failure happened while connecting and logging in, not on an established session. */
export function classifyFailure(err: unknown, tier: TlsTier, opening = false): SessionError {
  const message = err instanceof Error ? err.message : String(err);
  const code = (err as { errno?: unknown; code?: unknown })?.errno ?? (err as { code?: unknown })?.code;
  const text = `${String(code ?? '')} ${message}`;
  if (AUTH_FAILURE.test(text))
    return new SessionError('auth_failed', 'the device refused the username or password');
  if (tier !== 'plain' && (TLS_FAILURE.test(text) || (opening && RESET_IN_HANDSHAKE.test(text))))
    return new SessionError('tls_failed', `TLS: ${message}`);
  return new SessionError('unreachable', message || String(code ?? 'connection failed'));
}

export class RouterSession {
  private closed = false;
  private readonly pending = new Set<(err: Error) => void>();
  private readonly socket: Socket | undefined;
  private corked = false;

  private constructor(
    private readonly api: RouterOSAPI,
    readonly tier: TlsTier,
    private readonly opts: SessionOptions,
  ) {
    api.on('error', (err: unknown) => this.fail(classifyFailure(err, tier)));
    api.on('close', () => this.fail(new SessionError('unreachable', 'the device closed the connection')));
    // node-routeros keeps its connect timeout as the socket's idle timeout and destroys an idle socket, which
    // would end every session between two polls (10 s < 60 s) and cost a new TCP/TLS handshake and login per
    // poll. Once logged in, idleness is normal: commands have their own timeout, TCP keepalive finds dead peers.
    this.socket = (api as unknown as { connector?: { socket?: Socket } }).connector?.socket;
    this.socket?.setTimeout(0);
  }

  /** Tries each allowed tier in order; the first that logs in wins. Auth failures stop the search: the same
   * credentials will not work on another port. */
  static async open(target: DeviceTarget, opts: SessionOptions): Promise<RouterSession> {
    let worst: SessionError | undefined;
    for (const tier of TIERS_BY_MODE[target.tlsMode]) {
      const tls = tlsOptions(tier, target);
      const api = new RouterOSAPI({
        host: target.host,
        port: tier === 'plain' ? target.port : target.tlsPort,
        user: target.username,
        password: target.password,
        timeout: Math.ceil(opts.connectTimeoutMs / 1000),
        keepalive: false,
        // Passed to tls.connect as is; the library mistypes it as server options.
        ...(tls ? { tls: tls as unknown as TlsOptions } : {}),
      });
      // node-routeros emits errors on the API object after login; never let one go unhandled.
      api.on('error', () => {});
      try {
        await withTimeout(api.connect(), opts.connectTimeoutMs, 'connection timed out');
        return new RouterSession(api, tier, opts);
      } catch (err) {
        destroy(api);
        const failure = classifyFailure(err, tier, true);
        if (failure.status === 'auth_failed') throw failure;
        if (!worst || (worst.status === 'unreachable' && failure.status === 'tls_failed')) worst = failure;
      }
    }
    throw worst ?? new SessionError('unreachable', 'no connection method allowed');
  }

  get isOpen(): boolean {
    return !this.closed;
  }

  /** Runs one command (many may run at once on the session, each with its own tag). */
  async run(command: string, args: Record<string, string> = {}): Promise<Row[]> {
    if (this.closed) throw new SessionError('unreachable', 'session is closed');
    const words = [command, ...Object.entries(args).map(([k, v]) => `=${k}=${v}`)];
    return new Promise<Row[]>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(reject);
        // A command that never answers leaves the session in an unknown state: start over next poll.
        this.fail(
          new SessionError('unreachable', `${command} timed out after ${this.opts.commandTimeoutMs} ms`),
        );
        reject(
          new SessionError('unreachable', `${command} timed out after ${this.opts.commandTimeoutMs} ms`),
        );
      }, this.opts.commandTimeoutMs);
      this.pending.add(reject);
      this.corkUntilNextTick();
      this.api.write(words).then(
        (rows) => {
          clearTimeout(timer);
          this.pending.delete(reject);
          resolve(rows.map(toRow));
        },
        (err: unknown) => {
          clearTimeout(timer);
          this.pending.delete(reject);
          reject(this.closed ? classifyFailure(err, this.tier) : new DeviceTrapError(errorText(err)));
        },
      );
    });
  }

  /** node-routeros writes every word with its own socket write (a syscall each); a poll's commands, issued in
   * one tick, leave in one write instead. */
  private corkUntilNextTick(): void {
    const socket = this.socket;
    if (this.corked || !socket) return;
    this.corked = true;
    socket.cork();
    process.nextTick(() => {
      this.corked = false;
      socket.uncork();
    });
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    for (const reject of this.pending) reject(new SessionError('unreachable', 'session closed'));
    this.pending.clear();
    void this.api.close().catch(() => destroy(this.api));
  }

  private fail(err: SessionError): void {
    if (this.closed) return;
    this.closed = true;
    for (const reject of this.pending) reject(err);
    this.pending.clear();
    destroy(this.api);
  }
}

function toRow(obj: object): Row {
  const row: Row = {};
  for (const [k, v] of Object.entries(obj)) row[k] = typeof v === 'string' ? v : String(v);
  return row;
}

function errorText(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

function destroy(api: RouterOSAPI): void {
  try {
    const connector = (api as unknown as { connector?: { destroy(): void } }).connector;
    connector?.destroy();
  } catch {
    // already gone
  }
}

function withTimeout<T>(p: Promise<T>, ms: number, message: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  return Promise.race([
    p,
    new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(message)), ms);
    }),
  ]).finally(() => clearTimeout(timer));
}
