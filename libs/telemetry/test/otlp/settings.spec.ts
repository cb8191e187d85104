import { describe, expect, it } from 'vitest';
import { otlpExportSettings } from '../../src/otlp/settings';

describe('OTLP export settings', () => {
  it('defaults to the local collector, and batches larger than the SDK’s', () => {
    expect(otlpExportSettings({})).toEqual({
      url: 'http://localhost:4318/v1/traces',
      headers: {},
      timeoutMs: 10_000,
      compression: 'none',
      tls: { caFile: undefined, certFile: undefined, keyFile: undefined },
      batch: {
        maxQueueSize: 8192,
        maxExportBatchSize: 2048,
        scheduleDelayMs: 5000,
        retryDelaysMs: [1000, 2000, 4000],
      },
      unsupportedProtocol: undefined,
      ignoredTlsFiles: [],
    });
  });

  it('names the TLS files given for an endpoint that is not https, which cannot use them', () => {
    const files = {
      OTEL_EXPORTER_OTLP_CERTIFICATE: '/etc/otel/ca.pem',
      OTEL_EXPORTER_OTLP_TRACES_CLIENT_KEY: '/etc/otel/client.key',
    };
    expect(otlpExportSettings(files, 'http://collector:4318').ignoredTlsFiles).toEqual([
      '/etc/otel/ca.pem',
      '/etc/otel/client.key',
    ]);
    expect(otlpExportSettings(files, 'https://collector:4318').ignoredTlsFiles).toEqual([]);
    expect(otlpExportSettings(files, 'HTTPS://collector:4318').ignoredTlsFiles).toEqual([]);
    expect(otlpExportSettings({}, 'http://collector:4318').ignoredTlsFiles).toEqual([]);
  });

  it('speaks http/protobuf, and names any other protocol the variables ask for', () => {
    expect(
      otlpExportSettings({ OTEL_EXPORTER_OTLP_PROTOCOL: 'http/protobuf' }).unsupportedProtocol,
    ).toBeUndefined();
    expect(otlpExportSettings({ OTEL_EXPORTER_OTLP_PROTOCOL: 'grpc' }).unsupportedProtocol).toBe('grpc');
    expect(
      otlpExportSettings({
        OTEL_EXPORTER_OTLP_PROTOCOL: 'grpc',
        OTEL_EXPORTER_OTLP_TRACES_PROTOCOL: 'http/json',
      }).unsupportedProtocol,
    ).toBe('http/json');
  });

  it('takes the endpoint from the configuration, then the traces variable as is, then the base variable', () => {
    const env = {
      OTEL_EXPORTER_OTLP_ENDPOINT: 'http://base:4318/',
      OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: 'https://traces:443/custom/path',
    };
    expect(otlpExportSettings(env, 'http://configured:4318//').url).toBe('http://configured:4318/v1/traces');
    expect(otlpExportSettings(env).url).toBe('https://traces:443/custom/path');
    expect(otlpExportSettings({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://base:4318/' }).url).toBe(
      'http://base:4318/v1/traces',
    );
  });

  it('reads headers, timeout, compression, TLS files and batching, the traces-specific variables first', () => {
    const settings = otlpExportSettings({
      OTEL_EXPORTER_OTLP_HEADERS: 'authorization=Basic%20abc,x-team=core',
      OTEL_EXPORTER_OTLP_TRACES_HEADERS: 'x-team=broker, broken, =x',
      OTEL_EXPORTER_OTLP_TIMEOUT: '3000',
      OTEL_EXPORTER_OTLP_TRACES_TIMEOUT: '2000',
      OTEL_EXPORTER_OTLP_COMPRESSION: 'gzip',
      OTEL_EXPORTER_OTLP_CERTIFICATE: '/etc/otel/ca.pem',
      OTEL_EXPORTER_OTLP_TRACES_CERTIFICATE: ' ',
      OTEL_EXPORTER_OTLP_CLIENT_CERTIFICATE: '/etc/otel/client.pem',
      OTEL_EXPORTER_OTLP_TRACES_CLIENT_CERTIFICATE: '/etc/otel/traces-client.pem',
      OTEL_EXPORTER_OTLP_TRACES_CLIENT_KEY: '/etc/otel/traces-client.key',
      OTEL_BSP_MAX_QUEUE_SIZE: '100',
      OTEL_BSP_MAX_EXPORT_BATCH_SIZE: '500',
      OTEL_BSP_SCHEDULE_DELAY: '50',
    });
    expect(settings).toMatchObject({
      headers: { authorization: 'Basic abc', 'x-team': 'broker' },
      timeoutMs: 2000,
      compression: 'gzip',
      tls: {
        caFile: '/etc/otel/ca.pem', // the blank traces variable is unset
        certFile: '/etc/otel/traces-client.pem',
        keyFile: '/etc/otel/traces-client.key',
      },
      batch: { maxQueueSize: 100, maxExportBatchSize: 100, scheduleDelayMs: 50 },
    });
  });

  it('ignores values that are not positive whole numbers', () => {
    expect(
      otlpExportSettings({ OTEL_BSP_SCHEDULE_DELAY: 'soon', OTEL_BSP_MAX_QUEUE_SIZE: '-5' }).batch,
    ).toMatchObject({
      maxQueueSize: 8192,
      maxExportBatchSize: 2048,
      scheduleDelayMs: 5000,
    });
  });
});
