// Tests resolve workspace libraries to their TypeScript sources, so `nx test` needs no prior build of libs.
import { resolve } from 'node:path';

const root = import.meta.dirname;
const libs = ['auth', 'codec', 'config', 'engine', 'listeners', 'persistence', 'server', 'telemetry'];

export const workspaceAliases = Object.fromEntries(
  libs.map((name) => [`@fluxmq/${name}`, resolve(root, `libs/${name}/src/index.ts`)]),
);
