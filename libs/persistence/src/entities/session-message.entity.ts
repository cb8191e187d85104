import { Column, Entity, Index, JoinColumn, ManyToOne, PrimaryColumn } from 'typeorm';
import { SessionEntity } from './session.entity';

/** One message queued for, or in flight to, one persistent session; `id` order is delivery order. */
@Entity('session_messages')
@Index('idx_session_messages_message', ['messageId'])
export class SessionMessageEntity {
  @PrimaryColumn({ name: 'id', type: 'integer' })
  id!: number;

  @Column({ name: 'client_id', type: 'text' })
  @Index('idx_session_messages_client')
  clientId!: string;

  @Column({ name: 'message_id', type: 'integer' })
  messageId!: number;

  /** The QoS granted to this session, which may be below the message's. */
  @Column({ name: 'qos', type: 'integer' })
  qos!: number;

  @Column({ name: 'retain', type: 'boolean' })
  retain!: boolean;

  /** JSON array of Subscription Identifiers, or null. */
  @Column({ name: 'subscription_ids', type: 'text', nullable: true })
  subscriptionIds!: string | null;

  /** 0 while queued; the packet identifier once sent. */
  @Column({ name: 'packet_id', type: 'integer' })
  packetId!: number;

  /** QoS 2: PUBREC received, only PUBCOMP awaited. */
  @Column({ name: 'released', type: 'boolean' })
  released!: boolean;

  @ManyToOne(() => SessionEntity, { onDelete: 'CASCADE' })
  @JoinColumn({ name: 'client_id', foreignKeyConstraintName: 'fk_session_messages_session' })
  session?: SessionEntity;
}
