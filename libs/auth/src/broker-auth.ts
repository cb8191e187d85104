import type { QoS } from '@fluxmq/codec';
import type { AuthConfig } from '@fluxmq/config';
import type {
  AuthResult,
  Authenticator,
  Authorizer,
  BrokerObserver,
  ClientInfo,
  ConnectRequest,
  Logger,
} from '@fluxmq/engine';
import type { AclRule } from './acl';
import { AccessControl } from './access-control';
import { LoginChain } from './authenticator';
import { HttpCallout } from './http-callout';
import { JwtVerifier } from './jwt';
import { PendingGrants } from './pending-grants';
import { UserDirectory, type UserRecord } from './users';

/**
 * Authentication and authorization from the `auth` configuration, as the engine's hooks. Users and ACL
 * rules are plain records: those of the configuration stay, and `setUsers`/`setRules` replace the rest
 * as a whole (a store behind the admin API feeds them); either clears the decision cache.
 */
export class BrokerAuth implements Authenticator, Authorizer {
  /** Hands a connection the ACL its login brought (from a token or the HTTP service); install it. */
  readonly observer: BrokerObserver;
  private readonly users: UserDirectory;
  private readonly access: AccessControl;
  private readonly login: LoginChain;

  constructor(config: AuthConfig, logger: Logger) {
    const http = config.http.enabled ? new HttpCallout(config.http, logger) : undefined;
    const grants = new PendingGrants();
    this.users = new UserDirectory(config.users);
    this.access = new AccessControl(config.acl, config.aclCacheSize, logger, http, config.http.failOpen);
    this.login = new LoginChain(
      {
        users: this.users,
        certificate: config.certificate,
        jwt: config.jwt.enabled ? new JwtVerifier(config.jwt) : undefined,
        http,
        allowAnonymous: config.allowAnonymous,
        failOpen: config.http.failOpen,
      },
      grants,
      logger,
    );
    this.observer = {
      clientConnected: (client) => this.access.connected(client, grants.take(client)),
    };
  }

  /** Replaces the users that do not come from the configuration; throws, changing nothing, on a bad hash. */
  setUsers(records: readonly UserRecord[]): void {
    this.users.replace(records);
    this.access.invalidate();
  }

  /** Replaces the rules that do not come from the configuration; throws, changing nothing, on a bad rule. */
  setRules(rules: readonly AclRule[]): void {
    this.access.setRules(rules);
  }

  authenticate(request: ConnectRequest): AuthResult | Promise<AuthResult> {
    return this.login.authenticate(request);
  }

  canPublish(client: ClientInfo, topic: string, qos: QoS, retain: boolean): boolean | Promise<boolean> {
    return this.access.check(client, 'publish', topic, qos, retain);
  }

  canSubscribe(client: ClientInfo, filter: string, qos: QoS): boolean | Promise<boolean> {
    return this.access.check(client, 'subscribe', filter, qos, false);
  }
}
