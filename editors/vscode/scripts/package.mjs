// `npm run package`: copies the server binary for this platform into
// bundled/, then builds a platform-specific .vsix with vsce.
//
// The binary comes from $CHALICE_IAM, else the repository's
// target/release/chalice-iam, which this builds when it is missing so that a
// fresh clone needs only `npm ci` and `npm run package`.

import { execFileSync, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';

const extensionDir = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const repoRoot = path.resolve(extensionDir, '..', '..');
const exe = process.platform === 'win32' ? 'chalice-iam.exe' : 'chalice-iam';

// cargo puts its output under $CARGO_TARGET_DIR when that is set.
const targetDir = path.resolve(repoRoot, process.env.CARGO_TARGET_DIR || 'target');
const source = process.env.CHALICE_IAM
  ? path.resolve(process.env.CHALICE_IAM)
  : path.join(targetDir, 'release', exe);
if (!fs.existsSync(source) && !process.env.CHALICE_IAM) {
  console.log(`package: no server at ${source}; running cargo build --release`);
  const build = spawnSync('cargo', ['build', '--release', '--locked'], { cwd: repoRoot, stdio: 'inherit' });
  if (build.error || build.status !== 0) {
    console.error('package: cargo build --release failed (is a Rust toolchain installed?)');
    process.exit(1);
  }
}
if (!fs.existsSync(source)) {
  console.error(`package: no server binary at ${source}`);
  process.exit(1);
}

// vsce's target names; a .vsix with a native binary must say which platform
// it is for, so the marketplace (and `code --install-extension`) can refuse
// the wrong one.
const targets = {
  'linux-x64': 'linux-x64',
  'linux-arm64': 'linux-arm64',
  'darwin-x64': 'darwin-x64',
  'darwin-arm64': 'darwin-arm64',
  'win32-x64': 'win32-x64',
  'win32-arm64': 'win32-arm64',
};
const target = targets[`${process.platform}-${process.arch}`];
if (!target) {
  console.error(`package: no VS Code target for ${process.platform}-${process.arch}`);
  process.exit(1);
}

const bundledDir = path.join(extensionDir, 'bundled');
fs.rmSync(bundledDir, { recursive: true, force: true });
fs.mkdirSync(bundledDir);
const bundled = path.join(bundledDir, exe);

// The release profile keeps DWARF line tables (for profiling); they make the
// binary about four times larger. `--strip-debug` drops them but keeps the
// symbol table, so a panic's backtrace still names functions.
let stripped = false;
if (process.platform === 'linux') {
  const strip = spawnSync('strip', ['--strip-debug', '-o', bundled, source], { stdio: 'inherit' });
  stripped = strip.status === 0;
}
if (!stripped) {
  fs.copyFileSync(source, bundled);
}
// vsce keeps the mode bits it finds, and the extension runs the file directly.
fs.chmodSync(bundled, 0o755);

const manifest = JSON.parse(fs.readFileSync(path.join(extensionDir, 'package.json'), 'utf8'));
const out = path.join(extensionDir, `${manifest.name}-${target}-${manifest.version}.vsix`);
const vsce = path.join(extensionDir, 'node_modules', '@vscode', 'vsce', 'vsce');
// --no-dependencies: esbuild has already inlined everything into dist/.
// --skip-license and --allow-missing-repository: the manifest names its
// license (Apache-2.0, as the crate) but the .vsix carries no license file or
// repository URL, and without these flags vsce stops to ask about both.
execFileSync(
  process.execPath,
  [vsce, 'package', '--no-dependencies', '--skip-license', '--allow-missing-repository', '--target', target, '--out', out],
  { cwd: extensionDir, stdio: 'inherit' },
);
console.log(`package: ${path.relative(process.cwd(), out)} (${fs.statSync(out).size} bytes, server from ${source}${stripped ? ', debug info stripped' : ''})`);
