/**
 * Every broker, client, socket and child process a test opens registers its disposer here; the setup file
 * runs them after each test (newest first, so clients close before their broker) even when the test failed.
 */
type Disposer = () => Promise<void> | void;

interface Entry {
  label: string;
  dispose: Disposer;
}

const entries: Entry[] = [];

/** Registers a disposer; the returned function unregisters it (for resources a test closed itself). */
export function onCleanup(label: string, dispose: Disposer): () => void {
  const entry: Entry = { label, dispose };
  entries.push(entry);
  return () => {
    const index = entries.indexOf(entry);
    if (index >= 0) entries.splice(index, 1);
  };
}

export async function runCleanups(): Promise<void> {
  const failures: string[] = [];
  while (entries.length > 0) {
    const entry = entries.pop();
    if (!entry) break;
    try {
      await Promise.race([
        Promise.resolve(entry.dispose()),
        new Promise<void>((_, reject) => setTimeout(() => reject(new Error('dispose timed out')), 5000)),
      ]);
    } catch (err) {
      failures.push(`${entry.label}: ${err instanceof Error ? err.message : String(err)}`);
    }
  }
  if (failures.length > 0) throw new Error(`cleanup failed:\n${failures.join('\n')}`);
}
