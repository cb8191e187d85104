import { Column, Entity, PrimaryGeneratedColumn, Unique } from 'typeorm';

/** A rate limit applied to the clients its match fields select (none set = every client). */
@Entity('rate_limit_policies')
@Unique('uq_rate_limit_policies_name', ['name'])
export class RateLimitPolicyEntity {
  @PrimaryGeneratedColumn({ name: 'id', type: 'integer' })
  id!: number;

  @Column({ name: 'name', type: 'text' })
  name!: string;

  @Column({ name: 'enabled', type: 'boolean', default: true })
  enabled!: boolean;

  @Column({ name: 'username', type: 'text', nullable: true })
  username!: string | null;

  @Column({ name: 'client_id', type: 'text', nullable: true })
  clientId!: string | null;

  @Column({ name: 'ip_range', type: 'text', nullable: true })
  ipRange!: string | null;

  @Column({ name: 'messages_per_second', type: 'real', nullable: true })
  messagesPerSecond!: number | null;

  @Column({ name: 'bytes_per_second', type: 'real', nullable: true })
  bytesPerSecond!: number | null;

  @Column({ name: 'connections_per_second', type: 'real', nullable: true })
  connectionsPerSecond!: number | null;

  /** Tokens the bucket holds: how far above the rate a short burst may go. */
  @Column({ name: 'burst', type: 'integer', nullable: true })
  burst!: number | null;

  @Column({ name: 'created_at', type: 'integer' })
  createdAt!: number;

  @Column({ name: 'updated_at', type: 'integer' })
  updatedAt!: number;
}
