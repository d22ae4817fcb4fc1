// Reads the stack's readiness from the edge for the start page.
import { ReadinessResponse } from '@tod/contracts';

export type Readiness = { reachable: true; body: ReadinessResponse } | { reachable: false; error: string };

export async function fetchReadiness(edge: Fetcher | undefined): Promise<Readiness> {
  if (!edge) return { reachable: false, error: 'the EDGE service binding is not configured' };
  try {
    const res = await edge.fetch('http://edge/health/ready');
    const parsed = ReadinessResponse.safeParse(await res.json());
    if (!parsed.success)
      return { reachable: false, error: `unexpected answer from the edge (HTTP ${res.status})` };
    return { reachable: true, body: parsed.data };
  } catch (err) {
    return { reachable: false, error: err instanceof Error ? err.message : String(err) };
  }
}
