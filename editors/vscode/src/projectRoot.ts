// Which Chalice project a file belongs to, by the same rule as the server
// (`enclosing_project_root`): the nearest directory above the file that holds
// `app.py` or `.chalice/config.json`. Pure, for `node --test`.

import * as fs from 'node:fs';
import * as path from 'node:path';

export function isProjectRoot(dir: string, isFile: (file: string) => boolean = isRegularFile): boolean {
  return isFile(path.join(dir, 'app.py')) || isFile(path.join(dir, '.chalice', 'config.json'));
}

/** The project root enclosing `file`, or undefined when it is in none. */
export function enclosingProjectRoot(
  file: string,
  isFile: (file: string) => boolean = isRegularFile,
): string | undefined {
  let dir = path.dirname(path.resolve(file));
  for (;;) {
    if (isProjectRoot(dir, isFile)) {
      return dir;
    }
    const parent = path.dirname(dir);
    if (parent === dir) {
      return undefined;
    }
    dir = parent;
  }
}

function isRegularFile(file: string): boolean {
  try {
    return fs.statSync(file).isFile();
  } catch {
    return false;
  }
}

/**
 * Drops roots inside other roots: the server does not look for projects
 * inside a project (its `chalicelib/`, `vendor/` and tests belong to it), so
 * only the outer one is a project it can name.
 */
export function outermostRoots(roots: readonly string[]): string[] {
  const unique = [...new Set(roots.map((root) => path.resolve(root)))].sort();
  return unique.filter(
    (root) => !unique.some((other) => other !== root && root.startsWith(other.endsWith(path.sep) ? other : other + path.sep)),
  );
}
