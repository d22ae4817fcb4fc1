// Raw DEFLATE through the platform's CompressionStream (Node ≥ 18 and workerd both have it): exports shrink
// 5–10 fold, which keeps a sealed export of a large configuration inside one NATS message.

export async function deflateRaw(data: Uint8Array): Promise<Uint8Array> {
  return pipe(data, new CompressionStream('deflate-raw'));
}

/** Inflates at most `maxBytes`; more is an error (a small sealed message must not expand without bound). */
export async function inflateRaw(data: Uint8Array, maxBytes: number): Promise<Uint8Array> {
  return pipe(data, new DecompressionStream('deflate-raw'), maxBytes);
}

async function pipe(data: Uint8Array, stream: CompressionStream | DecompressionStream, maxBytes = Infinity) {
  const writer = stream.writable.getWriter();
  const written = writer.write(data as Uint8Array<ArrayBuffer>).then(() => writer.close());
  written.catch(() => {});
  const chunks: Uint8Array[] = [];
  let total = 0;
  const reader = stream.readable.getReader();
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    total += value.byteLength;
    if (total > maxBytes) {
      await reader.cancel();
      throw new RangeError(`inflated data exceeds ${maxBytes} bytes`);
    }
    chunks.push(value);
  }
  await written;
  const out = new Uint8Array(total);
  let at = 0;
  for (const c of chunks) {
    out.set(c, at);
    at += c.byteLength;
  }
  return out;
}
