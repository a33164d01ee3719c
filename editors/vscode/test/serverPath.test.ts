import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, test } from 'node:test';

import { isExecutableFile, resolveServer, SERVER_ARGS } from '../src/serverPath';

/** Temp directories this file made, removed once its tests are done. */
const made: string[] = [];
after(() => {
  for (const dir of made) {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

/** A temp tree; `exec` files get mode 755, `plain` ones 644. */
function tree(files: { exec?: string[]; plain?: string[]; dirs?: string[] }): string {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'chalice-iam-lookup-'));
  made.push(root);
  for (const dir of files.dirs ?? []) {
    fs.mkdirSync(path.join(root, dir), { recursive: true });
  }
  for (const [list, mode] of [
    [files.exec ?? [], 0o755],
    [files.plain ?? [], 0o644],
  ] as const) {
    for (const rel of list) {
      const file = path.join(root, rel);
      fs.mkdirSync(path.dirname(file), { recursive: true });
      fs.writeFileSync(file, '#!/bin/sh\n');
      fs.chmodSync(file, mode);
    }
  }
  return root;
}

const linux = { platform: 'linux' as const };

test('the setting wins over the bundled binary and PATH', () => {
  const root = tree({ exec: ['mine/chalice-iam', 'ext/bundled/chalice-iam', 'bin/chalice-iam'] });
  const found = resolveServer({
    ...linux,
    configured: path.join(root, 'mine/chalice-iam'),
    extensionPath: path.join(root, 'ext'),
    env: { PATH: path.join(root, 'bin') },
  });
  assert.deepEqual(found, { found: true, path: path.join(root, 'mine/chalice-iam'), source: 'setting' });
});

test('a relative setting is taken from the workspace folder, ~ from home', () => {
  const root = tree({ exec: ['ws/tools/chalice-iam', 'home/.cargo/bin/chalice-iam'] });
  const base = { ...linux, extensionPath: path.join(root, 'ext'), env: {}, workspaceFolder: path.join(root, 'ws') };
  assert.deepEqual(resolveServer({ ...base, configured: './tools/chalice-iam' }), {
    found: true,
    path: path.join(root, 'ws/tools/chalice-iam'),
    source: 'setting',
  });
  assert.deepEqual(resolveServer({ ...base, configured: '~/.cargo/bin/chalice-iam', homeDir: path.join(root, 'home') }), {
    found: true,
    path: path.join(root, 'home/.cargo/bin/chalice-iam'),
    source: 'setting',
  });
});

test('a setting that names no executable is an error, not a fallback', () => {
  const root = tree({ exec: ['ext/bundled/chalice-iam'], plain: ['not-exec/chalice-iam'] });
  for (const configured of [path.join(root, 'missing'), path.join(root, 'not-exec/chalice-iam'), root]) {
    const result = resolveServer({ ...linux, configured, extensionPath: path.join(root, 'ext'), env: {} });
    assert.equal(result.found, false, configured);
    if (!result.found) {
      assert.match(result.message, /chalice-iam\.server\.path is set to/);
      assert.deepEqual(result.tried, [configured]);
    }
  }
});

test('an empty or blank setting means: look for the server', () => {
  const root = tree({ exec: ['ext/bundled/chalice-iam'] });
  for (const configured of [undefined, '', '   ']) {
    const result = resolveServer({ ...linux, configured, extensionPath: path.join(root, 'ext'), env: {} });
    assert.deepEqual(result, { found: true, path: path.join(root, 'ext/bundled/chalice-iam'), source: 'bundled' });
  }
});

test('the bundled binary comes before PATH', () => {
  const root = tree({ exec: ['ext/bundled/chalice-iam', 'bin/chalice-iam'] });
  const result = resolveServer({ ...linux, extensionPath: path.join(root, 'ext'), env: { PATH: path.join(root, 'bin') } });
  assert.equal(result.found && result.source, 'bundled');
});

test('PATH is searched in order, skipping non-executables and empty entries', () => {
  const root = tree({ exec: ['b/chalice-iam', 'c/chalice-iam'], plain: ['a/chalice-iam'], dirs: ['ext'] });
  const PATH = ['', path.join(root, 'a'), path.join(root, 'nowhere'), path.join(root, 'b'), path.join(root, 'c')].join(':');
  const result = resolveServer({ ...linux, extensionPath: path.join(root, 'ext'), env: { PATH } });
  assert.deepEqual(result, { found: true, path: path.join(root, 'b/chalice-iam'), source: 'PATH' });
});

test('nothing found: the message says where to get the server and what was tried', () => {
  const root = tree({ plain: ['ext/bundled/chalice-iam'], dirs: ['bin'] });
  const result = resolveServer({ ...linux, extensionPath: path.join(root, 'ext'), env: { PATH: path.join(root, 'bin') } });
  assert.equal(result.found, false);
  if (!result.found) {
    assert.match(result.message, /No chalice-iam server found/);
    assert.match(result.message, /chalice-iam\.server\.path/);
    assert.deepEqual(result.tried, [path.join(root, 'ext/bundled/chalice-iam'), path.join(root, 'bin/chalice-iam')]);
  }
});

test('Windows: chalice-iam.exe, ; separators and Path', () => {
  const seen: string[] = [];
  const result = resolveServer({
    platform: 'win32',
    extensionPath: 'C:\\ext',
    env: { Path: 'C:\\a;C:\\b' },
    isExecutable: (file) => {
      seen.push(file);
      return file === 'C:\\b\\chalice-iam.exe';
    },
  });
  assert.deepEqual(seen, ['C:\\ext\\bundled\\chalice-iam.exe', 'C:\\a\\chalice-iam.exe', 'C:\\b\\chalice-iam.exe']);
  assert.deepEqual(result, { found: true, path: 'C:\\b\\chalice-iam.exe', source: 'PATH' });
});

test('isExecutableFile: directories and plain files are not executables', () => {
  const root = tree({ exec: ['x'], plain: ['y'] });
  assert.equal(isExecutableFile(path.join(root, 'x')), true);
  assert.equal(isExecutableFile(path.join(root, 'y')), false);
  assert.equal(isExecutableFile(root), false);
  assert.equal(isExecutableFile(path.join(root, 'missing')), false);
});

test('the server is started as `chalice-iam lsp` (the client appends --stdio)', () => {
  assert.deepEqual(SERVER_ARGS, ['lsp']);
});
