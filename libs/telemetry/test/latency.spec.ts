import { Message } from '@fluxmq/engine';
import { describe, expect, it } from 'vitest';
import { LatencyHistogram, LATENCY_BUCKETS } from '../src/latency';

const msg = (receivedAgoMs: number) => {
  const m = new Message('t', Buffer.alloc(1), 0, false, undefined, 'c', 0);
  Object.assign(m, { receivedAt: m.receivedAt - receivedAgoMs });
  return m;
};

describe('LatencyHistogram', () => {
  it('records every deferred delivery at flush, a fan-out of one message as many observations', () => {
    const h = new LatencyHistogram();
    const slow = msg(200);
    const fast = msg(0);
    for (let i = 0; i < 200; i++) h.defer(slow);
    h.defer(fast);
    h.defer(slow);
    expect(h.count).toBe(0);
    h.flush();
    expect(h.count).toBe(202);
    const at = (seconds: number) => LATENCY_BUCKETS.findIndex((le) => seconds <= le);
    expect(h.counts[at(0.25)]).toBe(201);
    expect(h.sum).toBeGreaterThan(201 * 0.2);
    h.flush();
    expect(h.count).toBe(202);
  });

  it('keeps the trace id of a traced message as the exemplar of its bucket', () => {
    const h = new LatencyHistogram();
    const traced = msg(300);
    traced.trace = { logFields: { trace_id: 'abc' } } as unknown as Message['trace'];
    h.defer(msg(0));
    h.defer(traced);
    h.defer(traced);
    h.flush();
    const bucket = h.exemplars.findIndex((e) => e !== undefined);
    expect(h.exemplars[bucket]!.trace.logFields['trace_id']).toBe('abc');
    expect(h.exemplars[bucket]!.value).toBeGreaterThan(0.3);
    expect(h.counts[bucket]).toBe(2); // both deliveries of the traced message, not the other one
    expect(h.exemplars.filter((e) => e !== undefined)).toHaveLength(1);
  });

  it('keeps a traced message as an exemplar when it joins an entry opened by an untraced one', () => {
    // A socket read's messages share one receive time, so most traced messages land inside a run.
    const h = new LatencyHistogram();
    const plain = msg(300);
    const traced = new Message('t', Buffer.alloc(1), 0, false, undefined, 'c', 0);
    Object.assign(traced, { receivedAt: plain.receivedAt });
    traced.trace = { logFields: { trace_id: 'def' } } as unknown as Message['trace'];
    const later = msg(0);
    later.trace = { logFields: { trace_id: 'ghi' } } as unknown as Message['trace'];
    h.defer(plain);
    h.defer(traced);
    h.defer(plain);
    h.defer(later);
    h.flush();
    const slow = LATENCY_BUCKETS.findIndex((le) => 0.3 <= le);
    expect(h.counts[slow]).toBe(3);
    expect(h.exemplars[slow]!.trace.logFields['trace_id']).toBe('def');
    const fast = h.exemplars.findIndex((e, i) => e !== undefined && i !== slow);
    expect(h.exemplars[fast]!.trace.logFields['trace_id']).toBe('ghi');
  });
});
