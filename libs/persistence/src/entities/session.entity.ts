import { Column, Entity, PrimaryColumn } from 'typeorm';

/** A persistent session (expiry > 0); its subscriptions, messages and QoS 2 ids hang off it. */
@Entity('sessions')
export class SessionEntity {
  @PrimaryColumn({ name: 'client_id', type: 'text' })
  clientId!: string;

  @Column({ name: 'expiry_interval', type: 'integer' })
  expiryInterval!: number;

  /** Epoch ms; null while a client is connected (a crash then counts as disconnecting at restart). */
  @Column({ name: 'disconnected_at', type: 'integer', nullable: true })
  disconnectedAt!: number | null;
}
