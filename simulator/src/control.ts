// HTTP control endpoint on loopback: lets out-of-process tests inject faults and reboots into a running fleet.

import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { FAULT_KEYS, type FaultSet } from './faults/faults';
import type { Fleet } from './fleet';

export class ControlInputError extends Error {
  readonly code = 'BAD_REQUEST';
}

/** Validate an untrusted JSON body as a FaultSet (unknown keys and wrong types are rejected). */
export function parseFaultSet(body: unknown): FaultSet {
  if (typeof body !== 'object' || body === null || Array.isArray(body))
    throw new ControlInputError('body must be an object');
  const src = body as Record<string, unknown>;
  const out: FaultSet = {};
  for (const [k, v] of Object.entries(src)) {
    if (!(FAULT_KEYS as readonly string[]).includes(k)) throw new ControlInputError(`unknown fault ${k}`);
    const bool = () => {
      if (typeof v !== 'boolean') throw new ControlInputError(`${k} must be boolean`);
      return v;
    };
    switch (k) {
      case 'latencyMs':
        if (typeof v !== 'number' || v < 0) throw new ControlInputError('latencyMs must be a number >= 0');
        out.latencyMs = v;
        break;
      case 'hang':
        out.hang = bool();
        break;
      case 'dropMidSentence':
        out.dropMidSentence = bool();
        break;
      case 'malformedLength':
        out.malformedLength = bool();
        break;
      case 'refuseLogin':
        out.refuseLogin = bool();
        break;
      case 'unreachable':
        out.unreachable = bool();
        break;
      case 'garbage':
        if (typeof v === 'boolean') out.garbage = v;
        else if (Array.isArray(v) && v.every((x) => Number.isInteger(x) && x >= 0 && x < 256))
          out.garbage = v as number[];
        else throw new ControlInputError('garbage must be boolean or byte array');
        break;
      case 'fatal':
        if (typeof v !== 'string') throw new ControlInputError('fatal must be a string');
        out.fatal = v;
        break;
      case 'tlsFailure':
        if (v !== 'reset' && v !== 'plaintext')
          throw new ControlInputError('tlsFailure must be reset|plaintext');
        out.tlsFailure = v;
        break;
      case 'scope':
        if (v !== 'all' && v !== 'after-login') throw new ControlInputError('scope must be all|after-login');
        out.scope = v;
        break;
      case 'rebootLoop': {
        const up = (v as { upMs?: unknown } | null)?.upMs;
        if (typeof up !== 'number' || up <= 0) throw new ControlInputError('rebootLoop.upMs must be > 0');
        out.rebootLoop = { upMs: up };
        break;
      }
      case 'fragment': {
        const f = v as { at?: unknown; every?: unknown; gapMs?: unknown } | null;
        if (typeof f !== 'object' || f === null) throw new ControlInputError('fragment must be an object');
        const frag: NonNullable<FaultSet['fragment']> = {};
        if (f.at !== undefined) {
          if (!Array.isArray(f.at) || !f.at.every((x) => Number.isInteger(x) && x > 0))
            throw new ControlInputError('fragment.at must be positive integers');
          frag.at = f.at as number[];
        }
        if (f.every !== undefined) {
          if (!Number.isInteger(f.every) || (f.every as number) <= 0)
            throw new ControlInputError('fragment.every must be > 0');
          frag.every = f.every as number;
        }
        if (f.gapMs !== undefined) {
          if (typeof f.gapMs !== 'number' || f.gapMs < 0)
            throw new ControlInputError('fragment.gapMs must be >= 0');
          frag.gapMs = f.gapMs;
        }
        out.fragment = frag;
        break;
      }
    }
  }
  return out;
}

function readBody(req: IncomingMessage): Promise<unknown> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size > 65536) reject(new ControlInputError('body too large'));
      else chunks.push(c);
    });
    req.on('end', () => {
      const text = Buffer.concat(chunks).toString('utf8');
      if (text === '') return resolve({});
      try {
        resolve(JSON.parse(text) as unknown);
      } catch {
        reject(new ControlInputError('body is not JSON'));
      }
    });
    req.on('error', reject);
  });
}

export interface ControlServer {
  url: string;
  close(): Promise<void>;
}

/**
 * Routes: GET /fleet (manifest) · GET /devices/:i · PUT /devices/:i/faults (replace) · DELETE /devices/:i/faults ·
 * POST /devices/:i/reboot.
 */
export async function startControlServer(fleet: Fleet, host = '127.0.0.1', port = 0): Promise<ControlServer> {
  const send = (res: ServerResponse, status: number, body: unknown) => {
    res.writeHead(status, { 'content-type': 'application/json' });
    res.end(JSON.stringify(body));
  };
  const server: Server = createServer((req, res) => {
    void (async () => {
      try {
        const url = new URL(req.url ?? '/', 'http://x');
        if (req.method === 'GET' && url.pathname === '/fleet') return send(res, 200, fleet.manifest);
        const m = /^\/devices\/(\d+)(\/faults|\/reboot)?$/.exec(url.pathname);
        const sim = m ? fleet.devices[Number(m[1])] : undefined;
        if (!m || !sim) return send(res, 404, { error: 'NOT_FOUND', message: 'no such device or route' });
        const sub = m[2];
        if (!sub && req.method === 'GET')
          return send(res, 200, {
            index: sim.index,
            up: sim.device.up,
            version: sim.device.version,
            identity: sim.device.identity,
            faults: sim.server.faults,
            sessions: sim.server.sessionCount,
          });
        if (sub === '/faults' && (req.method === 'PUT' || req.method === 'POST')) {
          const f = parseFaultSet(await readBody(req));
          await sim.setFaults(f);
          return send(res, 200, { faults: sim.server.faults });
        }
        if (sub === '/faults' && req.method === 'DELETE') {
          await sim.clearFaults();
          return send(res, 200, { faults: {} });
        }
        if (sub === '/reboot' && req.method === 'POST') {
          sim.reboot();
          return send(res, 202, { rebooting: true });
        }
        return send(res, 405, { error: 'METHOD_NOT_ALLOWED', message: `${req.method ?? ''} not allowed` });
      } catch (e) {
        if (e instanceof ControlInputError) return send(res, 400, { error: e.code, message: e.message });
        return send(res, 500, { error: 'INTERNAL', message: e instanceof Error ? e.message : String(e) });
      }
    })();
  });
  await new Promise<void>((resolve) => server.listen(port, host, () => resolve()));
  const addr = server.address();
  const actual = typeof addr === 'object' && addr ? addr.port : port;
  return {
    url: `http://${host}:${actual}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
