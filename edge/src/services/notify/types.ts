// What every channel returns: sent, or why not and whether another attempt could succeed.
export type SendResult = { ok: true } | { ok: false; error: string; retryable: boolean };

/** A byte stream to an SMTP server that can be upgraded to TLS in place (STARTTLS). In workerd this is a
 * `cloudflare:sockets` Socket; tests may supply another. */
export interface SmtpSocket {
  readonly readable: ReadableStream<Uint8Array>;
  readonly writable: WritableStream<Uint8Array>;
  startTls(): SmtpSocket;
  close(): Promise<void>;
}

export type SmtpConnect = (host: string, port: number, security: 'starttls' | 'tls' | 'none') => SmtpSocket;

/** What sending needs from the runtime. */
export interface NotifyDeps {
  fetch: typeof fetch;
  smtpConnect: SmtpConnect;
}
