import { Column, Entity, PrimaryColumn } from 'typeorm';

@Entity('retained_messages')
export class RetainedMessageEntity {
  @PrimaryColumn({ name: 'topic', type: 'text' })
  topic!: string;

  @Column({ name: 'payload', type: 'blob' })
  payload!: Buffer;

  @Column({ name: 'qos', type: 'integer' })
  qos!: number;

  @Column({ name: 'properties', type: 'text', nullable: true })
  properties!: string | null;

  @Column({ name: 'publisher_id', type: 'text' })
  publisherId!: string;

  /** Epoch ms; 0 = never expires. */
  @Column({ name: 'expires_at', type: 'integer' })
  expiresAt!: number;

  @Column({ name: 'stored_at', type: 'integer' })
  storedAt!: number;
}
