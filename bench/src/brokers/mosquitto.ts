import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { HOST, launchBroker, type BrokerLauncher } from './launcher';

const binary = '/usr/sbin/mosquitto';

function config(port: number): string {
  return [
    `listener ${port} ${HOST}`,
    'allow_anonymous true',
    // The default of -1 already means unlimited; stated so the idle-connection scenario never hits a cap.
    'max_connections -1',
    'max_queued_messages 100000',
    'max_inflight_messages 1000',
    'persistence false',
    // Errors only: logging every connect would cost CPU in the idle-connection scenario.
    'log_dest stderr',
    'log_type error',
    '',
  ].join('\n');
}

export const mosquitto: BrokerLauncher = {
  name: 'mosquitto',
  label: 'Mosquitto',
  unavailable: () => (existsSync(binary) ? null : `${binary} not found (apt-get install mosquitto)`),
  version() {
    // `mosquitto -h` prints "mosquitto version X.Y.Z" and exits non-zero; only the text matters.
    const out = spawnSync(binary, ['-h'], { encoding: 'utf8' });
    return /version (\S+)/.exec(`${out.stdout}${out.stderr}`)?.[1] ?? 'unknown';
  },
  start() {
    return launchBroker({
      name: 'Mosquitto',
      ports: 1,
      plan: ([port]) => {
        const dir = mkdtempSync(join(tmpdir(), 'fluxmq-bench-mosquitto-'));
        const file = join(dir, 'mosquitto.conf');
        writeFileSync(file, config(port));
        return {
          command: binary,
          args: ['-c', file],
          cleanup: () => rmSync(dir, { recursive: true, force: true }),
        };
      },
    });
  },
};
