import { describe, expect, it } from 'vitest';
import { decodeLength, encodeLength, encodeSentence, ProtocolError, SentenceDecoder } from './codec';

const hex = (b: Buffer) => b.toString('hex');

describe('word length encoding', () => {
  const cases: [number, string][] = [
    [0, '00'],
    [0x7f, '7f'],
    [0x80, '8080'],
    [0x87, '8087'],
    [0x100, '8100'],
    [0x3fff, 'bfff'],
    [0x4000, 'c04000'],
    [0x4321, 'c04321'],
    [0x1fffff, 'dfffff'],
    [0x200000, 'e0200000'],
    [0x2acdef, 'e02acdef'],
    [0xfffffff, 'efffffff'],
    [0x10000000, 'f010000000'],
    [0x10000080, 'f010000080'],
    [0xffffffff, 'f0ffffffff'],
  ];
  it.each(cases)('encodes %i as %s and decodes it back', (len, bytes) => {
    expect(hex(encodeLength(len))).toBe(bytes);
    expect(decodeLength(Buffer.from(bytes, 'hex'))).toBe(len);
  });

  it('rejects reserved control bytes', () => {
    expect(() => decodeLength(Buffer.from([0xf8]))).toThrow(ProtocolError);
    expect(() => new SentenceDecoder().push(Buffer.from([0xff]))).toThrow(ProtocolError);
  });
});

describe('sentences', () => {
  it('matches the reference bytes for /login and !done .tag', () => {
    expect(hex(encodeSentence(['/login', '=name=admin', '=password=']))).toBe(
      '062f6c6f67696e0b3d6e616d653d61646d696e0a3d70617373776f72643d00',
    );
    expect(hex(encodeSentence(['!done', '.tag=k3x9']))).toBe('0521646f6e65092e7461673d6b33783900');
    expect(hex(encodeSentence(['!empty', '.tag=5']))).toBe('0621656d707479062e7461673d3500');
  });

  it('parses a stream fed one byte at a time, including splits inside length prefixes', () => {
    const long = 'x'.repeat(0x4000);
    const bytes = Buffer.concat([
      encodeSentence(['/a', `=c=${long}`]),
      Buffer.from([0]),
      encodeSentence(['/b']),
    ]);
    const d = new SentenceDecoder();
    const got: string[][] = [];
    for (const b of bytes)
      for (const s of d.push(Buffer.from([b]))) got.push(s.map((w) => w.toString('latin1')));
    expect(got).toEqual([['/a', `=c=${long}`], ['/b']]);
    expect(d.pending).toBe(0);
  });

  it('round-trips words at every length-form boundary', () => {
    for (const len of [0x7f, 0x80, 0x3fff, 0x4000, 0x1fffff, 0x200000]) {
      const w = Buffer.alloc(len, 0x61);
      const [s] = new SentenceDecoder().push(encodeSentence([w]));
      expect(s?.[0]?.length).toBe(len);
    }
  });

  it('refuses a declared word larger than its limit before buffering it', () => {
    const d = new SentenceDecoder({ maxWordLength: 1024 });
    expect(() => d.push(Buffer.from('efffffff', 'hex'))).toThrow(/exceeds limit/);
  });
});
