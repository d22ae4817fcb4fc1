// The chunked /file/read path for exports too large for /file/print's `contents` (the simulator does not
// implement /file/read, so a scripted peer plays a 7.x device here).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type ScriptedRouter, sentence, startScriptedRouter } from '../../tests/scripted-router';
import { RouterSession } from '../routeros/session';
import { exportConfig } from './export';

let router: ScriptedRouter;
const text = `# 2026-11-23 10:00:00 by RouterOS 7.16.2\n${Array.from(
  { length: 3000 },
  (_, i) => `add address=10.${i >> 8}.${i & 255}.0/24 list=bulk`,
).join('\n')}\n`;
const reads: { offset: number; size: number }[] = [];
const removed: string[] = [];
let exported = '';

beforeAll(async () => {
  router = await startScriptedRouter();
  router.script = (tag, command, words) => {
    const arg = (k: string) => words.find((w) => w.startsWith(`=${k}=`))?.slice(k.length + 2);
    const done = sentence(['!done', `.tag=${tag}`]);
    switch (command) {
      case '/system/resource/print':
        return [sentence(['!re', '=version=7.16.2 (stable)', `.tag=${tag}`]), done];
      case '/export':
        exported = `${arg('file')}.rsc`;
        return [done];
      case '/file/print':
        return [
          sentence(['!re', '=.id=*1', '=name=flash', '=type=directory', `.tag=${tag}`]),
          sentence(['!re', '=.id=*2A', `=name=${exported}`, `=size=${text.length}`, `.tag=${tag}`]),
          done,
        ];
      case '/file/read': {
        const offset = Number(arg('offset'));
        const size = Number(arg('chunk-size'));
        reads.push({ offset, size });
        return [sentence(['!re', `=data=${text.slice(offset, offset + size)}`, `.tag=${tag}`]), done];
      }
      case '/file/remove':
        removed.push(arg('.id') ?? '');
        return [done];
      default:
        return [sentence(['!trap', '=message=no such command', `.tag=${tag}`]), done];
    }
  };
});
afterAll(() => router.close());

describe('exportConfig on a large export', () => {
  it('reads the file in chunks with /file/read and removes it', async () => {
    const s = await RouterSession.open(
      {
        host: '127.0.0.1',
        port: router.port,
        tlsPort: router.port,
        tlsMode: 'plain',
        username: 'admin',
        password: '',
      },
      { connectTimeoutMs: 3000, commandTimeoutMs: 3000 },
    );
    try {
      const result = await exportConfig(s, { showSensitive: true, delay: async () => {} });
      expect(result.text).toBe(text);
      expect(text.length).toBeGreaterThan(64 * 1024);
      expect(reads[0]).toEqual({ offset: 0, size: 32 * 1024 });
      expect(reads.map((r) => r.offset)).toEqual(reads.map((_, i) => i * 32 * 1024));
      expect(removed).toEqual(['*2A']);
      expect(exported).toMatch(/^tod-export-[0-9a-f]{12}\.rsc$/);
    } finally {
      s.close();
    }
  });
});
