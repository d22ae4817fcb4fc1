// See https://svelte.dev/docs/kit/types#app.d.ts
declare global {
  namespace App {
    interface Platform {
      env: {
        /** Service binding to the edge API Worker. */
        EDGE: Fetcher;
      };
      ctx: ExecutionContext;
    }
  }
}

export {};
