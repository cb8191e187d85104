import { ReasonCode } from '@fluxmq/codec';
import type { AuthConfig } from '@fluxmq/config';
import type { AuthResult, ConnectRequest, Logger } from '@fluxmq/engine';
import type { CompiledRule } from './acl';
import { certificateUsername } from './certificate';
import type { HttpCallout } from './http-callout';
import { looksLikeJwt, type JwtVerifier } from './jwt';
import type { PendingGrants } from './pending-grants';
import type { UserDirectory } from './users';

// What a refused client is told stays generic (no hint which usernames exist); the log says more.
const BAD_CREDENTIALS: AuthResult = {
  ok: false,
  reasonCode: ReasonCode.BadUserNameOrPassword,
  reason: 'bad user name or password',
};
const ANONYMOUS_REFUSED: AuthResult = {
  ok: false,
  reasonCode: ReasonCode.NotAuthorized,
  reason: 'anonymous access is not allowed',
};
const SERVICE_UNAVAILABLE: AuthResult = {
  ok: false,
  reasonCode: ReasonCode.ServerUnavailable,
  reason: 'authentication service unavailable',
};

export interface LoginMethods {
  readonly users: UserDirectory;
  readonly certificate: AuthConfig['certificate'];
  readonly jwt: JwtVerifier | undefined;
  readonly http: HttpCallout | undefined;
  readonly allowAnonymous: boolean;
  readonly failOpen: boolean;
}

/**
 * Logs clients in by the first method that applies: a verified client certificate (when enabled), a JWT
 * sent as the password (when enabled and the password is one), a built-in user, the HTTP service (for
 * credentials no built-in user has), and last anonymous access for clients that sent no credentials.
 */
export class LoginChain {
  constructor(
    private readonly methods: LoginMethods,
    private readonly grants: PendingGrants,
    private readonly logger: Logger,
  ) {}

  authenticate(request: ConnectRequest): AuthResult | Promise<AuthResult> {
    const { users, certificate, jwt, http, allowAnonymous } = this.methods;
    if (certificate.enabled && request.certificate) {
      const username = certificateUsername(request.certificate, certificate.identity);
      if (username !== undefined) return this.accept(request, 'certificate', username, undefined);
    }
    const { username, password } = request;
    if (jwt && password && looksLikeJwt(password)) return this.jwtLogin(jwt, request, password);
    if (username === undefined && password === undefined) {
      if (allowAnonymous) return this.accept(request, 'anonymous', undefined, undefined);
      return this.refuse(request, 'anonymous', 'no credentials', ANONYMOUS_REFUSED);
    }
    if (http?.authenticates && (username === undefined || !users.has(username))) {
      return this.httpLogin(http, request);
    }
    return this.passwordLogin(users, request);
  }

  private async jwtLogin(jwt: JwtVerifier, request: ConnectRequest, token: Buffer): Promise<AuthResult> {
    const login = await jwt.verify(token.toString('latin1'));
    if (!login.ok) return this.refuse(request, 'jwt', login.why, BAD_CREDENTIALS);
    return this.accept(request, 'jwt', login.username, login.acl);
  }

  private async passwordLogin(users: UserDirectory, request: ConnectRequest): Promise<AuthResult> {
    const { username, password } = request;
    if (username === undefined) return this.refuse(request, 'password', 'no username', BAD_CREDENTIALS);
    const check = await users.check(username, password);
    if (check !== 'ok') return this.refuse(request, 'password', check, BAD_CREDENTIALS);
    return this.accept(request, 'password', username, undefined);
  }

  private async httpLogin(http: HttpCallout, request: ConnectRequest): Promise<AuthResult> {
    const login = await http.authenticate(request);
    if (login.result === 'allow') {
      return this.accept(request, 'http', login.username ?? request.username, login.acl);
    }
    if (login.result === 'deny') return this.refuse(request, 'http', 'denied', BAD_CREDENTIALS);
    if (!this.methods.failOpen) return this.refuse(request, 'http', login.why, SERVICE_UNAVAILABLE);
    return this.accept(request, 'http (call failed, fail open)', request.username, undefined);
  }

  private accept(
    request: ConnectRequest,
    method: string,
    username: string | undefined,
    acl: CompiledRule[] | undefined,
  ): AuthResult {
    if (acl) this.grants.add(request, username, acl);
    this.logger.debug('authenticated', { clientId: request.clientId, username, method });
    return { ok: true, username };
  }

  private refuse(request: ConnectRequest, method: string, why: string, result: AuthResult): AuthResult {
    this.logger.info('authentication failed', {
      clientId: request.clientId,
      username: request.username,
      remote: request.remoteAddress,
      method,
      why,
    });
    return result;
  }
}
