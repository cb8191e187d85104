import { createHash } from 'node:crypto';
import type { AuthConfig } from '@fluxmq/config';
import type { ClientInfo, ConnectRequest, Logger } from '@fluxmq/engine';
import type { AclAction, CompiledRule } from './acl';
import { parseClientAcl } from './client-acl';
import { TtlCache } from './ttl-cache';

export type HttpConfig = AuthConfig['http'];

export type HttpLogin =
  | { result: 'allow'; username: string | undefined; acl: CompiledRule[] | undefined }
  | { result: 'deny' }
  | { result: 'failed'; why: string };

export type HttpVerdict = 'allow' | 'deny' | 'failed';

/**
 * Asks an external HTTP service. Each question is a POST with a JSON body; the answer is JSON
 * `{"result": "allow" | "deny"}`, for logins optionally with `username` (replaces the client's) and `acl`
 * (the client's own rules). Anything else (another status, bad JSON, no answer within `timeoutMs`) is a
 * failed call, which `failOpen` turns into allow and otherwise refuses. Answers are cached for
 * `cacheTtlSeconds`, failures are not; identical questions in flight share one call.
 */
export class HttpCallout {
  private readonly logins: TtlCache<HttpLogin>;
  private readonly verdicts: TtlCache<HttpVerdict>;
  private readonly inFlight = new Map<string, Promise<unknown>>();

  constructor(
    private readonly config: HttpConfig,
    private readonly logger: Logger,
  ) {
    const ttl = config.cacheTtlSeconds * 1000;
    this.logins = new TtlCache(ttl, config.cacheSize);
    this.verdicts = new TtlCache(ttl, config.cacheSize);
  }

  get authenticates(): boolean {
    return this.config.authenticateUrl !== '';
  }

  get authorizes(): boolean {
    return this.config.authorizeUrl !== '';
  }

  /**
   * Body: clientId, username, password (UTF-8 decoded), remoteAddress, listener, protocolVersion (3, 4, 5),
   * and certificate {commonName, subjectAltNames} when the client presented one.
   */
  authenticate(request: ConnectRequest): Promise<HttpLogin> {
    const body = {
      clientId: request.clientId,
      username: request.username,
      password: request.password?.toString('utf8'),
      remoteAddress: request.remoteAddress,
      listener: request.listener,
      protocolVersion: request.protocolVersion,
      certificate: request.certificate && {
        commonName: request.certificate.commonName,
        subjectAltNames: request.certificate.subjectAltNames,
      },
    };
    // Hashed: the cache must not keep passwords in memory as they came.
    const key = createHash('sha256').update(JSON.stringify(body)).digest('base64');
    const cached = this.logins.get(key);
    if (cached) return Promise.resolve(cached);
    return this.once(key, async () => {
      const answer = await this.post(this.config.authenticateUrl, body);
      const login = typeof answer === 'string' ? { result: 'failed' as const, why: answer } : toLogin(answer);
      if (login.result === 'failed') this.failed('authenticate', login.why, request);
      else this.logins.set(key, login);
      return login;
    });
  }

  /** Body: clientId, username, remoteAddress, listener, protocolVersion, action, topic, qos, retain. */
  authorize(
    client: ClientInfo,
    action: AclAction,
    topic: string,
    qos: number,
    retain: boolean,
  ): HttpVerdict | Promise<HttpVerdict> {
    const { clientId, username, remoteAddress, listener, protocolVersion } = client;
    const body = { clientId, username, remoteAddress, listener, protocolVersion, action, topic, qos, retain };
    const key = JSON.stringify(body);
    const cached = this.verdicts.get(key);
    if (cached) return cached;
    return this.once(key, async () => {
      const answer = await this.post(this.config.authorizeUrl, body);
      const result = typeof answer === 'string' ? answer : resultOf(answer);
      if (result === 'allow' || result === 'deny') {
        this.verdicts.set(key, result);
        return result;
      }
      this.failed('authorize', result, client);
      return 'failed' as const;
    });
  }

  private once<T>(key: string, call: () => Promise<T>): Promise<T> {
    const pending = this.inFlight.get(key) as Promise<T> | undefined;
    if (pending) return pending;
    const promise = call().finally(() => this.inFlight.delete(key));
    this.inFlight.set(key, promise);
    return promise;
  }

  /** The parsed JSON answer, or why there is none. */
  private async post(url: string, body: unknown): Promise<Record<string, unknown> | string> {
    try {
      const response = await fetch(url, {
        method: 'POST',
        headers: { 'content-type': 'application/json', accept: 'application/json' },
        body: JSON.stringify(body),
        signal: AbortSignal.timeout(this.config.timeoutMs),
      });
      if (!response.ok) {
        await response.body?.cancel();
        return `HTTP ${response.status}`;
      }
      const answer: unknown = await response.json();
      const isObject = answer !== null && typeof answer === 'object' && !Array.isArray(answer);
      return isObject ? (answer as Record<string, unknown>) : 'answer is not an object';
    } catch (err) {
      if ((err as Error).name === 'TimeoutError') return `no answer within ${this.config.timeoutMs} ms`;
      // fetch says only "fetch failed"; the cause says why (ECONNREFUSED, ENOTFOUND, ...).
      const cause = (err as Error).cause as { code?: string; message?: string } | undefined;
      const detail = cause?.code ?? cause?.message;
      return detail ? `${(err as Error).message}: ${detail}` : (err as Error).message;
    }
  }

  private failed(
    call: string,
    why: string,
    client: { clientId: string; username: string | undefined },
  ): void {
    this.logger.warn(`auth http ${call} call failed`, {
      clientId: client.clientId,
      username: client.username,
      why,
      failOpen: this.config.failOpen,
    });
  }
}

function resultOf(answer: Record<string, unknown>): HttpVerdict | string {
  const result = answer['result'];
  return result === 'allow' || result === 'deny' ? result : 'answer has no result "allow" or "deny"';
}

function toLogin(answer: Record<string, unknown>): HttpLogin {
  const result = resultOf(answer);
  if (result === 'deny') return { result };
  if (result !== 'allow') return { result: 'failed', why: result };
  const username = answer['username'];
  if (username !== undefined && (typeof username !== 'string' || username === '')) {
    return { result: 'failed', why: 'answer username is not a non-empty string' };
  }
  try {
    const acl = answer['acl'] === undefined ? undefined : parseClientAcl(answer['acl'], 'http');
    return { result, username, acl };
  } catch (err) {
    return { result: 'failed', why: (err as Error).message };
  }
}
