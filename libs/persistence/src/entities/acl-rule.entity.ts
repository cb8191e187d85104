import { Column, Entity, PrimaryGeneratedColumn } from 'typeorm';

/** An ACL rule: rules are tried by descending priority (deny first among equals); the first that matches decides. */
@Entity('acl_rules')
export class AclRuleEntity {
  @PrimaryGeneratedColumn({ name: 'id', type: 'integer' })
  id!: number;

  @Column({ name: 'priority', type: 'integer' })
  priority!: number;

  /** `allow` or `deny`. */
  @Column({ name: 'effect', type: 'text' })
  effect!: string;

  /** `publish`, `subscribe` or `all`. */
  @Column({ name: 'action', type: 'text' })
  action!: string;

  /** Topic filter; may hold `%u` (username) and `%c` (client id). */
  @Column({ name: 'topic', type: 'text' })
  topic!: string;

  @Column({ name: 'username', type: 'text', nullable: true })
  username!: string | null;

  @Column({ name: 'client_id', type: 'text', nullable: true })
  clientId!: string | null;

  /** CIDR, e.g. `10.0.0.0/8`. */
  @Column({ name: 'ip_range', type: 'text', nullable: true })
  ipRange!: string | null;

  @Column({ name: 'comment', type: 'text', nullable: true })
  comment!: string | null;

  @Column({ name: 'created_at', type: 'integer' })
  createdAt!: number;
}
