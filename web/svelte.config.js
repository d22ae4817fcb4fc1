import adapter from '@sveltejs/adapter-cloudflare';
import { vitePreprocess } from '@sveltejs/vite-plugin-svelte';

/** @type {import('@sveltejs/kit').Config} */
export default {
  preprocess: vitePreprocess(),
  kit: {
    adapter: adapter({ platformProxy: { configPath: 'wrangler.toml' } }),
    csp: { mode: 'auto', directives: { 'default-src': ['self'], 'frame-ancestors': ['none'] } },
  },
};
