// One entry point for every channel kind: sends a notice and returns the outcome; never throws.
import {
  type AlertNotice,
  type ChannelSecrets,
  EmailChannelConfig,
  SlackChannelSecrets,
  WebhookChannelConfig,
  WebhookChannelSecrets,
} from '@tod/contracts';
import { emailOf } from './message';
import { SmtpError, sendMail } from './smtp';
import type { NotifyDeps, SendResult } from './types';
import { sendSlack, sendWebhook } from './webhook';

export type { NotifyDeps, SendResult, SmtpConnect, SmtpSocket } from './types';

export interface ChannelTarget {
  kind: 'email' | 'webhook' | 'slack';
  config: unknown;
  secrets: ChannelSecrets;
}

const misconfigured = (what: string): SendResult => ({
  ok: false,
  error: `channel misconfigured: ${what}`,
  retryable: false,
});

export async function sendNotice(
  deps: NotifyDeps,
  channel: ChannelTarget,
  notice: AlertNotice,
  deliveryId: string,
): Promise<SendResult> {
  // Stored configs also carry the names of the sealed secrets (`_secrets`); the schemas are strict.
  const { _secrets: _names, ...config } = (channel.config ?? {}) as Record<string, unknown>;
  channel = { ...channel, config };
  try {
    switch (channel.kind) {
      case 'email': {
        const cfg = EmailChannelConfig.safeParse(channel.config);
        if (!cfg.success) return misconfigured('email settings');
        const { subject, text } = emailOf(notice);
        await sendMail(deps.smtpConnect, {
          host: cfg.data.host,
          port: cfg.data.port,
          security: cfg.data.security,
          username: cfg.data.username,
          password: channel.secrets.password ?? null,
          from: cfg.data.from,
          to: cfg.data.to,
          subject,
          text,
        });
        return { ok: true };
      }
      case 'webhook': {
        const cfg = WebhookChannelConfig.safeParse(channel.config);
        const sec = WebhookChannelSecrets.safeParse(channel.secrets);
        if (!cfg.success) return misconfigured('webhook URL');
        if (!sec.success) return misconfigured('no signing secret');
        return await sendWebhook(
          deps.fetch,
          { url: cfg.data.url, signingSecret: sec.data.signingSecret },
          notice,
          deliveryId,
        );
      }
      case 'slack': {
        const sec = SlackChannelSecrets.safeParse(channel.secrets);
        if (!sec.success) return misconfigured('no Slack webhook URL');
        return await sendSlack(deps.fetch, sec.data.webhookUrl, notice);
      }
    }
  } catch (err) {
    if (err instanceof SmtpError) return { ok: false, error: err.message, retryable: err.retryable };
    return { ok: false, error: `send failed: ${(err as Error).message}`.slice(0, 300), retryable: true };
  }
}
