import { Column, Entity, PrimaryGeneratedColumn } from 'typeorm';

/** One saved version of the live configuration; the newest is in force, the rest are its history. */
@Entity('config_revisions')
export class ConfigRevisionEntity {
  @PrimaryGeneratedColumn({ name: 'id', type: 'integer' })
  id!: number;

  @Column({ name: 'created_at', type: 'integer' })
  createdAt!: number;

  /** Who made the change (admin user, or `file` for the configuration read at start). */
  @Column({ name: 'author', type: 'text' })
  author!: string;

  @Column({ name: 'comment', type: 'text', nullable: true })
  comment!: string | null;

  /** The settings changed from the file/env configuration, as JSON validated by the config schema. */
  @Column({ name: 'document', type: 'text' })
  document!: string;
}
