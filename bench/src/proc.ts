import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync, readlinkSync } from 'node:fs';

// Broker CPU is read from the kernel's accounting rather than from the broker itself, so the same
// method works for a C broker and for Node brokers, and counts every thread (GC, libuv pool).

let clockTicks: number | undefined;

/** Clock ticks per second (USER_HZ): the unit of utime/stime in /proc/<pid>/stat. */
export function clkTck(): number {
  if (clockTicks === undefined) {
    const out = execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' });
    const parsed = Number(out.trim());
    clockTicks = Number.isFinite(parsed) && parsed > 0 ? parsed : 100;
  }
  return clockTicks;
}

/** Fields 3 onwards of /proc/<pid>/stat: index 0 is the state, 1 the parent pid, 11 utime, 12 stime. */
function statFields(pid: number | string): string[] {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  // The command name (field 2) may contain spaces and parentheses; fields after the last ')' are fixed.
  return stat.slice(stat.lastIndexOf(')') + 2).split(' ');
}

/** utime + stime of a process, in clock ticks. */
export function cpuTicks(pid: number): number {
  const fields = statFields(pid);
  return Number(fields[11]) + Number(fields[12]);
}

export function cpuSeconds(pid: number): number {
  return cpuTicks(pid) / clkTck();
}

/** Resident set size in KiB (VmRSS from /proc/<pid>/status). */
export function rssKb(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const match = /^VmRSS:\s+(\d+)\s+kB$/m.exec(status);
  if (!match) throw new Error(`no VmRSS for pid ${pid}`);
  return Number(match[1]);
}

/** Soft limit on open files of this process, which spawned brokers inherit. */
export function openFilesLimit(): number {
  const limits = readFileSync('/proc/self/limits', 'utf8');
  const match = /^Max open files\s+(\S+)/m.exec(limits);
  if (!match || match[1] === 'unlimited') return Number.MAX_SAFE_INTEGER;
  return Number(match[1]);
}

export interface ProcessTicks {
  name: string;
  /** A kernel thread: kthreadd (pid 2) or one of its children. */
  kernel: boolean;
  ticks: number;
}

/** utime + stime of every process on the machine, by pid. */
export function allProcessTicks(): Map<string, ProcessTicks> {
  const all = new Map<string, ProcessTicks>();
  for (const pid of readdirSync('/proc')) {
    if (!/^\d+$/.test(pid)) continue;
    try {
      const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
      const name = stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')'));
      const fields = statFields(pid);
      const ticks = Number(fields[11]) + Number(fields[12]);
      all.set(pid, { name, kernel: pid === '2' || fields[1] === '2', ticks });
    } catch {
      // The process exited between listing and reading.
    }
  }
  return all;
}

/** Machine-wide user+system and steal time in seconds, from the first line of /proc/stat. */
export function machineCpu(): { busy: number; steal: number } {
  const fields = readFileSync('/proc/stat', 'utf8')
    .split('\n', 1)[0]
    .trim()
    .split(/\s+/)
    .slice(1)
    .map(Number);
  // user nice system idle iowait irq softirq steal. irq and softirq, mostly this very load's loopback TCP
  // work, are left out: counting them would flag every network-heavy run as disturbed.
  const [user, nice, system, , , , , steal] = fields;
  return { busy: (user + nice + system) / clkTck(), steal: steal / clkTck() };
}

/**
 * Inodes of the TCP sockets LISTENING on a port, whatever their address (/proc/net/tcp and tcp6: the local
 * address is hex "addr:port", state 0A is LISTEN, the tenth column the inode).
 */
export function listeningInodes(port: number): Set<string> {
  const inodes = new Set<string>();
  for (const table of ['/proc/net/tcp', '/proc/net/tcp6']) {
    let text: string;
    try {
      text = readFileSync(table, 'utf8');
    } catch {
      continue; // no IPv6 on this kernel
    }
    for (const line of text.split('\n').slice(1)) {
      const fields = line.trim().split(/\s+/);
      if (fields.length < 10 || fields[3] !== '0A') continue;
      const local = fields[1];
      if (parseInt(local.slice(local.lastIndexOf(':') + 1), 16) === port) inodes.add(fields[9]);
    }
  }
  return inodes;
}

/** Inodes of the sockets a process has open, from its /proc/<pid>/fd links ("socket:[12345]"). */
export function socketInodes(pid: number): Set<string> {
  const inodes = new Set<string>();
  let fds: string[];
  try {
    fds = readdirSync(`/proc/${pid}/fd`);
  } catch {
    return inodes; // the process is gone
  }
  for (const fd of fds) {
    try {
      const match = /^socket:\[(\d+)\]$/.exec(readlinkSync(`/proc/${pid}/fd/${fd}`));
      if (match) inodes.add(match[1]);
    } catch {
      // closed between listing and reading
    }
  }
  return inodes;
}
