import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { startBrokerProcess, type BrokerProcess } from './support/broker';
import { freePort, run } from './support/processes';
import { isRecord, readRepoFile, repoPath, ROOT } from './support/repo';

// No Docker engine here: the Dockerfile is checked as text, its build context is computed with the
// .dockerignore rules of docker-compose's own library (python3-docker), and its HEALTHCHECK command is run
// against a real broker.
const dockerfile = readRepoFile('apps/broker/Dockerfile');
const lines = dockerfile
  .replace(/\\\n/g, ' ')
  .split('\n')
  .map((l) => l.trim())
  .filter((l) => l !== '' && !l.startsWith('#'));

interface Stage {
  name: string;
  from: string;
  lines: string[];
}

function stages(): Stage[] {
  const args = Object.fromEntries(
    lines.flatMap((l) => {
      const m = /^ARG (\w+)=(\S+)/.exec(l);
      return m ? [[m[1], m[2]]] : [];
    }),
  ) as Record<string, string>;
  const out: Stage[] = [];
  for (const line of lines) {
    const from = /^FROM (\S+)(?: AS (\S+))?/i.exec(line);
    if (from) {
      const image = (from[1] ?? '').replace(/^\$\{(\w+)\}$/, (_, name: string) => args[name] ?? name);
      out.push({ name: from[2] ?? '', from: image, lines: [] });
    } else {
      out.at(-1)?.lines.push(line);
    }
  }
  return out;
}

/** The JSON-array form of an instruction: HEALTHCHECK ... CMD [...] or CMD [...]. */
function execForm(line: string): string[] {
  const json = line.slice(line.indexOf('['));
  const parsed: unknown = JSON.parse(json);
  if (!Array.isArray(parsed)) throw new Error(`not an exec form: ${line}`);
  return parsed.map(String);
}

describe('apps/broker/Dockerfile', () => {
  const all = stages();
  const names = all.map((s) => s.name);
  const runtime = all.at(-1)!;
  const stageText = (name: string): string => all.find((s) => s.name === name)?.lines.join('\n') ?? '';

  it('builds every stage from node:22 bookworm-slim pinned to an exact version', () => {
    const external = all.filter((s) => !names.includes(s.from));
    expect(external.length).toBeGreaterThan(0);
    for (const stage of external)
      expect(stage.from).toMatch(/^node:22\.\d+\.\d+-bookworm-slim(@sha256:[0-9a-f]{64})?$/);
  });

  it('compiles in a build stage with the native toolchain, npm ci and nx, daemon and cloud off', () => {
    const toolchain = stageText('toolchain');
    for (const pkg of ['python3', 'make', 'g++'])
      expect(toolchain).toMatch(new RegExp(`install .*\\b${pkg.replace('+', '\\+')}`));
    expect(toolchain).toContain('NX_DAEMON=false');
    expect(toolchain).toContain('NX_NO_CLOUD=true');
    expect(stageText('build')).toMatch(/npm ci\b/);
    expect(stageText('build')).toContain('npx nx run broker:build');
    expect(stageText('prod-deps')).toContain('npm ci --omit=dev');
  });

  it('runs as node in /app with only dists and production dependencies, ports, health check and CMD', () => {
    expect(runtime.name).toBe('runtime');
    const text = runtime.lines.join('\n');
    expect(text).not.toMatch(/apt-get|npm (ci|install)/);
    expect(text).toContain('COPY --from=prod-deps /app/ ./');
    expect(text).toContain('COPY --from=build /out/ ./');
    expect(runtime.lines).toContain('WORKDIR /app');
    expect(runtime.lines).toContain('USER node');
    expect(
      runtime.lines
        .find((l) => l.startsWith('EXPOSE'))
        ?.split(/\s+/)
        .slice(1)
        .sort(),
    ).toEqual(['1883', '8080', '8083']);
    expect(execForm(runtime.lines.find((l) => l.startsWith('CMD'))!)).toEqual([
      'node',
      'apps/broker/dist/main.js',
    ]);
    expect(runtime.lines.find((l) => l.startsWith('HEALTHCHECK'))).toContain('/healthz');
    // The build stage hands over exactly the compiled output of the app and every library.
    expect(stageText('build')).toContain('for dist in apps/broker/dist libs/*/dist');
  });

  describe('health checks against a real broker', () => {
    let broker: BrokerProcess | undefined;
    beforeAll(async () => {
      broker = await startBrokerProcess({ FLUXMQ_LOG_LEVEL: 'info' }); // its ports are logged at info
    }, 20000);
    afterAll(async () => {
      await broker?.stop();
    });

    const healthcheck = (): string[] => {
      const line = runtime.lines.find((l) => l.startsWith('HEALTHCHECK'))!;
      return execForm(line.slice(line.indexOf('CMD')));
    };

    it("the image's HEALTHCHECK passes on a live broker and fails when nothing listens", async () => {
      const [command, ...args] = healthcheck();
      expect(command).toBe('node');
      const env = (port: number): NodeJS.ProcessEnv => ({
        PATH: process.env['PATH'],
        FLUXMQ_HTTP_PORT: String(port),
      });
      expect((await run(process.execPath, args, { env: env(broker!.ports['http']!) })).code).toBe(0);
      expect((await run(process.execPath, args, { env: env(await freePort()) })).code).toBe(1);
    });

    it("the compose file's health check passes on a live broker", async () => {
      const config: unknown = parse(readRepoFile('docker-compose.yml'));
      const services = isRecord(config) && isRecord(config['services']) ? config['services'] : {};
      const brokerService = isRecord(services['broker']) ? services['broker'] : {};
      const check = isRecord(brokerService['healthcheck']) ? brokerService['healthcheck'] : {};
      const test = Array.isArray(check['test']) ? check['test'].map(String) : [];
      expect(test.slice(0, 3)).toEqual(['CMD', 'node', '-e']);
      const script = (test[3] ?? '').replace(':8080/', `:${broker!.ports['http']}/`);
      expect((await run(process.execPath, ['-e', script])).code).toBe(0);
    });
  });
});

describe('.dockerignore', () => {
  let context: string[] = [];

  beforeAll(async () => {
    // docker.utils.build.exclude_paths: the files `docker-compose build` sends as the build context.
    const script = [
      'import json, sys',
      'from docker.utils.build import exclude_paths',
      "patterns = [l.strip() for l in open('.dockerignore') if l.strip() and not l.startswith('#')]",
      "print(json.dumps(sorted(exclude_paths('.', patterns))))",
    ].join('\n');
    const result = await run('python3', ['-c', script], { cwd: ROOT });
    expect(result.stderr).toBe('');
    context = JSON.parse(result.stdout) as string[];
  });

  it('sends the sources, configs and every workspace manifest of package-lock.json', () => {
    const lock: unknown = JSON.parse(readFileSync(repoPath('package-lock.json'), 'utf8'));
    const packages = isRecord(lock) && isRecord(lock['packages']) ? Object.keys(lock['packages']) : [];
    const workspaces = packages.filter((p) => p !== '' && !p.includes('node_modules'));
    expect(workspaces).toEqual(expect.arrayContaining(['apps/broker', 'libs/engine', 'e2e/stack']));
    for (const ws of workspaces) expect(context, `${ws}/package.json`).toContain(`${ws}/package.json`);
    for (const file of ['package.json', 'package-lock.json', '.npmrc', 'nx.json', 'tsconfig.base.json']) {
      expect(context).toContain(file);
    }
    expect(context).toContain('apps/broker/src/main.ts');
    expect(context).toContain('apps/broker/tsconfig.app.json');
    expect(context).toContain('libs/engine/src/index.ts');
  });

  it('leaves out dependencies, build output, VCS, caches, data, tests and the benchmark', () => {
    const unwanted = context.filter((f) =>
      /(^|\/)(node_modules|dist|\.nx|\.git|data|test|results)(\/|$)|\.spec\.ts$|^bench\/src|^docs\//.test(f),
    );
    expect(unwanted).toEqual([]);
    expect(
      context.filter((f) => f.startsWith('e2e/')).every((f) => /^e2e\/[^/]+(\/package\.json)?$/.test(f)),
    ).toBe(true);
  });
});
