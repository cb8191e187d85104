import { describe, expect, it } from 'vitest';
import { mosquittoPub, startBroker, startMosquittoSub } from './support';

// Debian's mosquitto_pub / mosquitto_sub (libmosquitto), a client implementation independent of MQTT.js.
const versions = [['mqttv5'], ['mqttv311']] as const;

describe('mosquitto_pub / mosquitto_sub', () => {
  it.each([
    ['mqttv5', 0],
    ['mqttv5', 1],
    ['mqttv5', 2],
    ['mqttv311', 0],
    ['mqttv311', 1],
    ['mqttv311', 2],
  ] as const)('mosquitto_sub -V %s receives what mosquitto_pub sends at QoS %i', async (version, qos) => {
    const broker = await startBroker();
    const sub = await startMosquittoSub(broker, ['-V', version, '-q', '2', '-t', 'cli/#', '-C', '1']);
    const pub = await mosquittoPub(broker, [
      '-V',
      version,
      '-q',
      String(qos),
      '-t',
      'cli/t',
      '-m',
      `hello q${qos}`,
    ]);
    expect(pub.code).toBe(0);
    const result = await sub.done();
    expect(result.code).toBe(0);
    expect(sub.messages.map((m) => [m.topic, m.payload, m.qos, m.retain])).toEqual([
      ['cli/t', `hello q${qos}`, qos, false],
    ]);
  });

  it.each(versions)(
    'delivers a message published with -r as retained to a later mosquitto_sub (%s)',
    async (v) => {
      const broker = await startBroker();
      const pub = await mosquittoPub(broker, ['-V', v, '-q', '1', '-r', '-t', 'cli/retained', '-m', 'kept']);
      expect(pub.code).toBe(0);
      const sub = await startMosquittoSub(broker, ['-V', v, '-q', '1', '-t', 'cli/retained', '-C', '1']);
      expect((await sub.done()).code).toBe(0);
      expect(sub.messages.map((m) => [m.topic, m.payload, m.retain])).toEqual([
        ['cli/retained', 'kept', true],
      ]);
    },
  );

  it('forwards -D publish user-property pairs (repeated names, in order) to mosquitto_sub -V mqttv5', async () => {
    const broker = await startBroker();
    const sub = await startMosquittoSub(broker, ['-V', 'mqttv5', '-t', 'cli/props', '-C', '1']);
    const pub = await mosquittoPub(broker, [
      '-V',
      'mqttv5',
      '-t',
      'cli/props',
      '-m',
      'with properties',
      '-D',
      'publish',
      'user-property',
      'b',
      '1',
      '-D',
      'publish',
      'user-property',
      'a',
      '2',
      '-D',
      'publish',
      'user-property',
      'b',
      '3',
      '-D',
      'publish',
      'content-type',
      'text/plain',
    ]);
    expect(pub.code).toBe(0);
    expect((await sub.done()).code).toBe(0);
    const [message] = sub.messages;
    expect(message.payload).toBe('with properties');
    // JSON.parse would merge the repeated name: check the line as printed, in wire order.
    expect(message.line).toContain('"user-properties":{"b":"1","a":"2","b":"3"}');
    expect(message.properties['content-type']).toBe('text/plain');
  });

  it('delivers every line of mosquitto_pub -l in order', async () => {
    const broker = await startBroker();
    const sub = await startMosquittoSub(broker, ['-V', 'mqttv311', '-q', '1', '-t', 'cli/lines', '-C', '3']);
    const pub = await mosquittoPub(broker, ['-V', 'mqttv311', '-q', '1', '-t', 'cli/lines', '-l'], {
      input: 'one\ntwo\nthree\n',
    });
    expect(pub.code).toBe(0);
    expect((await sub.done()).code).toBe(0);
    expect(sub.messages.map((m) => m.payload)).toEqual(['one', 'two', 'three']);
  });

  it('clears a retained message with mosquitto_pub -r -n', async () => {
    const broker = await startBroker();
    await mosquittoPub(broker, ['-r', '-t', 'cli/gone', '-m', 'soon gone']);
    await mosquittoPub(broker, ['-r', '-t', 'cli/stays', '-m', 'stays']);
    await mosquittoPub(broker, ['-r', '-n', '-t', 'cli/gone']);
    // --retained-only exits at the first non-retained message: the live sentinel ends the listing.
    const sub = await startMosquittoSub(broker, ['-t', 'cli/#', '--retained-only']);
    await mosquittoPub(broker, ['-t', 'cli/sentinel', '-m', 'live']);
    expect((await sub.done()).code).toBe(0);
    expect(sub.messages.map((m) => m.topic)).toEqual(['cli/stays']);
  });
});
