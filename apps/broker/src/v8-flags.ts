import { setFlagsFromString } from 'node:v8';

// Imported first by main.ts, before the broker allocates anything.
//
// No allocation-site pretenuring: V8 moves an allocation site's objects straight into the old generation
// once a scavenge finds most of them alive. A scavenge that lands in the middle of a large write batch
// finds the per-write records of every corked socket alive, and from then on they all go to the old
// generation: it filled at ~290 MB/s and was collected every half second in fan-out, the broker's CPU per
// delivery up by a third, in some runs and not others. Everything the broker allocates per message or
// per write dies young; what lives long (sessions, retained messages) is promoted the ordinary way.
setFlagsFromString('--no-allocation-site-pretenuring');

// A larger inlining budget. The engine's hot path is a few long functions (a PUBLISH's decode, handling and
// routing) that call many small ones; with V8's default budget (920 bytes of bytecode inlined into one
// function) a few more calls in them, such as the tracer's sampling decision, push other callees out and
// the whole path slows down. Fan-in with tracing on at 1%, interleaved runs: −16% against tracing off with
// the default budget, −5 to −11% with this one, which also made tracing off itself 3–5% faster.
setFlagsFromString('--max-inlined-bytecode-size=920');
setFlagsFromString('--max-inlined-bytecode-size-cumulative=5000');
