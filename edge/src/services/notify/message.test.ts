// What notices look like in each medium, and that hostile names (CR/LF, markup) cannot break out of them.
import type { AlertNotice } from '@tod/contracts';
import { describe, expect, it } from 'vitest';
import { emailOf, slackOf } from './message';
import { buildMessage } from './smtp';

const notice = (
  over: Partial<AlertNotice['alert']> = {},
  event: AlertNotice['event'] = 'firing',
): AlertNotice => ({
  event,
  tenantId: '00000000-0000-4000-8000-00000000000a',
  alert: {
    id: '00000000-0000-4000-8000-0000000000a1',
    ruleName: 'CPU high',
    metric: 'cpu_load',
    severity: 'critical',
    deviceId: '00000000-0000-4000-8000-0000000000d1',
    deviceName: 'core-1',
    subject: '',
    value: 97.456,
    threshold: 90,
    startedAt: '2026-11-23T10:00:00.000Z',
    endedAt: null,
    ...over,
  },
  at: '2026-11-23T10:00:05.000Z',
});

const mail = (subject: string, text = 'hello') =>
  buildMessage(
    {
      host: 'h',
      port: 587,
      security: 'starttls',
      username: null,
      password: null,
      from: 'tod@mail.test',
      to: ['a@mail.test', 'b@mail.test'],
      subject,
      text,
    },
    new Date('2026-11-23T10:00:00Z'),
    'msg-1',
  );

describe('email', () => {
  it('states what fired, where, the value and the threshold', () => {
    const { subject, text } = emailOf(notice({ subject: 'ether1' }));
    expect(subject).toBe('[TOD] FIRING CRITICAL: CPU high on core-1 (ether1)');
    expect(text).toContain('Value: 97.46');
    expect(text).toContain('Threshold: 90');
    expect(emailOf(notice({}, 'resolved')).subject).toMatch(/^\[TOD\] RESOLVED/);
  });

  it('keeps a rule name with CR/LF on the subject line', () => {
    const { subject } = emailOf(notice({ ruleName: 'x\r\nBcc: evil@x.test' }));
    const raw = mail(subject);
    expect(raw).not.toMatch(/^Bcc:/m);
    expect(raw.split('\r\n').filter((l) => l.startsWith('Subject:'))).toHaveLength(1);
  });

  it('encodes non-ASCII subjects as RFC 2047 words and the body as base64 with CRLF lines', () => {
    const raw = mail('Störung auf Router Wien', 'Zeile 1\nZeile 2 ✓');
    expect(raw).toContain(
      `Subject: =?UTF-8?B?${Buffer.from('Störung auf Router Wien').toString('base64')}?=`,
    );
    const [head, body] = raw.split('\r\n\r\n');
    expect(head).toContain('To: a@mail.test, b@mail.test');
    expect(head).toContain('Content-Transfer-Encoding: base64');
    expect(Buffer.from(body!.replace(/\r\n/g, ''), 'base64').toString('utf8')).toBe('Zeile 1\r\nZeile 2 ✓');
    expect(body!.split('\r\n').every((l) => l.length <= 76 && !l.startsWith('.'))).toBe(true);
  });
});

describe('Slack', () => {
  it('builds a Block Kit message with a header, the facts and a context line', () => {
    const msg = slackOf(notice()) as {
      text: string;
      blocks: { type: string; fields?: { text: string }[] }[];
    };
    expect(msg.blocks.map((b) => b.type)).toEqual(['header', 'section', 'context']);
    expect(msg.blocks[1]!.fields!.map((f) => f.text)).toContain('*Device*\ncore-1');
    expect(msg.text).toBe('FIRING CRITICAL: CPU high on core-1');
  });

  it('escapes Slack markup in names wherever Slack would parse it', () => {
    const msg = slackOf(notice({ deviceName: '<!channel> & <http://x|y>' })) as {
      text: string;
      blocks: { type: string; text?: { type: string }; fields?: { text: string }[] }[];
    };
    // mrkdwn (the fallback text and the fields) is escaped; the header is plain_text, shown literally.
    const mrkdwn = JSON.stringify([msg.text, msg.blocks[1], msg.blocks[2]]);
    expect(mrkdwn).not.toContain('<!channel>');
    expect(mrkdwn).toContain('&lt;!channel&gt; &amp; &lt;http://x|y&gt;');
    expect(msg.blocks[0]!.text!.type).toBe('plain_text');
  });
});
