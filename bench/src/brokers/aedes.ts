import { readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { launchBroker, type BrokerLauncher } from './launcher';

export const aedes: BrokerLauncher = {
  name: 'aedes',
  label: 'Aedes',
  unavailable() {
    try {
      require.resolve('aedes');
      return null;
    } catch {
      return 'aedes is not installed (npm install at the repository root)';
    }
  },
  version() {
    // aedes' package exports do not include package.json, so read it next to the entry point.
    const pkg = JSON.parse(
      readFileSync(resolve(dirname(require.resolve('aedes')), 'package.json'), 'utf8'),
    ) as {
      version: string;
    };
    return pkg.version;
  },
  start() {
    return launchBroker({
      name: 'Aedes',
      ports: 1,
      plan: ([port]) => ({
        command: process.execPath,
        args: [resolve(__dirname, 'aedes-server.js'), String(port)],
      }),
    });
  },
};
