#!/usr/bin/env node
// Runs the collector's TypeScript entry point through tsx's loader.
import { register } from 'tsx/esm/api';

register();
await import('../src/main.ts');
