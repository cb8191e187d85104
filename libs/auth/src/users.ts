import { randomBytes } from 'node:crypto';
import { DEFAULT_SCRYPT, parsePasswordHash, verifyPassword, type PasswordHash } from './password';

/** A built-in user as configured or stored: never a password, only its hash. */
export interface UserRecord {
  readonly username: string;
  /** `scrypt$N$r$p$salt$hash`, as `hashPassword` makes it. */
  readonly passwordHash: string;
}

export type PasswordCheck = 'ok' | 'wrong password' | 'unknown user';

function index(records: readonly UserRecord[]): Map<string, PasswordHash> {
  const users = new Map<string, PasswordHash>();
  for (const { username, passwordHash } of records) {
    try {
      users.set(username, parsePasswordHash(passwordHash));
    } catch (err) {
      throw new Error(`user ${username}: ${(err as Error).message}`);
    }
  }
  return users;
}

/**
 * Built-in users: those of the configuration plus a set from elsewhere (a store edited through the admin
 * API) that is replaced as a whole. A configured user wins over a stored one of the same name.
 */
export class UserDirectory {
  private readonly configured: Map<string, PasswordHash>;
  private managed = new Map<string, PasswordHash>();
  // Unknown users cost a derivation too, so response times do not tell which usernames exist.
  private readonly decoy: PasswordHash = {
    params: DEFAULT_SCRYPT,
    salt: randomBytes(16),
    key: randomBytes(32),
  };

  constructor(configured: readonly UserRecord[]) {
    this.configured = index(configured);
  }

  /** Replaces the users from elsewhere; throws, replacing nothing, when a hash is malformed. */
  replace(records: readonly UserRecord[]): void {
    this.managed = index(records);
  }

  has(username: string): boolean {
    return this.configured.has(username) || this.managed.has(username);
  }

  async check(username: string, password: Buffer | undefined): Promise<PasswordCheck> {
    const hash = this.configured.get(username) ?? this.managed.get(username);
    const matches = await verifyPassword(password ?? Buffer.alloc(0), hash ?? this.decoy);
    if (hash === undefined) return 'unknown user';
    return matches ? 'ok' : 'wrong password';
  }
}
