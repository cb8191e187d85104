import { createHash, X509Certificate } from 'node:crypto';
import { readFileSync, unwatchFile, watchFile } from 'node:fs';
import { createSecureContext, type SecureContextOptions, type TLSSocket } from 'node:tls';
import type { ClientCertificate, Logger } from '@fluxmq/engine';

export type ClientCertificateMode = 'none' | 'optional' | 'required';

/** The TLS part of a `tls` or `wss` listener's configuration. */
export interface TlsSettings {
  certFile: string;
  keyFile: string;
  /** Empty when client certificates are not asked for. */
  caFile: string;
  clientCertificates: ClientCertificateMode;
}

/** Outcome of one reload of a listener's certificate files. */
export interface CertificateReload {
  listener: string;
  ok: boolean;
  /** True when the files held new material and the listener now serves it. */
  changed: boolean;
  error?: string;
}

interface Material {
  context: SecureContextOptions;
  digest: string;
  certificate: X509Certificate;
}

const PEM_CERTIFICATE = /-----BEGIN CERTIFICATE-----[^-]+-----END CERTIFICATE-----/g;

/** Every certificate of a PEM bundle, parsed: OpenSSL silently skips garbage in a CA bundle, we do not. */
function parseCertificates(pem: Buffer, what: string): X509Certificate[] {
  const blocks = pem.toString('latin1').match(PEM_CERTIFICATE);
  if (!blocks) throw new Error(`${what} holds no PEM certificate`);
  return blocks.map((block, i) => {
    try {
      return new X509Certificate(block);
    } catch (err) {
      throw new Error(`${what}: certificate ${i + 1} cannot be parsed: ${(err as Error).message}`);
    }
  });
}

/**
 * Reads and checks a listener's files: every certificate parses and the key matches the certificate
 * (`createSecureContext` is the check the server itself would make). Throws naming the file at fault.
 */
function readMaterial(name: string, settings: TlsSettings): Material {
  const read = (key: 'certFile' | 'keyFile' | 'caFile'): Buffer => {
    try {
      return readFileSync(settings[key]);
    } catch (err) {
      throw new Error(`cannot read listeners.${name}.${key}: ${(err as Error).message}`);
    }
  };
  const cert = read('certFile');
  const key = read('keyFile');
  const ca = settings.caFile ? read('caFile') : undefined;
  const [certificate] = parseCertificates(cert, `listeners.${name}.certFile ${settings.certFile}`);
  if (ca) parseCertificates(ca, `listeners.${name}.caFile ${settings.caFile}`);
  const context: SecureContextOptions = ca ? { cert, key, ca } : { cert, key };
  try {
    createSecureContext(context);
  } catch (err) {
    throw new Error(
      `listeners.${name}: certFile ${settings.certFile} and keyFile ${settings.keyFile} do not make a ` +
        `usable certificate: ${(err as Error).message}`,
    );
  }
  const digest = createHash('sha256');
  for (const part of [cert, key, ca ?? Buffer.alloc(0)]) digest.update(part).update('\0');
  return { context, digest: digest.digest('hex'), certificate };
}

function summary(certificate: X509Certificate): Record<string, unknown> {
  return {
    subject: certificate.subject.replace(/\n/g, ', '),
    serialNumber: certificate.serialNumber,
    validTo: new Date(certificate.validTo).toISOString(),
    fingerprint256: certificate.fingerprint256,
  };
}

export interface CertificateWatcherOptions {
  /** How often the files are checked for replacement. */
  pollIntervalMs?: number;
  /** Quiet time after a change before reading, so a certificate and key replaced together load together. */
  debounceMs?: number;
}

/**
 * Keeps a TLS server's certificate in step with its files, without a restart: existing connections keep the
 * certificate they were made with, new ones get the new one. Files are polled with `fs.watchFile` (a stat
 * per file and interval) rather than `fs.watch`: a stat follows the path, so it sees a file replaced by
 * rename (certbot, cert-manager's symlink swap, `mv`) as well as one rewritten in place, and it works on
 * network and container-mounted filesystems where inotify does not. Material that does not load (unparsable,
 * key not matching, half-written) is logged and the current certificate kept; a later change retries.
 */
export class CertificateWatcher {
  /** What the server starts with. */
  readonly initial: SecureContextOptions;
  private digest: string;
  private certificate: X509Certificate;
  private timer: NodeJS.Timeout | undefined;
  private closed = false;
  private readonly files: string[];
  // Called when a file's stat changed (or it vanished); reading waits until changes settle.
  private readonly onChange = (): void => {
    clearTimeout(this.timer);
    this.timer = setTimeout(() => this.reload(), this.debounceMs);
    this.timer.unref();
  };
  private readonly debounceMs: number;

  /** Reads the files once (throwing if they do not load) and starts watching them. */
  constructor(
    private readonly name: string,
    private readonly settings: TlsSettings,
    private readonly apply: (context: SecureContextOptions) => void,
    private readonly log: Logger,
    options: CertificateWatcherOptions = {},
  ) {
    const material = readMaterial(name, settings);
    this.initial = material.context;
    this.digest = material.digest;
    this.certificate = material.certificate;
    this.debounceMs = options.debounceMs ?? 200;
    if (new Date(this.certificate.validTo).getTime() < Date.now()) {
      log.warn('certificate has expired', { listener: name, ...summary(this.certificate) });
    }
    this.files = [settings.certFile, settings.keyFile, settings.caFile].filter(Boolean);
    const interval = options.pollIntervalMs ?? 1000;
    // Not persistent: watching files must not keep a closing process alive.
    for (const file of this.files) watchFile(file, { interval, persistent: false }, this.onChange);
  }

  /** The certificate new connections get. */
  get current(): X509Certificate {
    return this.certificate;
  }

  /** Reads the files now and serves their material if it is new and loads; otherwise keeps the current. */
  reload(): CertificateReload {
    if (this.closed) return { listener: this.name, ok: false, changed: false, error: 'listener closed' };
    let material: Material;
    try {
      material = readMaterial(this.name, this.settings);
    } catch (err) {
      const error = (err as Error).message;
      this.log.warn('certificate reload failed; keeping the current certificate', {
        listener: this.name,
        error,
      });
      return { listener: this.name, ok: false, changed: false, error };
    }
    if (material.digest === this.digest) return { listener: this.name, ok: true, changed: false };
    this.apply(material.context);
    this.digest = material.digest;
    this.certificate = material.certificate;
    this.log.info('certificate reloaded', { listener: this.name, ...summary(material.certificate) });
    return { listener: this.name, ok: true, changed: true };
  }

  close(): void {
    this.closed = true;
    clearTimeout(this.timer);
    for (const file of this.files) unwatchFile(file, this.onChange);
  }
}

/** How a TLS server asks for client certificates (mTLS). */
export function clientCertificateOptions(mode: ClientCertificateMode): {
  requestCert: boolean;
  rejectUnauthorized: boolean;
} {
  // 'optional' must let a client without a certificate in, so OpenSSL cannot reject; `admitTlsSocket`
  // then refuses one whose certificate does not verify.
  return { requestCert: mode !== 'none', rejectUnauthorized: mode === 'required' };
}

/**
 * Whether a handshaken socket may go on. A certificate that does not verify against the CA is refused even
 * when certificates are optional: "optional" means a client may come without one, not with a forged one.
 */
export function admitTlsSocket(socket: TLSSocket, mode: ClientCertificateMode): boolean {
  if (mode === 'none' || socket.authorized) return true;
  if (mode === 'required') return false;
  return socket.getPeerX509Certificate() === undefined;
}

/** Splits Node's `subjectaltname` text; since Node 17.3.1 it JSON-quotes values holding `,` or `"`. */
export function parseSubjectAltNames(text: string | undefined): string[] {
  if (!text) return [];
  const names: string[] = [];
  for (const match of text.matchAll(/([^:,]+):("(?:[^"\\]|\\.)*"|[^,]*)(?:, |$)/g)) {
    const value = match[2].startsWith('"') ? (JSON.parse(match[2]) as string) : match[2];
    names.push(`${match[1].trim()}:${value}`);
  }
  return names;
}

/** The identity of a verified client certificate, for the engine's authenticator; none when unverified. */
export function clientCertificate(socket: TLSSocket): ClientCertificate | undefined {
  if (!socket.authorized) return undefined;
  const peer = socket.getPeerX509Certificate();
  if (!peer) return undefined;
  // The parsed subject has no escaping to undo; a repeated CN comes as an array, the last the most specific.
  const cn: string | string[] | undefined = socket.getPeerCertificate().subject?.CN;
  const commonName = Array.isArray(cn) ? cn[cn.length - 1] : cn;
  const subjectAltNames = parseSubjectAltNames(peer.subjectAltName);
  return commonName === undefined
    ? { subject: peer.subject, subjectAltNames }
    : { subject: peer.subject, commonName, subjectAltNames };
}
