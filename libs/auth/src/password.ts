import { randomBytes, scrypt, timingSafeEqual, type ScryptOptions } from 'node:crypto';

// Passwords are stored as `scrypt$N$r$p$salt$hash` (salt and hash in base64): the parameters travel with
// each hash, so raising them later does not invalidate existing ones.

/** Django's scrypt defaults: 16 MiB and tens of milliseconds per login, bearable under a connect storm. */
export const DEFAULT_SCRYPT = { N: 16384, r: 8, p: 1 } as const;
const SALT_BYTES = 16;
const KEY_BYTES = 32;
// A hostile or mistyped hash must not make one login allocate gigabytes or run for minutes.
const MAX_MEMORY = 256 * 1024 * 1024;
const MAX_P = 16;
const BASE64 = /^[A-Za-z0-9+/]+=*$/;

export interface PasswordHash {
  readonly params: { N: number; r: number; p: number };
  readonly salt: Buffer;
  readonly key: Buffer;
}

function derive(password: Buffer | string, salt: Buffer, params: PasswordHash['params'], length: number) {
  // Node's default maxmem (32 MiB) is just below what N=2^15 needs; allow what the parameters ask for.
  const options: ScryptOptions = { ...params, maxmem: 256 * params.N * params.r * params.p };
  return new Promise<Buffer>((resolve, reject) => {
    scrypt(password, salt, length, options, (err, key) => (err ? reject(err) : resolve(key)));
  });
}

export async function hashPassword(
  password: string,
  params: PasswordHash['params'] = DEFAULT_SCRYPT,
): Promise<string> {
  const salt = randomBytes(SALT_BYTES);
  const key = await derive(password, salt, params, KEY_BYTES);
  return ['scrypt', params.N, params.r, params.p, salt.toString('base64'), key.toString('base64')].join('$');
}

/** Parses a stored hash; throws on anything that is not one (a plaintext password, a typo). */
export function parsePasswordHash(text: string): PasswordHash {
  const parts = text.split('$');
  const [scheme, n, r, p, salt, key] = parts;
  const params = { N: Number(n), r: Number(r), p: Number(p) };
  const isPowerOfTwo = Number.isInteger(params.N) && params.N > 1 && (params.N & (params.N - 1)) === 0;
  const valid =
    parts.length === 6 &&
    scheme === 'scrypt' &&
    isPowerOfTwo &&
    Number.isInteger(params.r) &&
    params.r >= 1 &&
    Number.isInteger(params.p) &&
    params.p >= 1 &&
    params.p <= MAX_P &&
    128 * params.N * params.r <= MAX_MEMORY &&
    BASE64.test(salt) &&
    BASE64.test(key);
  const hash = valid && { params, salt: Buffer.from(salt, 'base64'), key: Buffer.from(key, 'base64') };
  // An empty key would compare equal to any empty derivation: demand a real one.
  if (!hash || hash.salt.length < 8 || hash.key.length < 16 || hash.key.length > 64) {
    throw new Error('not a scrypt password hash (scrypt$N$r$p$salt$hash)');
  }
  return hash;
}

/** Constant-time comparison of the derived key with the stored one. */
export async function verifyPassword(password: Buffer, hash: PasswordHash): Promise<boolean> {
  const key = await derive(password, hash.salt, hash.params, hash.key.length);
  return timingSafeEqual(key, hash.key);
}
