import { Column, Entity, PrimaryColumn } from 'typeorm';

/** A built-in MQTT user; the password only ever as a scrypt hash. */
@Entity('users')
export class UserEntity {
  @PrimaryColumn({ name: 'username', type: 'text' })
  username!: string;

  @Column({ name: 'password_hash', type: 'text' })
  passwordHash!: string;

  @Column({ name: 'disabled', type: 'boolean', default: false })
  disabled!: boolean;

  @Column({ name: 'created_at', type: 'integer' })
  createdAt!: number;

  @Column({ name: 'updated_at', type: 'integer' })
  updatedAt!: number;
}
