import { describe, expect, it } from 'vitest';
import { sseComment, sseEvent, sseRetry } from './sse.ts';

describe('SSE framing', () => {
  it('writes id, event and JSON data, ended by a blank line', () => {
    expect(sseEvent('0190a1b2-0000-7000-8000-000000000001', 'notification', { title: 'Hi' })).toBe(
      'id: 0190a1b2-0000-7000-8000-000000000001\nevent: notification\ndata: {"title":"Hi"}\n\n',
    );
  });

  it('keeps line breaks inside strings escaped, so one event stays one data line', () => {
    const frame = sseEvent('a', 'notification', { body: 'two\nlines\r\n' });
    expect(frame.split('\n').filter((line) => line.startsWith('data: '))).toHaveLength(1);
    expect(JSON.parse(frame.split('\n')[2]!.slice('data: '.length))).toEqual({ body: 'two\nlines\r\n' });
  });

  it('refuses an id or event name that would break the framing', () => {
    expect(() => sseEvent('a\nid: b', 'notification', {})).toThrow();
    expect(() => sseEvent('a', 'x\ndata: y', {})).toThrow();
  });

  it('writes comments and the retry field on their own', () => {
    expect(sseComment('ping')).toBe(': ping\n\n');
    expect(sseComment('a\nb')).toBe(': a b\n\n');
    expect(sseRetry(2000.7)).toBe('retry: 2000\n\n');
  });
});
