import * as authRecords from './auth-records';
import * as dataSource from './data-source';
import * as entities from './entities';
import * as persistence from './persistence';

// Values as `export import` aliases, not `export { x } from`: see docs/architecture.md, "Decisions".
export type { Persistence } from './persistence';
export type { StoredAclRule, StoredUser } from './auth-records';
export type { RestoreSummary } from './restore';
export type { StoreStats } from './state-store';
export import openPersistence = persistence.openPersistence;
export import openDataSource = dataSource.openDataSource;
export import MIGRATIONS = dataSource.MIGRATIONS;
export import loadAclRules = authRecords.loadAclRules;
export import loadUsers = authRecords.loadUsers;
export import ENTITIES = entities.ENTITIES;
export import AclRuleEntity = entities.AclRuleEntity;
export import AuditEntryEntity = entities.AuditEntryEntity;
export import ConfigRevisionEntity = entities.ConfigRevisionEntity;
export import InboundQos2Entity = entities.InboundQos2Entity;
export import RateLimitPolicyEntity = entities.RateLimitPolicyEntity;
export import RetainedMessageEntity = entities.RetainedMessageEntity;
export import SessionEntity = entities.SessionEntity;
export import SessionMessageEntity = entities.SessionMessageEntity;
export import StoredMessageEntity = entities.StoredMessageEntity;
export import SubscriptionEntity = entities.SubscriptionEntity;
export import UserEntity = entities.UserEntity;
export import WillEntity = entities.WillEntity;
