import { fetchReadiness } from '$lib/readiness';
import type { PageServerLoad } from './$types';

export const load: PageServerLoad = async ({ platform }) => ({
  readiness: await fetchReadiness(platform?.env.EDGE),
});
