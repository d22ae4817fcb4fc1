/// <reference types="@cloudflare/workers-types" />
import { describe, expect, it } from 'vitest';
import { createApp } from './app';
import { openApiDocument, ROUTE_DOCS } from './openapi';

describe('OpenAPI description', () => {
  it('lists exactly the routes the app serves', () => {
    const served = new Set(
      createApp()
        .routes.filter((r) => r.method !== 'ALL')
        .map((r) => `${r.method.toLowerCase()} ${r.path.replace(/:(\w+)\b/g, '{$1}').replace(/\/$/, '')}`),
    );
    const documented = new Set(ROUTE_DOCS.map((d) => `${d.method} ${d.path}`));
    expect([...documented].sort()).toEqual([...served].sort());
  });

  it('renders request bodies and query parameters from the zod schemas', () => {
    const doc = openApiDocument('1.0.0') as {
      paths: Record<string, Record<string, { requestBody?: unknown; parameters: { name: string }[] }>>;
    };
    const create = doc.paths['/api/devices']!.post!;
    expect(JSON.stringify(create.requestBody)).toContain('"host"');
    const list = doc.paths['/api/devices']!.get!;
    expect(list.parameters.map((p) => p.name)).toEqual(
      expect.arrayContaining(['limit', 'cursor', 'sort', 'status']),
    );
  });
});
