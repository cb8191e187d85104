export { BrokerAuth } from './broker-auth';
export type { AclRule } from './acl';
export type { UserRecord } from './users';
export { hashPassword } from './password';
