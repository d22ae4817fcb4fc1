// Webhook and Slack deliveries: one HTTP POST each. A webhook's body is the JSON notice, signed with
// HMAC-SHA256 under the channel's secret (`X-TOD-Signature: sha256=<hex>`) so the receiver can prove it came
// from TOD and was not changed. Redirects are not followed.
import type { AlertNotice } from '@tod/contracts';
import { slackOf } from './message';
import type { SendResult } from './types';

const TIMEOUT_MS = 10_000;

export async function hmacSha256Hex(secret: string, body: string): Promise<string> {
  const enc = new TextEncoder();
  const key = await crypto.subtle.importKey(
    'raw',
    enc.encode(secret),
    { name: 'HMAC', hash: 'SHA-256' },
    false,
    ['sign'],
  );
  const mac = new Uint8Array(await crypto.subtle.sign('HMAC', key, enc.encode(body)));
  return [...mac].map((b) => b.toString(16).padStart(2, '0')).join('');
}

async function post(
  fetcher: typeof fetch,
  url: string,
  body: string,
  headers: Record<string, string>,
): Promise<SendResult> {
  try {
    const res = await fetcher(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'user-agent': 'TOD-Alerts/1', ...headers },
      body,
      redirect: 'manual',
      signal: AbortSignal.timeout(TIMEOUT_MS),
    });
    await res.body?.cancel();
    if (res.status >= 200 && res.status < 300) return { ok: true };
    // 4xx other than timeouts and rate limits will not get better by retrying.
    const retryable = res.status >= 500 || res.status === 408 || res.status === 429 || res.status < 200;
    return { ok: false, error: `HTTP ${res.status}`, retryable };
  } catch (err) {
    const name = (err as Error).name;
    const msg = name === 'TimeoutError' || name === 'AbortError' ? 'timed out' : (err as Error).message;
    return { ok: false, error: `request failed: ${msg}`.slice(0, 300), retryable: true };
  }
}

export async function sendWebhook(
  fetcher: typeof fetch,
  target: { url: string; signingSecret: string },
  notice: AlertNotice,
  deliveryId: string,
): Promise<SendResult> {
  const body = JSON.stringify(notice);
  const signature = await hmacSha256Hex(target.signingSecret, body);
  return post(fetcher, target.url, body, {
    'x-tod-event': notice.event,
    'x-tod-delivery': deliveryId,
    'x-tod-signature': `sha256=${signature}`,
  });
}

export async function sendSlack(
  fetcher: typeof fetch,
  webhookUrl: string,
  notice: AlertNotice,
): Promise<SendResult> {
  return post(fetcher, webhookUrl, JSON.stringify(slackOf(notice)), {});
}
