import type { ClientInfo } from '@fluxmq/engine';
import type { CompiledRule } from './acl';

interface Grant {
  readonly clientId: string;
  readonly username: string | undefined;
  readonly remoteAddress: string;
  readonly listener: string;
  readonly rules: CompiledRule[];
  readonly at: number;
}

// A login whose connection went away before CONNACK leaves its grant behind; this bounds how long.
const MAX_AGE_MS = 60_000;

/**
 * A client's own ACL (from its token or the HTTP service), from login until the engine reports the
 * connection up. The engine gives the authenticator a request, not the connection, so the grant is
 * matched to the connection by client id, final username, address and listener.
 */
export class PendingGrants {
  // Keyed by a sequence number: insertion order is age order, so expiry looks at the front only.
  private readonly grants = new Map<number, Grant>();
  private sequence = 0;

  add(client: ClientInfo, username: string | undefined, rules: CompiledRule[]): void {
    const now = Date.now();
    for (const [id, grant] of this.grants) {
      if (now - grant.at < MAX_AGE_MS) break;
      this.grants.delete(id);
    }
    const { clientId, remoteAddress, listener } = client;
    this.grants.set(++this.sequence, { clientId, username, remoteAddress, listener, rules, at: now });
  }

  /** The rules granted at this connection's login, if any; each grant is taken once. */
  take(client: ClientInfo): CompiledRule[] | undefined {
    for (const [id, grant] of this.grants) {
      if (
        grant.clientId === client.clientId &&
        grant.username === client.username &&
        grant.remoteAddress === client.remoteAddress &&
        grant.listener === client.listener
      ) {
        this.grants.delete(id);
        return grant.rules;
      }
    }
    return undefined;
  }
}
