// Where the language server binary is. Pure (no `vscode` import) so that
// `node --test` can check the lookup order without VS Code.

import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

/** The binary's file name, without the `.exe` Windows needs. */
export const SERVER_NAME = 'chalice-iam';

/**
 * Arguments for the server. `vscode-languageclient` appends `--stdio` for
 * `TransportKind.stdio`, which `chalice-iam lsp` accepts and ignores.
 */
export const SERVER_ARGS: readonly string[] = ['lsp'];

/** Where the packaging step copies the binary inside the extension. */
export const BUNDLED_DIR = 'bundled';

export type ServerSource = 'setting' | 'bundled' | 'PATH';

export type ServerResolution =
  | { found: true; path: string; source: ServerSource }
  | { found: false; message: string; tried: string[] };

export interface ServerLookup {
  /** The `chalice-iam.server.path` setting; empty or unset means "look". */
  configured?: string;
  /** The extension's install directory (`ExtensionContext.extensionPath`). */
  extensionPath: string;
  /** Relative `server.path` values are taken from here (the first workspace folder). */
  workspaceFolder?: string;
  /** `PATH`, and `PATHEXT` on Windows. */
  env: { PATH?: string; Path?: string; PATHEXT?: string };
  platform: NodeJS.Platform;
  homeDir?: string;
  /** Injected so tests can fake a file system; defaults to the real one. */
  isExecutable?: (file: string) => boolean;
}

export function executableName(platform: NodeJS.Platform): string {
  return platform === 'win32' ? `${SERVER_NAME}.exe` : SERVER_NAME;
}

export function isExecutableFile(file: string): boolean {
  try {
    if (!fs.statSync(file).isFile()) {
      return false;
    }
    // On Windows X_OK is the same as F_OK; there the `.exe` name is what counts.
    fs.accessSync(file, fs.constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/**
 * Finds the server: the `chalice-iam.server.path` setting, then the binary
 * bundled in the extension, then `PATH`. A setting that names no executable
 * is an error rather than a reason to fall back: the user asked for that
 * binary, and silently running another one would hide the mistake.
 */
export function resolveServer(lookup: ServerLookup): ServerResolution {
  const isExecutable = lookup.isExecutable ?? isExecutableFile;
  const pathModule = lookup.platform === 'win32' ? path.win32 : path.posix;
  const exe = executableName(lookup.platform);

  const configured = lookup.configured?.trim();
  if (configured) {
    const file = expandConfigured(configured, lookup, pathModule);
    if (isExecutable(file)) {
      return { found: true, path: file, source: 'setting' };
    }
    return {
      found: false,
      tried: [file],
      message:
        `chalice-iam.server.path is set to "${configured}", but ${file} is not an executable file. ` +
        'Fix the setting, or clear it to use the bundled server or the one on PATH.',
    };
  }

  const tried: string[] = [];
  const bundled = pathModule.join(lookup.extensionPath, BUNDLED_DIR, exe);
  tried.push(bundled);
  if (isExecutable(bundled)) {
    return { found: true, path: bundled, source: 'bundled' };
  }

  const searchPath = lookup.env.PATH ?? lookup.env.Path ?? '';
  const delimiter = lookup.platform === 'win32' ? ';' : ':';
  for (const dir of searchPath.split(delimiter)) {
    // An empty PATH entry means the current directory, whose meaning inside
    // VS Code's process is arbitrary; skip it rather than run whatever is there.
    if (dir === '') {
      continue;
    }
    const candidate = pathModule.join(dir, exe);
    tried.push(candidate);
    if (isExecutable(candidate)) {
      return { found: true, path: candidate, source: 'PATH' };
    }
  }

  return {
    found: false,
    tried,
    message:
      `No ${exe} server found: this extension has no bundled binary for ${lookup.platform}, ` +
      `and ${exe} is not on PATH. Install it (cargo install --path server, from the chalice-iam repository) ` +
      'or set chalice-iam.server.path to the binary.',
  };
}

/** `~/x` → home/x; a relative path is taken from the workspace folder. */
function expandConfigured(value: string, lookup: ServerLookup, pathModule: path.PlatformPath): string {
  let file = value;
  if (file === '~' || file.startsWith('~/') || file.startsWith('~\\')) {
    file = pathModule.join(lookup.homeDir ?? os.homedir(), file.slice(1));
  }
  if (!pathModule.isAbsolute(file) && lookup.workspaceFolder) {
    file = pathModule.join(lookup.workspaceFolder, file);
  }
  return pathModule.normalize(file);
}
