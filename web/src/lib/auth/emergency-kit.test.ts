import { describe, expect, it } from 'vitest';
import { emergencyKitPdf } from './emergency-kit';

describe('emergencyKitPdf', () => {
  const kit = {
    email: 'ann@example.net',
    secretKey: 'A3-ABCDEF-012345-6789A-BCDEF-GHJKM-NPQRS',
    signInUrl: 'https://tod.example.net/login',
    createdAt: new Date('2026-11-23T10:00:00Z'),
  };

  it('is a PDF whose cross-reference table points at every object', () => {
    const text = new TextDecoder('latin1').decode(emergencyKitPdf(kit));
    expect(text.startsWith('%PDF-1.4\n')).toBe(true);
    const startxref = Number(/startxref\n(\d+)\n%%EOF\n$/.exec(text)![1]);
    expect(text.slice(startxref, startxref + 4)).toBe('xref');
    const offsets = [...text.slice(startxref).matchAll(/^(\d{10}) 00000 n $/gm)].map((m) => Number(m[1]));
    expect(offsets).toHaveLength(8);
    for (const [i, off] of offsets.entries()) {
      expect(text.slice(off, off + `${i + 1} 0 obj`.length)).toBe(`${i + 1} 0 obj`);
    }
  });

  it('carries the email, the Secret Key and the sign-in address, and escapes PDF delimiters', () => {
    const text = new TextDecoder('latin1').decode(emergencyKitPdf({ ...kit, email: 'a(b)\\c@example.net' }));
    expect(text).toContain(`(${kit.secretKey})`);
    expect(text).toContain(`(${kit.signInUrl})`);
    expect(text).toContain('(a\\(b\\)\\\\c@example.net)');
    expect(text).toContain('(Created 2026-11-23)');
  });
});
