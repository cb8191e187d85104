import { readFileSync } from 'node:fs';
import { cpus, release, totalmem, type } from 'node:os';
import type { BrokerLauncher } from './brokers';
import { openFilesLimit } from './proc';
import type { BrokerName, MachineInfo } from './types';

export function machineInfo(launchers: Record<BrokerName, BrokerLauncher>): MachineInfo {
  const version = (launcher: BrokerLauncher): string => {
    if (launcher.unavailable()) return 'not available';
    try {
      return launcher.version();
    } catch {
      return 'unknown';
    }
  };
  return {
    date: new Date().toISOString(),
    cpuModel: cpuModel(),
    cores: cpus().length,
    memoryMb: Math.round(totalmem() / 1024 / 1024),
    os: `${type()} ${release()}`,
    node: process.version,
    mosquitto: version(launchers.mosquitto),
    aedes: version(launchers.aedes),
    fluxmq: version(launchers.fluxmq),
    openFilesLimit: openFilesLimit(),
  };
}

function cpuModel(): string {
  try {
    const match = /^model name\s*:\s*(.+)$/m.exec(readFileSync('/proc/cpuinfo', 'utf8'));
    if (match) return match[1].trim();
  } catch {
    // Not Linux: fall through to what Node reports.
  }
  return cpus()[0]?.model ?? 'unknown';
}
