import { AclRuleEntity } from './acl-rule.entity';
import { AuditEntryEntity } from './audit-entry.entity';
import { ConfigRevisionEntity } from './config-revision.entity';
import { InboundQos2Entity } from './inbound-qos2.entity';
import { RateLimitPolicyEntity } from './rate-limit-policy.entity';
import { RetainedMessageEntity } from './retained-message.entity';
import { SessionMessageEntity } from './session-message.entity';
import { SessionEntity } from './session.entity';
import { StoredMessageEntity } from './stored-message.entity';
import { SubscriptionEntity } from './subscription.entity';
import { UserEntity } from './user.entity';
import { WillEntity } from './will.entity';

export {
  AclRuleEntity,
  AuditEntryEntity,
  ConfigRevisionEntity,
  InboundQos2Entity,
  RateLimitPolicyEntity,
  RetainedMessageEntity,
  SessionEntity,
  SessionMessageEntity,
  StoredMessageEntity,
  SubscriptionEntity,
  UserEntity,
  WillEntity,
};

export const ENTITIES = [
  SessionEntity,
  SubscriptionEntity,
  StoredMessageEntity,
  SessionMessageEntity,
  InboundQos2Entity,
  WillEntity,
  RetainedMessageEntity,
  ConfigRevisionEntity,
  UserEntity,
  AclRuleEntity,
  RateLimitPolicyEntity,
  AuditEntryEntity,
];
