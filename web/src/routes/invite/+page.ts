// Sign-in runs in the browser only: SRP and the Secret Key in IndexedDB.
export const ssr = false;
