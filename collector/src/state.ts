// The collector's local state (identity and key pair), written once at enrolment with mode 0600.
import { existsSync } from 'node:fs';
import { chmod, mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { CollectorPublicJwk, CREDENTIALS_JWE } from '@tod/contracts';
import { importJWK, type KeyObject } from 'jose';
import { z } from 'zod';
import { type ExportKey, importExportKey } from './backup/seal';

export const CollectorState = z.object({
  v: z.literal(1),
  tenantId: z.uuid(),
  collectorId: z.uuid(),
  natsUrl: z.string().min(1),
  edgeUrl: z.string().url(),
  privateKeyJwk: z.record(z.string(), z.unknown()),
  publicKeyJwk: z.record(z.string(), z.unknown()),
  enrolledAt: z.iso.datetime({ offset: true }),
  /** NATS credentials when the edge's NATS runs with JWT auth: the user JWT it issued and our nkey seed. */
  nats: z.object({ jwt: z.string().min(1), seed: z.string().regex(/^SU[A-Z2-7]{56}$/) }).optional(),
  /** The tenant's export key (public JWK) configuration exports are sealed to; from enrolment or renewal. */
  exportKeyJwk: CollectorPublicJwk.optional(),
});
export type CollectorState = z.infer<typeof CollectorState>;

export class NotEnrolledError extends Error {
  readonly code = 'not_enrolled';
}

export function statePath(dir: string): string {
  return join(dir, 'collector.json');
}

export async function loadState(dir: string): Promise<CollectorState> {
  const path = statePath(dir);
  if (!existsSync(path)) {
    throw new NotEnrolledError(
      `not enrolled (no ${path}): run \`tod-collector enroll --url <edge URL> --token <enrolment token>\``,
    );
  }
  const parsed = CollectorState.safeParse(JSON.parse(await readFile(path, 'utf8')));
  if (!parsed.success) throw new NotEnrolledError(`${path} is damaged: enrol again`);
  return parsed.data;
}

export async function saveState(dir: string, state: CollectorState): Promise<void> {
  await mkdir(dir, { recursive: true, mode: 0o700 });
  const path = statePath(dir);
  const tmp = `${path}.tmp`;
  await writeFile(tmp, JSON.stringify(state, null, 2) + '\n', { mode: 0o600 });
  await chmod(tmp, 0o600);
  await rename(tmp, path);
}

/** The keys of an enrolled collector, ready to use: its private key (opens device credentials) and the tenant's
 * export key (seals configuration exports), when the edge gave one. */
export async function identityFromState(state: CollectorState): Promise<{
  tenantId: string;
  collectorId: string;
  privateKey: KeyObject;
  exportKey?: ExportKey;
}> {
  return {
    tenantId: state.tenantId,
    collectorId: state.collectorId,
    privateKey: (await importJWK(state.privateKeyJwk, CREDENTIALS_JWE.alg)) as KeyObject,
    ...(state.exportKeyJwk ? { exportKey: await importExportKey(state.exportKeyJwk) } : {}),
  };
}
