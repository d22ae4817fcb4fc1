// The Emergency Kit: a one-page PDF made in the browser (nothing leaves it) with the sign-in address, the
// email and the Secret Key, and a blank line for the user to write the password on paper.
// A minimal PDF 1.4 writer: one page, the built-in Helvetica fonts, WinAnsi text.

export interface EmergencyKit {
  email: string;
  secretKey: string;
  signInUrl: string;
  createdAt: Date;
}

function pdfString(text: string): string {
  // Printable ASCII only in the kit; escape the PDF string delimiters.
  const ascii = text.replace(/[^\x20-\x7e]/g, '?');
  return `(${ascii.replace(/[\\()]/g, (c) => `\\${c}`)})`;
}

export function emergencyKitPdf(kit: EmergencyKit): Uint8Array {
  const lines: { font: 'F1' | 'F2' | 'F3'; size: number; x: number; y: number; text: string }[] = [
    { font: 'F2', size: 24, x: 56, y: 770, text: 'TOD Emergency Kit' },
    { font: 'F1', size: 11, x: 56, y: 748, text: `Created ${kit.createdAt.toISOString().slice(0, 10)}` },
    {
      font: 'F1',
      size: 11,
      x: 56,
      y: 712,
      text: 'Keep this page somewhere safe. You need it to sign in on a new',
    },
    {
      font: 'F1',
      size: 11,
      x: 56,
      y: 697,
      text: 'browser or device. TOD cannot recover your Secret Key for you.',
    },
    { font: 'F2', size: 12, x: 56, y: 656, text: 'Sign-in address' },
    { font: 'F3', size: 12, x: 56, y: 638, text: kit.signInUrl },
    { font: 'F2', size: 12, x: 56, y: 606, text: 'Email' },
    { font: 'F3', size: 12, x: 56, y: 588, text: kit.email },
    { font: 'F2', size: 12, x: 56, y: 556, text: 'Secret Key' },
    { font: 'F3', size: 14, x: 56, y: 536, text: kit.secretKey },
    { font: 'F2', size: 12, x: 56, y: 500, text: 'Password (write it by hand)' },
    { font: 'F1', size: 12, x: 56, y: 470, text: '______________________________________________' },
    {
      font: 'F1',
      size: 10,
      x: 56,
      y: 420,
      text: 'Your password and Secret Key never leave your browser: together they prove',
    },
    {
      font: 'F1',
      size: 10,
      x: 56,
      y: 406,
      text: 'who you are (SRP). A stolen server database cannot reveal either of them.',
    },
  ];
  const content = lines
    .map((l) => `BT /${l.font} ${l.size} Tf ${l.x} ${l.y} Td ${pdfString(l.text)} Tj ET`)
    .join('\n');
  const objects = [
    '<< /Type /Catalog /Pages 2 0 R >>',
    '<< /Type /Pages /Kids [3 0 R] /Count 1 >>',
    '<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents 4 0 R /Resources << /Font << /F1 5 0 R /F2 6 0 R /F3 7 0 R >> >> >>',
    `<< /Length ${content.length} >>\nstream\n${content}\nendstream`,
    '<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>',
    '<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica-Bold /Encoding /WinAnsiEncoding >>',
    '<< /Type /Font /Subtype /Type1 /BaseFont /Courier-Bold /Encoding /WinAnsiEncoding >>',
    `<< /Title ${pdfString('TOD Emergency Kit')} /Producer (TOD) >>`,
  ];
  let out = '%PDF-1.4\n';
  const offsets: number[] = [];
  objects.forEach((body, i) => {
    offsets.push(out.length);
    out += `${i + 1} 0 obj\n${body}\nendobj\n`;
  });
  const xref = out.length;
  out += `xref\n0 ${objects.length + 1}\n0000000000 65535 f \n`;
  for (const off of offsets) out += `${String(off).padStart(10, '0')} 00000 n \n`;
  out += `trailer\n<< /Size ${objects.length + 1} /Root 1 0 R /Info ${objects.length} 0 R >>\nstartxref\n${xref}\n%%EOF\n`;
  return new TextEncoder().encode(out);
}

/** Offers the kit as a download (`TOD-Emergency-Kit-<email>.pdf`). */
export function downloadEmergencyKit(kit: EmergencyKit): void {
  const bytes = emergencyKitPdf(kit);
  const blob = new Blob([bytes as Uint8Array<ArrayBuffer>], { type: 'application/pdf' });
  const url = URL.createObjectURL(blob);
  const a = document.createElement('a');
  a.href = url;
  a.download = `TOD-Emergency-Kit-${kit.email.replace(/[^A-Za-z0-9@._-]/g, '_')}.pdf`;
  document.body.appendChild(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 60_000);
}
