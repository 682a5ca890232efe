// Where the Debian programs the bench drives live (PATH, then the sbin directories).
import { accessSync, constants } from 'node:fs';
import { delimiter, join } from 'node:path';

const SEARCH_DIRS = ['/usr/sbin', '/sbin', '/usr/local/sbin'];

/** Absolute path of an executable, or undefined when it is not installed. */
export function findBinary(name: string): string | undefined {
  const dirs = [...(process.env.PATH ?? '').split(delimiter), ...SEARCH_DIRS].filter(Boolean);
  for (const dir of dirs) {
    const file = join(dir, name);
    try {
      accessSync(file, constants.X_OK);
      return file;
    } catch {
      // not here
    }
  }
  return undefined;
}

/** Throws a message naming the package when a program is missing. */
export function requireBinary(name: string, pkg = name): string {
  const file = findBinary(name);
  if (file === undefined) throw new Error(`${name} not installed: apt-get install ${pkg}`);
  return file;
}
