import { Aedes } from 'aedes';
import { createServer } from 'node:net';

// Runs Aedes in its own process so its CPU time and memory can be read apart from the load generator.
// Usage: node aedes-server.js <port>. Default options: that is Aedes as users deploy it.

async function main(): Promise<void> {
  const port = Number(process.argv[2]);
  if (!Number.isInteger(port) || port <= 0) throw new Error('usage: aedes-server <port>');
  const broker = await Aedes.createBroker();
  const server = createServer(broker.handle);
  server.listen(port, '127.0.0.1');
  const shutdown = (): void => {
    server.close();
    broker.close(() => process.exit(0));
  };
  process.once('SIGTERM', shutdown);
  process.once('SIGINT', shutdown);
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
