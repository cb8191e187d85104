import { Column, Entity, PrimaryColumn } from 'typeorm';

/** A will waiting out its Will Delay Interval: published at `fireAt`, also if that passed while stopped. */
@Entity('wills')
export class WillEntity {
  @PrimaryColumn({ name: 'client_id', type: 'text' })
  clientId!: string;

  @Column({ name: 'topic', type: 'text' })
  topic!: string;

  @Column({ name: 'payload', type: 'blob' })
  payload!: Buffer;

  @Column({ name: 'qos', type: 'integer' })
  qos!: number;

  @Column({ name: 'retain', type: 'boolean' })
  retain!: boolean;

  /** The will's 5.0 properties as JSON (binary values base64). */
  @Column({ name: 'properties', type: 'text', nullable: true })
  properties!: string | null;

  @Column({ name: 'fire_at', type: 'integer' })
  fireAt!: number;
}
