// What an alert notice says, once per medium: the email subject and text, the Slack Block Kit message and
// the webhook's JSON body (the notice itself).
import type { AlertNotice } from '@tod/contracts';

const METRIC_LABEL: Record<string, string> = {
  cpu_load: 'CPU load (%)',
  memory_used_pct: 'Memory used (%)',
  disk_used_pct: 'Disk used (%)',
  temperature: 'Temperature (°C)',
  voltage: 'Voltage (V)',
  interface_rx_bps: 'Interface receive rate',
  interface_tx_bps: 'Interface transmit rate',
  wireless_signal: 'Weakest wireless signal (dBm)',
  device_offline: 'Device offline',
};

function headline(n: AlertNotice): string {
  const a = n.alert;
  const where = a.subject ? `${a.deviceName} (${a.subject})` : a.deviceName;
  if (n.event === 'test') return `[TOD] Test notification`;
  const verb = n.event === 'firing' ? 'FIRING' : 'RESOLVED';
  return `[TOD] ${verb} ${a.severity.toUpperCase()}: ${a.ruleName} on ${where}`;
}

function facts(n: AlertNotice): [string, string][] {
  const a = n.alert;
  const out: [string, string][] = [
    ['Rule', a.ruleName],
    ['Device', a.subject ? `${a.deviceName} / ${a.subject}` : a.deviceName],
    ['Metric', METRIC_LABEL[a.metric] ?? a.metric],
    ['Severity', a.severity],
  ];
  if (a.value !== null) out.push(['Value', String(Math.round(a.value * 100) / 100)]);
  if (a.threshold !== null) out.push(['Threshold', String(a.threshold)]);
  out.push(['Started', a.startedAt]);
  if (a.endedAt) out.push(['Ended', a.endedAt]);
  return out;
}

/** Strips characters that could break out of a header line or a Slack mrkdwn span. */
function oneLine(s: string): string {
  let out = '';
  for (const ch of s) out += ch.charCodeAt(0) < 0x20 || ch.charCodeAt(0) === 0x7f ? ' ' : ch;
  return out.replace(/ {2,}/g, ' ').slice(0, 300);
}

export function emailOf(n: AlertNotice): { subject: string; text: string } {
  const lines =
    n.event === 'test'
      ? ['This is a test notification from TOD. The channel works.']
      : facts(n).map(([k, v]) => `${k}: ${v}`);
  return { subject: oneLine(headline(n)), text: `${lines.join('\n')}\n\nSent at ${n.at}\n` };
}

const slackEscape = (s: string) =>
  oneLine(s).replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

export function slackOf(n: AlertNotice): Record<string, unknown> {
  const title = headline(n).replace(/^\[TOD\] /, '');
  const icon =
    n.event === 'test' ? ':wave:' : n.event === 'resolved' ? ':white_check_mark:' : ':rotating_light:';
  const blocks: Record<string, unknown>[] = [
    { type: 'header', text: { type: 'plain_text', text: `${title}`.slice(0, 150), emoji: true } },
  ];
  if (n.event !== 'test') {
    blocks.push({
      type: 'section',
      fields: facts(n).map(([k, v]) => ({ type: 'mrkdwn', text: `*${k}*\n${slackEscape(v)}` })),
    });
  } else {
    blocks.push({ type: 'section', text: { type: 'mrkdwn', text: 'This is a test notification from TOD.' } });
  }
  blocks.push({
    type: 'context',
    elements: [{ type: 'mrkdwn', text: `${icon} TOD · ${slackEscape(n.at)}` }],
  });
  return { text: slackEscape(title), blocks };
}
