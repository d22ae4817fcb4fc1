// The portal is the browser's only origin: API, SSE and health requests go to the edge Worker through the
// EDGE service binding, unchanged (cookies, method, body), everything else is SvelteKit.
import type { Handle } from '@sveltejs/kit';

const EDGE_PATHS = /^\/(api|health)(\/|$)/;

export const handle: Handle = async ({ event, resolve }) => {
  if (EDGE_PATHS.test(event.url.pathname)) {
    const edge = event.platform?.env.EDGE;
    if (!edge) {
      return Response.json(
        { error: { code: 'edge_unavailable', message: 'the edge API binding (EDGE) is not configured' } },
        { status: 502 },
      );
    }
    return edge.fetch(new Request(event.request));
  }
  return resolve(event);
};
