// `npm run bench`: runs each benchmark in turn; each writes its JSON under bench/results/.
await import('./edge-api');

export {};
