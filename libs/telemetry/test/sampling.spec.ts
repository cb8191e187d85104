import { describe, expect, it } from 'vitest';
import { SamplingPolicy } from '../src/sampling';
import { extractTraceContext, formatTraceparent } from '../src/trace-context';

const none = { sampleRatio: 0, alwaysSampleClients: [], alwaysSampleTopics: [] };

describe('SamplingPolicy', () => {
  it('follows the parent’s sampled flag, then the always lists, then the ratio', () => {
    const p = new SamplingPolicy({ ...none, alwaysSampleClients: ['vip'], alwaysSampleTopics: ['alarms/#'] });
    expect(p.shouldSample('x', 't', true)).toBe(true);
    expect(p.shouldSample('x', 't', false)).toBe(false);
    expect(p.shouldSample('vip', 't', false)).toBe(true);
    expect(p.shouldSample('x', 'alarms/fire', undefined)).toBe(true);
    expect(p.shouldSample('x', 't', undefined)).toBe(false);
  });

  it('samples about the configured share of root messages', () => {
    const p = new SamplingPolicy({ ...none, sampleRatio: 0.25 });
    let n = 0;
    for (let i = 0; i < 20000; i++) if (p.shouldSample(undefined, 't', undefined)) n++;
    expect(n / 20000).toBeGreaterThan(0.22);
    expect(n / 20000).toBeLessThan(0.28);
  });

  it('applies updates to the next decision', () => {
    const p = new SamplingPolicy(none);
    expect(p.shouldSample('c', 't', undefined)).toBe(false);
    p.update({ ...none, sampleRatio: 1 });
    expect(p.shouldSample('c', 't', undefined)).toBe(true);
    expect(p.settings.sampleRatio).toBe(1);
  });
});

describe('W3C trace context in user properties', () => {
  const tp = '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01';

  it('reads traceparent and tracestate, and writes traceparent back', () => {
    const ctx = extractTraceContext([
      ['a', 'b'],
      ['traceparent', tp],
      ['tracestate', 'vendor=1'],
    ])!;
    expect(ctx).toMatchObject({
      traceId: '0af7651916cd43dd8448eb211c80319c',
      spanId: 'b7ad6b7169203331',
      isRemote: true,
    });
    expect(ctx.traceState?.get('vendor')).toBe('1');
    expect(formatTraceparent(ctx)).toBe(tp);
  });

  it.each([
    '01-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01',
    '00-00000000000000000000000000000000-b7ad6b7169203331-01',
    '00-0af7651916cd43dd8448eb211c80319c-0000000000000000-01',
    '00-0AF7651916CD43DD8448EB211C80319C-b7ad6b7169203331-01',
    'garbage',
  ])('ignores an invalid traceparent %s', (value) => {
    expect(extractTraceContext([['traceparent', value]])).toBeUndefined();
  });
});
