import adapter from '@sveltejs/adapter-cloudflare';
import { vitePreprocess } from '@sveltejs/vite-plugin-svelte';

/** @type {import('@sveltejs/kit').Config} */
export default {
  preprocess: vitePreprocess(),
  kit: {
    adapter: adapter({ platformProxy: { configPath: 'wrangler.toml' } }),
    // Styles may be inline (Svelte's style: directives, transitions); scripts never are.
    csp: {
      mode: 'auto',
      directives: {
        'default-src': ['self'],
        'style-src': ['self', 'unsafe-inline'],
        'frame-ancestors': ['none'],
      },
    },
  },
};
