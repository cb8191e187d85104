import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/**
 * A throw-away PKI made with the openssl CLI: a CA, server certificates for 127.0.0.1/localhost, client
 * certificates signed by the CA, and a self-signed "rogue" client certificate. EC P-256 keys: each
 * certificate takes milliseconds, so tests can make as many as they need.
 */
export interface Issued {
  cert: string;
  key: string;
  /** Uppercase hex, as `X509Certificate.serialNumber` and `getPeerCertificate().serialNumber` print it. */
  serial: string;
}

export interface Pki {
  readonly dir: string;
  /** The CA certificate (PEM file path). */
  readonly ca: string;
  readonly server: Issued;
  /** Signed by the CA: CN `sensor-17`, SANs `DNS:sensor-17.local`, `email:ops@acme.test`, `URI:spiffe://acme/sensor-17`. */
  readonly client: Issued;
  /** Self-signed, same subject as `client`: must never pass for it. */
  readonly rogue: Issued;
  /** Another server certificate from the same CA, in files of its own. */
  issueServer(name: string): Issued;
  read(file: string): Buffer;
  /** Replaces `target` the way certbot and cert-manager do: write a temporary file, rename it over. */
  replace(target: string, content: Buffer | string): void;
  remove(): void;
}

const EC = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-days', '2'];

let serials = 0x1000;

export function createPki(): Pki {
  const dir = mkdtempSync(join(tmpdir(), 'fluxmq-pki-'));
  const path = (name: string): string => join(dir, name);
  const openssl = (args: string[]): void => {
    execFileSync('openssl', args, { stdio: ['ignore', 'ignore', 'pipe'] });
  };
  const issue = (name: string, subject: string, altNames: string, signed: boolean): Issued => {
    serials += 1;
    const serial = serials.toString(16).toUpperCase();
    const cert = path(`${name}.crt`);
    const key = path(`${name}.key`);
    openssl([
      'req',
      '-x509',
      ...EC,
      '-keyout',
      key,
      '-out',
      cert,
      '-subj',
      subject,
      '-set_serial',
      `0x${serial}`,
      '-addext',
      'basicConstraints=critical,CA:FALSE',
      '-addext',
      `subjectAltName=${altNames}`,
      ...(signed ? ['-CA', path('ca.crt'), '-CAkey', path('ca.key')] : []),
    ]);
    return { cert, key, serial };
  };
  openssl([
    'req',
    '-x509',
    ...EC,
    '-keyout',
    path('ca.key'),
    '-out',
    path('ca.crt'),
    '-subj',
    '/CN=FluxMQ Test CA',
  ]);
  const clientSubject = '/O=Acme/CN=sensor-17';
  const clientNames = 'DNS:sensor-17.local,email:ops@acme.test,URI:spiffe://acme/sensor-17';
  let temp = 0;
  return {
    dir,
    ca: path('ca.crt'),
    server: issue('server', '/CN=localhost', 'IP:127.0.0.1,DNS:localhost', true),
    client: issue('client', clientSubject, clientNames, true),
    rogue: issue('rogue', clientSubject, clientNames, false),
    issueServer: (name) => issue(name, `/CN=${name}`, 'IP:127.0.0.1,DNS:localhost', true),
    read: (file) => readFileSync(file),
    replace(target, content) {
      temp += 1;
      const staged = path(`.staged-${temp}`);
      writeFileSync(staged, content);
      renameSync(staged, target);
    },
    remove: () => rmSync(dir, { recursive: true, force: true }),
  };
}
