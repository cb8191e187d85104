import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConfigError, defaultConfig, envVariables, loadConfig, type FluxConfigInput } from '../src';

function tempFile(name: string, text: string): string {
  const file = join(mkdtempSync(join(tmpdir(), 'fluxmq-config-')), name);
  writeFileSync(file, text);
  return file;
}

describe('loadConfig', () => {
  it('fills every setting with its documented default', () => {
    const config = defaultConfig();
    expect(config.listeners.tcp.port).toBe(1883);
    expect(config.listeners.ws).toMatchObject({ port: 8083, path: '/mqtt' });
    expect(config.mqtt.maxQos).toBe(2);
  });

  it('derives a FLUXMQ_* variable for every leaf setting', () => {
    const names = envVariables().map((v) => v.name);
    expect(names).toContain('FLUXMQ_LISTENERS_TCP_PORT');
    expect(names).toContain('FLUXMQ_MQTT_MAX_PACKET_SIZE');
    expect(names).toContain('FLUXMQ_SYS_INTERVAL_SECONDS');
    expect(new Set(names).size).toBe(names.length);
  });

  it('layers file, then environment, then overrides', () => {
    const file = tempFile(
      'fluxmq.yaml',
      'listeners:\n  tcp:\n    port: 1999\nmqtt:\n  maxQos: 1\n  maxInflight: 7\n',
    );
    const config = loadConfig({
      file,
      env: { FLUXMQ_MQTT_MAX_QOS: '0', FLUXMQ_LISTENERS_WS_ENABLED: 'false' },
      overrides: { mqtt: { maxInflight: 9 } },
    });
    expect(config.listeners.tcp.port).toBe(1999);
    expect(config.mqtt.maxQos).toBe(0);
    expect(config.listeners.ws.enabled).toBe(false);
    expect(config.mqtt.maxInflight).toBe(9);
  });

  it('reads FLUXMQ_CONFIG and JSON files', () => {
    const file = tempFile('fluxmq.json', JSON.stringify({ sys: { intervalSeconds: 3 } }));
    expect(loadConfig({ env: { FLUXMQ_CONFIG: file } }).sys.intervalSeconds).toBe(3);
  });

  it('rejects invalid values with the path and the rule broken', () => {
    expect(() => loadConfig({ env: { FLUXMQ_LISTENERS_TCP_PORT: '70000' } })).toThrow(/listeners\.tcp\.port/);
    expect(() => loadConfig({ env: { FLUXMQ_MQTT_MAX_QOS: 'two' } })).toThrow(ConfigError);
    expect(() => loadConfig({ env: { FLUXMQ_SYS_ENABLED: 'yes' } })).toThrow(
      'FLUXMQ_SYS_ENABLED must be true or false',
    );
    expect(() =>
      loadConfig({ env: {}, overrides: { mqtt: { queueOverflow: 'drop-all' as never } } }),
    ).toThrow(/mqtt\.queueOverflow/);
  });

  it('explains unreadable and malformed files', () => {
    expect(() => loadConfig({ file: '/nonexistent/fluxmq.yaml', env: {} })).toThrow(
      'cannot read config file',
    );
    expect(() => loadConfig({ file: tempFile('bad.yaml', 'mqtt: [1, 2'), env: {} })).toThrow(
      'not valid YAML/JSON',
    );
    expect(() => loadConfig({ file: tempFile('list.yaml', '- 1\n'), env: {} })).toThrow(
      'object at the top level',
    );
  });
});

describe('list settings', () => {
  it('reads comma-separated FLUXMQ_* lists', () => {
    const config = loadConfig({ env: { FLUXMQ_TELEMETRY_TRACING_ALWAYS_SAMPLE_CLIENTS: 'a, b,,c' } });
    expect(config.telemetry.tracing.alwaysSampleClients).toEqual(['a', 'b', 'c']);
  });
});

describe('auth settings', () => {
  const hash = 'scrypt$16384$8$1$c2FsdHNhbHRzYWx0c2FsdA==$aGFzaGhhc2hoYXNoaGFzaGhhc2hoYXNoaGFzaGhhc2g=';

  it('is off by default and reads users and ACL rules from a file', () => {
    expect(defaultConfig().auth).toMatchObject({ enabled: false, allowAnonymous: false, users: [], acl: [] });
    const file = tempFile(
      'auth.yaml',
      [
        'auth:',
        '  enabled: true',
        `  users: [{ username: alice, passwordHash: "${hash}" }]`,
        '  acl:',
        '    - { effect: allow, topic: "users/%u/#", ipRange: "::ffff:10.0.0.0/104" }',
        '    - { effect: deny, action: publish, topic: "#", priority: 5 }',
      ].join('\n'),
    );
    const config = loadConfig({ file, env: { FLUXMQ_AUTH_JWT_ALGORITHMS: 'HS256,RS256' } });
    expect(config.auth.users).toEqual([{ username: 'alice', passwordHash: hash }]);
    expect(config.auth.acl).toEqual([
      { effect: 'allow', action: 'all', topic: 'users/%u/#', ipRange: '::ffff:10.0.0.0/104', priority: 0 },
      { effect: 'deny', action: 'publish', topic: '#', priority: 5 },
    ]);
    expect(config.auth.jwt.algorithms).toEqual(['HS256', 'RS256']);
  });

  it('has no FLUXMQ_* variable for lists of objects, which a comma-separated value cannot hold', () => {
    const names = envVariables().map((v) => v.name);
    expect(names).not.toContain('FLUXMQ_AUTH_USERS');
    expect(names).not.toContain('FLUXMQ_AUTH_ACL');
    expect(names).toContain('FLUXMQ_AUTH_ALLOW_ANONYMOUS');
    expect(names).toContain('FLUXMQ_AUTH_JWT_ALGORITHMS');
    expect(loadConfig({ env: { FLUXMQ_AUTH_USERS: 'alice' } }).auth.users).toEqual([]);
  });

  it('refuses plaintext passwords, malformed rules and incomplete JWT and HTTP settings', () => {
    const load = (auth: FluxConfigInput['auth']) => () => loadConfig({ env: {}, overrides: { auth } });
    expect(load({ users: [{ username: 'a', passwordHash: 'secret' }] })).toThrow(/not a password/);
    expect(load({ acl: [{ effect: 'allow', topic: 'a/#/b' }] })).toThrow(/auth\.acl\[0\]\.topic/);
    expect(load({ acl: [{ effect: 'allow', topic: 'a+' }] })).toThrow(/topic filter/);
    expect(load({ acl: [{ effect: 'allow', topic: '#', ipRange: '10.0.0.0/33' }] })).toThrow(/CIDR/);
    expect(load({ acl: [{ effect: 'allow', topic: '#', ipRange: 'fd00::/129' }] })).toThrow(/CIDR/);
    expect(load({ acl: [{ effect: 'allow', topic: '#', ipRange: 'fd00::/64' }] })).not.toThrow();
    expect(load({ jwt: { enabled: true } })).toThrow(/auth\.jwt\.secret/);
    expect(load({ jwt: { enabled: true, algorithms: ['ES256'], secret: 'x' } })).toThrow(/publicKey/);
    expect(load({ http: { enabled: true } })).toThrow(/authenticateUrl or authorizeUrl/);
    expect(load({ http: { enabled: true, authorizeUrl: 'not a url' } })).toThrow(/http\(s\) URL/);
  });
});
