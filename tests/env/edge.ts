// Starts the edge Worker in workerd (through wrangler, exactly as `npm start` and production build it) with
// the given vars, on a random loopback port. For tests that call the API from the outside.
import { fileURLToPath } from 'node:url';
import { unstable_startWorker } from 'wrangler';
import { onFileEnd } from './cleanup';

export interface EdgeHandle {
  url: string;
  fetch(path: string, init?: RequestInit): Promise<Response>;
  stop(): Promise<void>;
}

const ROOT = fileURLToPath(new URL('../../', import.meta.url));

export const TEST_SECRETS = {
  JWT_SECRET_KEY: 'tZ3m9Qv1Lr8Xw2Kc5Hn7Bp4Yd6Fs0Gj1Ue3Ai8Oq2Wx5',
  CREDENTIAL_ENCRYPTION_KEY: 'q83vEjRWeJq83vEjRWeJq83vEjRWeJq83vEjRWeJq8s=',
};

export async function startEdge(vars: Record<string, string>): Promise<EdgeHandle> {
  const worker = await unstable_startWorker({
    config: `${ROOT}wrangler.toml`,
    bindings: Object.fromEntries(
      Object.entries({ ENVIRONMENT: 'test', ...vars }).map(([k, v]) => [k, { type: 'plain_text', value: v }]),
    ),
    dev: {
      server: { hostname: '127.0.0.1', port: 0 },
      inspector: false,
      persist: false,
      watch: false,
      logLevel: 'error',
    },
  });
  await worker.ready;
  const url = (await worker.url).toString().replace(/\/$/, '');
  let stopped = false;
  const handle: EdgeHandle = {
    url,
    fetch: (path, init) => fetch(url + path, init),
    async stop() {
      if (stopped) return;
      stopped = true;
      await worker.dispose();
    },
  };
  onFileEnd(() => handle.stop());
  return handle;
}
