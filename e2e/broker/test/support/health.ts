import { expect } from 'vitest';
import type { TestBroker } from './broker';
import { connectClient, uniqueId } from './mqtt-client';
import { RawClient } from './raw-client';

/** Proves the broker still serves new connections: a fresh client pings, subscribes and gets its own publish. */
export async function expectBrokerHealthy(broker: TestBroker): Promise<void> {
  const raw = await RawClient.open(broker, { protocolVersion: 4 });
  const connack = await raw.connect();
  expect(connack.returnCode).toBe(0);
  raw.send({ cmd: 'pingreq' });
  await raw.next('pingresp', 2000);
  raw.destroy();

  const client = await connectClient(broker, { protocolVersion: 5 });
  const topic = `health/${uniqueId()}`;
  await client.subscribe(topic, { qos: 1 });
  await client.publish(topic, 'alive', { qos: 1 });
  const message = await client.waitForMessage(topic, 2000);
  expect(message.text).toBe('alive');
  await client.disconnect();
}
