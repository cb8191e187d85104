import { Column, Entity, PrimaryColumn } from 'typeorm';

/**
 * The body of a message that persistent sessions hold, stored once however many sessions it went to
 * (they point at it from `session_messages`); deleted when the last of them is done with it.
 */
@Entity('messages')
export class StoredMessageEntity {
  /** Assigned by the broker, not by SQLite, so a row can be referenced before it is written. */
  @PrimaryColumn({ name: 'id', type: 'integer' })
  id!: number;

  @Column({ name: 'topic', type: 'text' })
  topic!: string;

  @Column({ name: 'payload', type: 'blob' })
  payload!: Buffer;

  @Column({ name: 'qos', type: 'integer' })
  qos!: number;

  @Column({ name: 'retain', type: 'boolean' })
  retain!: boolean;

  /** MQTT 5 properties forwarded to subscribers, as JSON (binary values base64). */
  @Column({ name: 'properties', type: 'text', nullable: true })
  properties!: string | null;

  @Column({ name: 'publisher_id', type: 'text' })
  publisherId!: string;

  /** Epoch ms after which the message is not delivered; 0 = never. */
  @Column({ name: 'expires_at', type: 'integer' })
  expiresAt!: number;
}
