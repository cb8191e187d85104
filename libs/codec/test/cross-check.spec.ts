// Our codec against mqtt-packet, the reference implementation, in both directions.
import { describe, expect, test } from 'vitest';
import { encode } from '../src';
import { casesFor, VERSIONS } from './fixtures';
import { mqttGenerate, mqttParse } from './mqtt-packet-map';
import { decodeOne, normalize } from './util';

describe.each(VERSIONS)('MQTT protocol level %i', (version) => {
  const cases = casesFor(version);

  test.each(cases.filter((c) => !c.mqttPacketCannotGenerate))(
    'mqtt-packet generate → our decoder: $name',
    ({ packet }) => {
      const decoded = decodeOne(mqttGenerate(packet, version), version);
      expect(normalize(decoded)).toEqual(normalize(packet));
    },
  );

  test.each(cases.filter((c) => !c.mqttPacketCannotParse))(
    'our encode → mqtt-packet parser: $name',
    ({ packet }) => {
      expect(normalize(mqttParse(encode(packet, version), version))).toEqual(normalize(packet));
    },
  );

  // 3.1 and 3.1.1 have a single valid encoding per packet; 5.0 property order may legitimately differ.
  if (version !== 5) {
    test.each(cases)('same bytes as mqtt-packet: $name', ({ packet }) => {
      expect(encode(packet, version).equals(mqttGenerate(packet, version))).toBe(true);
    });
  }

  test.each(cases)('our encode → our decoder: $name', ({ packet }) => {
    expect(normalize(decodeOne(encode(packet, version), version))).toEqual(normalize(packet));
  });
});
