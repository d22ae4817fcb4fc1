export const TEMPLATE_DB = 'tod_template';
// Test-only role passwords on a throwaway loopback cluster.
export const TEST_OWNER_PASSWORD = 'test-owner-pw';
export const TEST_APP_PASSWORD = 'test-app-pw';

declare module 'vitest' {
  export interface ProvidedContext {
    /** Superuser URL of the run's embedded Postgres cluster (set by global-setup). */
    pgSuperUrl: string;
  }
}
