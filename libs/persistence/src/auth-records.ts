import type { DataSource } from 'typeorm';
import { AclRuleEntity, UserEntity } from './entities';

// Users and ACL rules kept in the database (the admin API edits them), as the plain records the auth
// library takes alongside those of the configuration file.

export interface StoredUser {
  username: string;
  passwordHash: string;
}

export interface StoredAclRule {
  id: string;
  effect: 'allow' | 'deny';
  action: 'publish' | 'subscribe' | 'all';
  topic: string;
  username?: string;
  clientId?: string;
  ipRange?: string;
  priority: number;
}

/** Enabled users only: a disabled one cannot log in, as if it did not exist. */
export async function loadUsers(dataSource: DataSource): Promise<StoredUser[]> {
  const rows = await dataSource.getRepository(UserEntity).find({ where: { disabled: false } });
  return rows.map(({ username, passwordHash }) => ({ username, passwordHash }));
}

export async function loadAclRules(dataSource: DataSource): Promise<StoredAclRule[]> {
  const rows = await dataSource.getRepository(AclRuleEntity).find({ order: { id: 'ASC' } });
  return rows.map((r) => ({
    id: `db:${r.id}`,
    effect: r.effect as StoredAclRule['effect'],
    action: r.action as StoredAclRule['action'],
    topic: r.topic,
    username: r.username ?? undefined,
    clientId: r.clientId ?? undefined,
    ipRange: r.ipRange ?? undefined,
    priority: r.priority,
  }));
}
