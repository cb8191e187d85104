import { encodePublish, PacketType, type QoS } from '@fluxmq/codec';
import type { Message } from './message';

/**
 * The last message's PUBLISH encodings, one per (protocol family, QoS): a fan-out encodes a message once
 * and every subscriber gets a copy with only its packet id and flags patched (after NATS: encode once,
 * write many). Holding just the last message keeps it allocation-free and always coherent.
 */
export class EncodeCache {
  private msg: Message | undefined;
  private remaining: number | undefined;
  private readonly slots: (Buffer | undefined)[] = [
    undefined,
    undefined,
    undefined,
    undefined,
    undefined,
    undefined,
  ];

  get(msg: Message, v5: boolean, qos: QoS): Buffer {
    if (msg !== this.msg) this.reset(msg);
    else if (msg.expiresAt !== 0 && msg.remainingSeconds() !== this.remaining) this.reset(msg);
    const slot = (v5 ? 3 : 0) + qos;
    let buf = this.slots[slot];
    if (buf === undefined) {
      const properties = v5 ? msg.forwardedProperties() : undefined;
      buf = encodePublish(
        {
          type: PacketType.PUBLISH,
          topic: msg.topic,
          payload: msg.payload,
          qos,
          retain: msg.retain,
          dup: false,
          packetId: qos === 0 ? 0 : 1,
          properties,
        },
        v5 ? 5 : 4,
      );
      this.slots[slot] = buf;
    }
    return buf;
  }

  // Runs for every message of a fan-in, where each goes to one subscriber: a plain loop rather than
  // Array.prototype.fill, a call into the runtime.
  private reset(msg: Message): void {
    this.msg = msg;
    this.remaining = msg.remainingSeconds();
    const slots = this.slots;
    for (let i = 0; i < slots.length; i++) slots[i] = undefined;
  }
}
