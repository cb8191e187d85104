import type { ClientCertificate } from '@fluxmq/engine';

export type CertificateIdentity = 'cn' | 'san';

/**
 * The username a verified client certificate logs in as: its Common Name, or the value of its first
 * Subject Alternative Name without the type (`DNS:sensor-17.local` gives `sensor-17.local`).
 */
export function certificateUsername(
  certificate: ClientCertificate,
  identity: CertificateIdentity,
): string | undefined {
  if (identity === 'cn') return certificate.commonName || undefined;
  const first = certificate.subjectAltNames[0];
  if (first === undefined) return undefined;
  const colon = first.indexOf(':');
  return first.slice(colon + 1) || undefined;
}
