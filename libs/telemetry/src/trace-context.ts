import type { UserProperty } from '@fluxmq/codec';
import { TraceFlags, type SpanContext } from '@opentelemetry/api';
import { TraceState } from '@opentelemetry/core';

const TRACEPARENT = /^00-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})$/;

/**
 * The W3C trace context a publisher put in its MQTT 5 user properties, if valid. Parsed by hand: it runs
 * for every message that carries one, before any sampling decision.
 */
export function extractTraceContext(props: UserProperty[] | undefined): SpanContext | undefined {
  if (!props) return undefined;
  let traceparent: string | undefined;
  let tracestate: string | undefined;
  for (const [key, value] of props) {
    if (key === 'traceparent') traceparent = value;
    else if (key === 'tracestate') tracestate = value;
  }
  const m = traceparent ? TRACEPARENT.exec(traceparent) : null;
  if (!m || /^0+$/.test(m[1]) || /^0+$/.test(m[2])) return undefined;
  return {
    traceId: m[1],
    spanId: m[2],
    traceFlags: parseInt(m[3], 16) & TraceFlags.SAMPLED,
    isRemote: true,
    traceState: tracestate ? new TraceState(tracestate) : undefined,
  };
}

export function formatTraceparent(ctx: SpanContext): string {
  return `00-${ctx.traceId}-${ctx.spanId}-0${ctx.traceFlags & TraceFlags.SAMPLED}`;
}
