import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { connect, createServer } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { HOST, freePorts, launchBroker, portListener, type LaunchedBroker } from '../src/brokers/launcher';

// A stand-in broker: listens on every port given and tells each connection its pid. On a port that is taken
// it either exits, as Aedes and Mosquitto do, or keeps running without that listener.
const FAKE_BROKER = `
const net = require('node:net');
const [mode, ...ports] = process.argv.slice(1);
for (const port of ports) {
  const server = net.createServer((socket) => socket.end(String(process.pid)));
  server.on('error', (err) => {
    console.error(err.message);
    if (mode === 'exit') process.exit(1);
  });
  server.listen(Number(port), '127.0.0.1');
}
setInterval(() => undefined, 1000);
`;

const REPORT_PORT = 'process.stdout.write(String(s.address().port))';

/**
 * A process other than this one, listening on a port until killed. It writes the port rather than logging it:
 * console.log would colour the number under nx's FORCE_COLOR.
 */
async function holder(): Promise<{ port: number; child: ChildProcess }> {
  const child = spawn(
    process.execPath,
    ['-e', `const s = require('node:net').createServer().listen(0, '127.0.0.1', () => ${REPORT_PORT})`],
    { stdio: ['ignore', 'pipe', 'inherit'] },
  );
  children.push(child);
  const [chunk] = (await once(child.stdout as NodeJS.ReadableStream, 'data')) as [Buffer];
  return { port: Number(chunk.toString().trim()), child };
}

/** The pid that answers on a port. */
async function answeringPid(port: number): Promise<number> {
  const socket = connect({ host: HOST, port });
  let text = '';
  socket.on('data', (chunk: Buffer) => (text += chunk.toString()));
  await once(socket, 'end');
  return Number(text);
}

const children: ChildProcess[] = [];
const brokers: LaunchedBroker[] = [];

afterEach(async () => {
  await Promise.all(brokers.splice(0).map((b) => b.stop()));
  for (const child of children.splice(0)) child.kill('SIGKILL');
});

describe('portListener', () => {
  it('tells a port this process listens on from one another process listens on', async () => {
    const server = createServer();
    await new Promise<void>((resolve) => server.listen(0, HOST, resolve));
    const mine = (server.address() as { port: number }).port;
    const { port: theirs, child } = await holder();
    try {
      expect(portListener(mine, process.pid)).toBe('own');
      expect(portListener(theirs, process.pid)).toBe('other');
      expect(portListener(theirs, child.pid as number)).toBe('own');
      expect(portListener(mine, child.pid as number)).toBe('other');
    } finally {
      server.close();
    }
  });

  it('says nobody listens on a free port', async () => {
    const [port] = await freePorts(1);
    expect(portListener(port, process.pid)).toBe('none');
  });
});

describe('launchBroker', () => {
  const launch = async (mode: 'exit' | 'stay', taken: (fresh: number[]) => number[], attempts = 4) => {
    const log: string[] = [];
    let picks = 0;
    const broker = await launchBroker({
      name: 'Fake',
      ports: 2,
      attempts,
      // The first pick is the race lost: a port that another process took meanwhile.
      pickPorts: async (count) => {
        const fresh = await freePorts(count);
        return picks++ === 0 ? taken(fresh) : fresh;
      },
      plan: (ports) => ({ command: process.execPath, args: ['-e', FAKE_BROKER, mode, ...ports.map(String)] }),
      log: (message) => log.push(message),
    });
    brokers.push(broker);
    return { broker, log };
  };

  for (const mode of ['exit', 'stay'] as const) {
    it(`starts again on new ports when its MQTT port is taken (a broker that would ${mode})`, async () => {
      const { port } = await holder();
      const { broker, log } = await launch(mode, ([, http]) => [port, http]);
      expect(broker.port).not.toBe(port);
      expect(await answeringPid(broker.ports[0])).toBe(broker.pid);
      expect(log).toHaveLength(1);
      // One that exits usually does so before the grace given to a port held by someone else runs out.
      const held = 'Fake: port \\d+ is held by another process';
      const why = mode === 'exit' ? `(Fake exited during startup \\(.*EADDRINUSE.*\\)|${held})` : held;
      expect(log[0]).toMatch(new RegExp(`^${why}; starting again on new ports \\(1/3\\)$`));
    });
  }

  it('also when only its second (admin) port is taken, by a broker that keeps running', async () => {
    const { port } = await holder();
    const { broker, log } = await launch('stay', ([mqtt]) => [mqtt, port]);
    expect(broker.ports[1]).not.toBe(port);
    expect(await answeringPid(broker.ports[1])).toBe(broker.pid);
    expect(log[0]).toContain(`port ${port} is held by another process`);
  });

  it('gives up after its attempts, with the broker output', async () => {
    const { port } = await holder();
    const log: string[] = [];
    const start = launchBroker({
      name: 'Fake',
      ports: 1,
      attempts: 2,
      pickPorts: async () => [port],
      plan: (ports) => ({
        command: process.execPath,
        args: ['-e', FAKE_BROKER, 'exit', ...ports.map(String)],
      }),
      log: (message) => log.push(message),
    });
    // Were it to start anyway (on the other process's port), it must still be stopped.
    start.then(
      (broker) => brokers.push(broker),
      () => undefined,
    );
    await expect(start).rejects.toThrow(/EADDRINUSE/);
    expect(log).toHaveLength(1);
  });
});
