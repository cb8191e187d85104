import { Column, Entity, Index, PrimaryGeneratedColumn } from 'typeorm';

/** Who changed what through the admin surface, and when. */
@Entity('audit_log')
export class AuditEntryEntity {
  @PrimaryGeneratedColumn({ name: 'id', type: 'integer' })
  id!: number;

  @Column({ name: 'at', type: 'integer' })
  @Index('idx_audit_log_at')
  at!: number;

  @Column({ name: 'actor', type: 'text' })
  actor!: string;

  /** e.g. `config.update`, `client.kick`, `user.create`. */
  @Column({ name: 'action', type: 'text' })
  action!: string;

  @Column({ name: 'target', type: 'text', nullable: true })
  target!: string | null;

  /** JSON with what changed. */
  @Column({ name: 'detail', type: 'text', nullable: true })
  detail!: string | null;
}
