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

  it.each([0.25, 0.01])('samples the configured share (%s) of root messages', (ratio) => {
    const p = new SamplingPolicy({ ...none, sampleRatio: ratio });
    const decisions = 400_000;
    let n = 0;
    for (let i = 0; i < decisions; i++) if (p.shouldSample(undefined, 't', undefined)) n++;
    // Five standard deviations of a binomial count either way.
    const sd = Math.sqrt(decisions * ratio * (1 - ratio));
    expect(Math.abs(n - decisions * ratio)).toBeLessThan(5 * sd);
  });

  it('spaces sampled messages as independent draws would: geometric gaps, not a fixed stride', () => {
    const ratio = 0.1;
    const p = new SamplingPolicy({ ...none, sampleRatio: ratio });
    const gaps = new Map<number, number>();
    let since = 0;
    let samples = 0;
    for (let i = 0; i < 500_000; i++) {
      since++;
      if (!p.sampledByRatio()) continue;
      gaps.set(since, (gaps.get(since) ?? 0) + 1);
      since = 0;
      samples++;
    }
    // P(gap = k) = 0.9^(k-1) * 0.1: about 10% of gaps are 1, 8.1% are 2, 4.3% are 8; some exceed 30.
    for (const k of [1, 2, 8]) {
      const expected = samples * (1 - ratio) ** (k - 1) * ratio;
      expect(Math.abs((gaps.get(k) ?? 0) - expected)).toBeLessThan(5 * Math.sqrt(expected));
    }
    expect([...gaps.keys()].some((k) => k > 30)).toBe(true);
  });

  it('never samples by a ratio of 0, and always by a ratio of 1', () => {
    const never = new SamplingPolicy(none);
    const always = new SamplingPolicy({ ...none, sampleRatio: 1 });
    for (let i = 0; i < 10_000; i++) {
      expect(never.sampledByRatio()).toBe(false);
      expect(always.sampledByRatio()).toBe(true);
    }
  });

  it('says when the ratio alone decides for a message without trace context', () => {
    expect(new SamplingPolicy(none).ratioOnly).toBe(true);
    expect(new SamplingPolicy({ ...none, alwaysSampleClients: ['vip'] }).ratioOnly).toBe(false);
    expect(new SamplingPolicy({ ...none, alwaysSampleTopics: ['alarms/#'] }).ratioOnly).toBe(false);
  });

  it('applies updates to the next decision', () => {
    const p = new SamplingPolicy(none);
    expect(p.shouldSample('c', 't', undefined)).toBe(false);
    p.update({ ...none, sampleRatio: 1 });
    expect(p.shouldSample('c', 't', undefined)).toBe(true);
    expect(p.settings.sampleRatio).toBe(1);
    p.update({ ...none, alwaysSampleClients: ['vip'] });
    expect(p.ratioOnly).toBe(false);
    expect(p.shouldSample('c', 't', undefined)).toBe(false);
    expect(p.shouldSample('vip', 't', undefined)).toBe(true);
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
