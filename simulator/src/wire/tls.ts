// API-SSL certificate material: caller-supplied PEMs, a leaf signed by a given CA, a self-signed pair, or anonymous DH.

import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TlsOptions } from 'node:tls';

export type TlsConfig =
  | { mode: 'self-signed'; commonName?: string }
  | { mode: 'pem'; key: string; cert: string }
  | { mode: 'ca-signed'; caKey: string; caCert: string; commonName?: string }
  | { mode: 'adh' };

export const ADH_CIPHERS =
  'ADH-AES256-GCM-SHA384:ADH-AES128-GCM-SHA256:ADH-AES256-SHA256:ADH-AES128-SHA256:@SECLEVEL=0';

export class TlsSetupError extends Error {
  readonly code = 'TLS_SETUP';
}

function openssl(args: string[], cwd: string): void {
  execFileSync('openssl', args, { cwd, stdio: ['ignore', 'ignore', 'pipe'] });
}

/**
 * Node has no X.509 builder, so certificates come from the openssl CLI when one is needed. Without openssl the
 * caller can pass PEMs or use ADH, which is what a RouterOS device without a certificate serves anyway.
 */
export function generateCertificate(cfg: { commonName?: string; caKey?: string; caCert?: string }): {
  key: string;
  cert: string;
} {
  const dir = mkdtempSync(join(tmpdir(), 'tod-sim-cert-'));
  const cn = (cfg.commonName ?? 'tod-sim').replace(/[^A-Za-z0-9.-]/g, '-');
  try {
    if (cfg.caKey && cfg.caCert) {
      writeFileSync(join(dir, 'ca.key'), cfg.caKey);
      writeFileSync(join(dir, 'ca.crt'), cfg.caCert);
      openssl(
        [
          'req',
          '-new',
          '-newkey',
          'rsa:2048',
          '-nodes',
          '-keyout',
          'leaf.key',
          '-out',
          'leaf.csr',
          '-subj',
          `/CN=${cn}`,
        ],
        dir,
      );
      writeFileSync(join(dir, 'ext.cnf'), `subjectAltName=DNS:${cn},DNS:localhost,IP:127.0.0.1\n`);
      openssl(
        [
          'x509',
          '-req',
          '-in',
          'leaf.csr',
          '-CA',
          'ca.crt',
          '-CAkey',
          'ca.key',
          '-CAcreateserial',
          '-out',
          'leaf.crt',
          '-days',
          '365',
          '-sha256',
          '-extfile',
          'ext.cnf',
        ],
        dir,
      );
    } else {
      openssl(
        [
          'req',
          '-x509',
          '-newkey',
          'rsa:2048',
          '-nodes',
          '-keyout',
          'leaf.key',
          '-out',
          'leaf.crt',
          '-days',
          '365',
          '-sha256',
          '-subj',
          `/CN=${cn}`,
          '-addext',
          `subjectAltName=DNS:${cn},DNS:localhost,IP:127.0.0.1`,
        ],
        dir,
      );
    }
    return {
      key: readFileSync(join(dir, 'leaf.key'), 'utf8'),
      cert: readFileSync(join(dir, 'leaf.crt'), 'utf8'),
    };
  } catch (e) {
    throw new TlsSetupError(`openssl failed: ${e instanceof Error ? e.message : String(e)}`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Resolve a TlsConfig to server options once (shared by every device of a fleet). */
export function tlsServerOptions(cfg: TlsConfig): TlsOptions {
  if (cfg.mode === 'adh')
    return { ciphers: ADH_CIPHERS, dhparam: 'auto', minVersion: 'TLSv1.2', maxVersion: 'TLSv1.2' };
  const pair =
    cfg.mode === 'pem'
      ? { key: cfg.key, cert: cfg.cert }
      : cfg.mode === 'ca-signed'
        ? generateCertificate(cfg)
        : generateCertificate(cfg);
  return { key: pair.key, cert: pair.cert, minVersion: 'TLSv1.2' };
}
