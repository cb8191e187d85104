export { openPersistence, type Persistence } from './persistence';
export { openDataSource, MIGRATIONS } from './data-source';
export { loadAclRules, loadUsers, type StoredAclRule, type StoredUser } from './auth-records';
export type { RestoreSummary } from './restore';
export type { StoreStats } from './state-store';
export * from './entities';
