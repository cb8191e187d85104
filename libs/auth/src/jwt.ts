import { createPublicKey, type KeyObject } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { AuthConfig } from '@fluxmq/config';
import { errors, jwtVerify, type JWTHeaderParameters } from 'jose';
import type { CompiledRule } from './acl';
import { parseClientAcl } from './client-acl';

export type JwtConfig = AuthConfig['jwt'];

export type JwtLogin =
  { ok: true; username: string; acl: CompiledRule[] | undefined } | { ok: false; why: string };

// Three base64url segments, the first a JSON object (`{"` encodes as `eyJ`): a password that looks like
// this is treated as a token, anything else goes on to the other login methods.
const COMPACT_JWS = /^eyJ[A-Za-z0-9_-]*\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/;

export function looksLikeJwt(password: Buffer): boolean {
  return password.length < 16384 && COMPACT_JWS.test(password.toString('latin1'));
}

/** Verifies tokens sent as the CONNECT password: signature, `exp`, `nbf`, and issuer/audience if set. */
export class JwtVerifier {
  private readonly secret: Uint8Array | undefined;
  private readonly publicKey: KeyObject | undefined;

  constructor(private readonly config: JwtConfig) {
    this.secret = config.secret ? new TextEncoder().encode(config.secret) : undefined;
    const pem = config.publicKey || (config.publicKeyFile && readFileSync(config.publicKeyFile, 'utf8'));
    // createPublicKey takes an SPKI key or an X.509 certificate alike.
    this.publicKey = pem ? createPublicKey(pem) : undefined;
  }

  async verify(token: string): Promise<JwtLogin> {
    const { config } = this;
    let payload: Record<string, unknown>;
    try {
      ({ payload } = await jwtVerify(token, (header) => this.keyFor(header), {
        algorithms: config.algorithms,
        issuer: config.issuer || undefined,
        audience: config.audience || undefined,
        clockTolerance: config.clockToleranceSeconds,
      }));
    } catch (err) {
      return { ok: false, why: failure(err) };
    }
    const username = payload[config.usernameClaim];
    if (typeof username !== 'string' || username === '') {
      return { ok: false, why: `token has no ${config.usernameClaim} claim` };
    }
    const claim = payload[config.aclClaim];
    try {
      return { ok: true, username, acl: claim === undefined ? undefined : parseClientAcl(claim, 'jwt') };
    } catch (err) {
      return { ok: false, why: (err as Error).message };
    }
  }

  /** The secret for HS algorithms, the public key for the others: never one used as the other. */
  private keyFor(header: JWTHeaderParameters): Uint8Array | KeyObject {
    const key = header.alg.startsWith('HS') ? this.secret : this.publicKey;
    if (key === undefined) throw new errors.JOSEAlgNotAllowed(`no key configured for ${header.alg}`);
    return key;
  }
}

/** Why a token was refused, for the log: jose's messages name the check, never the token. */
function failure(err: unknown): string {
  if (err instanceof errors.JWTExpired) return 'token expired';
  if (err instanceof errors.JOSEError) return `invalid token: ${err.message}`;
  return 'invalid token';
}
