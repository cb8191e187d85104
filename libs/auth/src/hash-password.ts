// Prints the scrypt hash of a password for `auth.users[].passwordHash`:
//   npm run -s hash-password -- 'the password'
//   printf %s 'the password' | npm run -s hash-password     (keeps it out of `ps` and shell history)
import { hashPassword } from './password';

/** The password from the first argument, or else all of `input` less one trailing newline (`echo` adds it). */
export async function passwordFrom(
  args: readonly string[],
  input: AsyncIterable<Buffer | string>,
): Promise<string> {
  if (args[0] !== undefined) return args[0];
  const chunks: Buffer[] = [];
  for await (const chunk of input) chunks.push(Buffer.from(chunk));
  return Buffer.concat(chunks)
    .toString('utf8')
    .replace(/\r?\n$/, '');
}

async function main(): Promise<void> {
  const password = await passwordFrom(process.argv.slice(2), process.stdin);
  if (!password) {
    process.stderr.write('usage: hash-password <password>, or the password on standard input\n');
    process.exit(2);
  }
  process.stdout.write(`${await hashPassword(password)}\n`);
}

if (require.main === module) void main();
