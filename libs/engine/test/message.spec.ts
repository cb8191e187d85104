import { describe, expect, it } from 'vitest';
import { Message } from '../src/message';

describe('Message.own', () => {
  it('copies payload and Correlation Data out of the socket buffer they were read from', () => {
    const read = Buffer.from('payload|correlation');
    const msg = new Message(
      't',
      read.subarray(0, 7),
      1,
      false,
      { correlationData: read.subarray(8) },
      'c',
      0,
    );
    msg.own();
    read.fill(0);
    expect(msg.payload.toString()).toBe('payload');
    expect(msg.properties?.correlationData?.toString()).toBe('correlation');
  });
});
