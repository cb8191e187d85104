import * as brokerAuth from './broker-auth';
import * as password from './password';

// Values as `export import` aliases, not `export { x } from`: see docs/architecture.md, "Decisions".
export type { AclRule } from './acl';
export type { UserRecord } from './users';
export import BrokerAuth = brokerAuth.BrokerAuth;
export import hashPassword = password.hashPassword;
