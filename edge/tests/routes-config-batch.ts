// The configuration template routes for the role matrix, the isolation probes and the bad-input sweep (see
// routes.ts). Batches need devices of the caller's tenant in their body: edge/tests/config-batches.test.ts.
import type { World } from './fixtures';
import type { RouteCase } from './routes';

let n = 0;
const uniq = () => `${Date.now().toString(36)}t${(n++).toString(36)}`;

const template = async (w: World, t: string) => {
  const [row] = await w.sql<{ id: string }[]>`
    INSERT INTO config_templates (tenant_id, name, body) VALUES (${t}, ${`tpl-${uniq()}`}, '/ip dns set servers=1.1.1.1')
    RETURNING id`;
  return row!.id;
};

const templateBody = () => ({
  name: `tpl-${uniq()}`,
  description: 'identity from the device',
  body: '/system identity set name="{{identity}}"',
  variables: [{ name: 'identity', type: 'string', fact: 'identity' }],
});

export const CONFIG_BATCH_ROUTES: RouteCase[] = [
  { method: 'GET', path: '/api/config-templates', min: 'viewer', ok: 200 },
  { method: 'POST', path: '/api/config-templates', min: 'operator', ok: 201, body: templateBody },
  { method: 'GET', path: '/api/config-templates/:id', min: 'viewer', ok: 200, target: template },
  {
    method: 'PUT',
    path: '/api/config-templates/:id',
    min: 'operator',
    ok: 200,
    target: template,
    body: templateBody,
  },
  { method: 'DELETE', path: '/api/config-templates/:id', min: 'operator', ok: 204, target: template },
  { method: 'GET', path: '/api/config-batches', min: 'viewer', ok: 200 },
];
