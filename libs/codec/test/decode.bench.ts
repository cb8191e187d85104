// Micro-benchmark, not part of `vitest run`: `npx vitest bench --run` from libs/codec.
// Reference point: ~160-200 ns per 100-byte 3.1.1 QoS 0 PUBLISH on the dev box (Node 20).
import { bench, describe } from 'vitest';
import { encode, PacketDecoder, PacketType, type ProtocolVersion } from '../src';

function publish(version: ProtocolVersion): Buffer {
  const topic = 'sensors/building-1/floor-3/temp';
  const payload = Buffer.alloc(100 - 4 - topic.length - (version === 5 ? 1 : 0), 0x41);
  return encode(
    { type: PacketType.PUBLISH, topic, payload, qos: 0, retain: false, dup: false, packetId: 0 },
    version,
  );
}

function drain(decoder: PacketDecoder, chunk: Buffer): void {
  decoder.push(chunk);
  while (decoder.next() !== null);
}

describe('decode 100-byte QoS 0 PUBLISH, 64 per chunk', () => {
  for (const version of [4, 5] as const) {
    const chunk = Buffer.concat(Array.from({ length: 64 }, () => publish(version)));
    const decoder = new PacketDecoder({ maxPacketSize: 1 << 20 });
    decoder.protocolVersion = version;
    bench(`protocol level ${version}`, () => drain(decoder, chunk));
  }
});

describe('decode one packet split across two chunks', () => {
  const bytes = publish(4);
  const decoder = new PacketDecoder({ maxPacketSize: 1 << 20 });
  bench('3.1.1', () => {
    drain(decoder, bytes.subarray(0, 50));
    drain(decoder, bytes.subarray(50));
  });
});
