import { Column, Entity, JoinColumn, ManyToOne, PrimaryColumn } from 'typeorm';
import { SessionEntity } from './session.entity';

@Entity('subscriptions')
export class SubscriptionEntity {
  @PrimaryColumn({ name: 'client_id', type: 'text' })
  clientId!: string;

  /** As the client sent it, `$share/{group}/` included. */
  @PrimaryColumn({ name: 'filter', type: 'text' })
  filter!: string;

  @Column({ name: 'qos', type: 'integer' })
  qos!: number;

  @Column({ name: 'no_local', type: 'boolean' })
  noLocal!: boolean;

  @Column({ name: 'retain_as_published', type: 'boolean' })
  retainAsPublished!: boolean;

  @Column({ name: 'retain_handling', type: 'integer' })
  retainHandling!: number;

  @Column({ name: 'identifier', type: 'integer', nullable: true })
  identifier!: number | null;

  @ManyToOne(() => SessionEntity, { onDelete: 'CASCADE' })
  @JoinColumn({ name: 'client_id', foreignKeyConstraintName: 'fk_subscriptions_session' })
  session?: SessionEntity;
}
