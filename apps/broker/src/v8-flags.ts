import { setFlagsFromString } from 'node:v8';

// Imported first by main.ts, before the broker allocates anything.
//
// V8's inlining budget is its default. A larger one (5,000 bytes cumulative) paid off while every packet went
// through Node's stream code on its own; since the transports join a batch's packets into one write, it
// measured slower, tracing or not, and compiling its larger code cost the broker CPU (docs/benchmarks.md,
// "Cost of telemetry").
//
// No allocation-site pretenuring: V8 moves an allocation site's objects straight into the old generation
// once a scavenge finds most of them alive. A scavenge that lands in the middle of a large write batch
// finds the per-write records of every corked socket alive, and from then on they all go to the old
// generation: it filled at ~290 MB/s and was collected every half second in fan-out, the broker's CPU per
// delivery up by a third, in some runs and not others. Since the transports join a batch's packets into one
// write, only batches over 64 KB make per-packet write records; the flag stays, not measured without since.
// Everything the broker allocates per message or per write dies young; what lives long (sessions, retained
// messages) is promoted the ordinary way.
setFlagsFromString('--no-allocation-site-pretenuring');
