import { Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { passwordFrom } from '../src/hash-password';
import { DEFAULT_SCRYPT, hashPassword, parsePasswordHash, verifyPassword } from '../src/password';

const FAST = { N: 1024, r: 8, p: 1 }; // tests need no brute-force resistance

describe('password hashing', () => {
  it('hashes with scrypt at the default cost into scrypt$N$r$p$salt$hash and verifies it', async () => {
    const text = await hashPassword('correct horse');
    expect(text).toMatch(/^scrypt\$16384\$8\$1\$[A-Za-z0-9+/]{22}==\$[A-Za-z0-9+/]{43}=$/);
    const hash = parsePasswordHash(text);
    expect(hash.params).toEqual(DEFAULT_SCRYPT);
    expect(await verifyPassword(Buffer.from('correct horse'), hash)).toBe(true);
    expect(await verifyPassword(Buffer.from('correct horse '), hash)).toBe(false);
    expect(await verifyPassword(Buffer.alloc(0), hash)).toBe(false);
  });

  it('salts every hash, and reads the cost from the hash itself', async () => {
    const [a, b] = await Promise.all([hashPassword('same', FAST), hashPassword('same', FAST)]);
    expect(a).not.toBe(b);
    expect(a.startsWith('scrypt$1024$8$1$')).toBe(true);
    expect(await verifyPassword(Buffer.from('same'), parsePasswordHash(b))).toBe(true);
  });

  it.each([
    ['a plaintext password', 'hunter2'],
    ['another scheme', 'bcrypt$1024$8$1$c2FsdHNhbHQ=$aGFzaGhhc2hoYXNoaGFzaA=='],
    ['N not a power of two', 'scrypt$1000$8$1$c2FsdHNhbHQ=$aGFzaGhhc2hoYXNoaGFzaA=='],
    ['more than 256 MiB of memory', 'scrypt$1048576$8$1$c2FsdHNhbHQ=$aGFzaGhhc2hoYXNoaGFzaA=='],
    ['an empty key', 'scrypt$1024$8$1$c2FsdHNhbHQ=$A'],
    ['a missing part', 'scrypt$1024$8$c2FsdHNhbHQ=$aGFzaGhhc2hoYXNoaGFzaA=='],
  ])('refuses %s', (_what, text) => {
    expect(() => parsePasswordHash(text)).toThrow('not a scrypt password hash');
  });
});

describe('hash-password CLI', () => {
  it('takes the password from the argument, or from standard input without the trailing newline', async () => {
    expect(await passwordFrom(['from-arg'], Readable.from(['ignored']))).toBe('from-arg');
    expect(await passwordFrom([], Readable.from([Buffer.from('from '), Buffer.from('stdin\n')]))).toBe(
      'from stdin',
    );
    expect(await passwordFrom([], Readable.from([]))).toBe('');
  });
});
