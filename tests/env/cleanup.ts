// Resources a test file started (databases, servers, workers), released after the file by the afterAll that
// tests/env/setup-file.ts registers. Hooks registered from inside beforeAll never run, hence this list.
const pending: (() => Promise<void>)[] = [];

export function onFileEnd(cleanup: () => Promise<void>): void {
  pending.push(cleanup);
}

export async function runFileCleanups(): Promise<void> {
  const errors: unknown[] = [];
  while (pending.length) {
    const cleanup = pending.pop()!;
    await cleanup().catch((err: unknown) => errors.push(err));
  }
  if (errors.length) throw errors[0];
}
