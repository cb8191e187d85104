import { allProcessTicks, clkTck, cpuSeconds, machineCpu } from './proc';

export interface LoadWindow {
  /** Broker CPU-seconds spent between start() and stop(). */
  stop(): { brokerCpuSeconds: number };
}

/** Starts measuring a broker's CPU for the load phase only, so connection setup is left out. */
export function startCpu(pid: number): LoadWindow {
  const before = cpuSeconds(pid);
  return { stop: () => ({ brokerCpuSeconds: cpuSeconds(pid) - before }) };
}

export interface Interference {
  /** CPU-seconds used by neither the broker, the generator nor kernel threads (a lower bound). */
  otherCpuSeconds: number;
  stealSeconds: number;
  /** The busiest other processes that were still running at the end, e.g. "node 4.20". */
  busiest: string[];
}

/**
 * Watches for CPU time spent by other work while a scenario runs. On a shared 2-core machine it competes
 * with the broker and the generator and shifts every number, so a run says when that happened. Kernel
 * threads are not counted as other: under network load ksoftirqd does this very load's loopback TCP work.
 */
export function watchMachine(pid: number): { stop(generatorCpuSeconds: number): Interference } {
  const machine = machineCpu();
  const before = allProcessTicks();
  const broker = cpuSeconds(pid);
  return {
    stop(generatorCpuSeconds) {
      const now = machineCpu();
      let kernelTicks = 0;
      const others: [string, number][] = [];
      for (const [id, proc] of allProcessTicks()) {
        // Per process, so a worker thread that exits meanwhile does not subtract its lifetime's CPU.
        const spent = Math.max(0, proc.ticks - (before.get(id)?.ticks ?? 0));
        if (proc.kernel) kernelTicks += spent;
        else if (id !== String(pid) && id !== String(process.pid) && spent > 0)
          others.push([proc.name, spent]);
      }
      const accounted = cpuSeconds(pid) - broker + generatorCpuSeconds + kernelTicks / clkTck();
      const named = others.reduce((sum, [, ticks]) => sum + ticks, 0) / clkTck();
      others.sort((a, b) => b[1] - a[1]);
      return {
        // Two lower bounds, the larger taken. The machine's busy time leaves out irq and softirq time, which
        // per-process times include wherever loopback TCP work ran in a process, so busy minus the accounted
        // processes reads low (below zero) under network load; the processes still running leave out those
        // that came and went.
        otherCpuSeconds: Math.max(named, now.busy - machine.busy - accounted),
        stealSeconds: now.steal - machine.steal,
        busiest: others.slice(0, 3).map(([name, ticks]) => `${name} ${(ticks / clkTck()).toFixed(2)}`),
      };
    },
  };
}

export interface WaitOptions {
  isDone: () => boolean;
  /** Any number that grows while the broker is making progress (e.g. messages received). */
  progress: () => number;
  /** Give up when progress stands still this long: a broker that dropped messages never completes. */
  stallMs: number;
  /** Absolute time (ms, Date.now()) after which the scenario is cut off. */
  deadline: number;
}

/**
 * Polls until the load completes, stalls or runs out of time. Completion times are taken by the
 * scenarios in their packet handlers, so the polling interval does not blur the rates.
 */
export function waitForCompletion(options: WaitOptions): Promise<'done' | 'stalled' | 'timeout'> {
  return new Promise((resolve) => {
    let lastProgress = options.progress();
    let lastChange = Date.now();
    const timer = setInterval(() => {
      const now = Date.now();
      const progress = options.progress();
      if (progress !== lastProgress) {
        lastProgress = progress;
        lastChange = now;
      }
      let end: 'done' | 'stalled' | 'timeout' | null = null;
      if (options.isDone()) end = 'done';
      else if (now >= options.deadline) end = 'timeout';
      else if (now - lastChange >= options.stallMs) end = 'stalled';
      if (end) {
        clearInterval(timer);
        resolve(end);
      }
    }, 5);
  });
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Value per second, or null when the denominator is below what the clock can resolve. */
export function perSecond(count: number, seconds: number): number | null {
  return seconds > 0 ? count / seconds : null;
}

export function percentile(sorted: Float64Array, p: number): number {
  if (sorted.length === 0) return Number.NaN;
  const index = Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1);
  return sorted[Math.max(0, index)];
}
