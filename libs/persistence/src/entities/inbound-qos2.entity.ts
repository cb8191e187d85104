import { Entity, JoinColumn, ManyToOne, PrimaryColumn } from 'typeorm';
import { SessionEntity } from './session.entity';

/** A QoS 2 PUBLISH from the client that was routed and PUBREC'd: a resend must not be routed again. */
@Entity('inbound_qos2')
export class InboundQos2Entity {
  @PrimaryColumn({ name: 'client_id', type: 'text' })
  clientId!: string;

  @PrimaryColumn({ name: 'packet_id', type: 'integer' })
  packetId!: number;

  @ManyToOne(() => SessionEntity, { onDelete: 'CASCADE' })
  @JoinColumn({ name: 'client_id', foreignKeyConstraintName: 'fk_inbound_qos2_session' })
  session?: SessionEntity;
}
