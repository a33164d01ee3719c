import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { test } from 'node:test';

import {
  configurationAnswers,
  defaultsReader,
  initializationOptions,
  objectReader,
  SECTION,
  serverSettings,
} from '../src/settings';

const extensionDir = path.resolve(__dirname, '..', '..');
const manifest = JSON.parse(fs.readFileSync(path.join(extensionDir, 'package.json'), 'utf8'));

test('every setting maps to the key the server reads', () => {
  const { settings, problems } = serverSettings(
    objectReader({
      stage: ' prod ',
      pythonVersion: '3.11',
      severity: { CIAM001: 'error', ciam009: 'off', CIAM013: 'Info', CIAM003: 'none' },
      // Keys of the same VS Code section that only the extension reads.
      'server.path': '/opt/chalice-iam',
      'trace.server': 'verbose',
    }),
  );
  assert.deepEqual(problems, []);
  assert.deepEqual(settings, {
    stage: 'prod',
    pythonVersion: '3.11',
    severity: { CIAM001: 'error', CIAM009: 'off', CIAM013: 'information', CIAM003: 'off' },
  });
});

test('a fresh install sends an empty object, leaving every default to the server', () => {
  assert.deepEqual(initializationOptions(defaultsReader(manifest)), {});
});

test('bad values are reported and dropped, the rest is kept', () => {
  const { settings, problems } = serverSettings(
    objectReader({
      stage: 7,
      pythonVersion: 'three',
      severity: { CIAM001: 'loud', 'no-such-code': 'hint', CIAM002: 'hint', CIAM004: 3 },
    }),
  );
  assert.deepEqual(settings, { severity: { CIAM002: 'hint' } });
  assert.equal(problems.length, 5, problems.join('\n'));
  assert.match(problems.join('\n'), /stage must be a stage name/);
  assert.match(problems.join('\n'), /pythonVersion must look like "3\.12"/);
  assert.match(problems.join('\n'), /CIAM001 must be one of error, warning, information, hint, off/);
  assert.match(problems.join('\n'), /"no-such-code" is not a diagnostic code/);
});

test('python versions: major.minor and major.minor.patch of Python 3', () => {
  const version = (v: unknown) => serverSettings(objectReader({ pythonVersion: v })).settings.pythonVersion;
  assert.equal(version('3.12'), '3.12');
  assert.equal(version(' 3.9.18 '), '3.9.18');
  assert.equal(version(''), undefined);
  assert.equal(version('3'), undefined);
  assert.equal(version('2.7'), undefined);
  assert.equal(version('3.x'), undefined);
});

test('severity that is not an object is reported', () => {
  const { settings, problems } = serverSettings(objectReader({ severity: ['CIAM001'] }));
  assert.deepEqual(settings, {});
  assert.equal(problems.length, 1);
});

test('workspace/configuration: our section is mapped per scope, other sections keep the default answer', () => {
  const scopes: (string | undefined)[] = [];
  const answers = configurationAnswers(
    [{ section: SECTION, scopeUri: 'file:///ws/a' }, { section: 'python' }, { section: SECTION }],
    [{ raw: 'a' }, { python: true }, { raw: 'c' }],
    (scopeUri) => {
      scopes.push(scopeUri);
      return objectReader(scopeUri ? { stage: 'prod', 'server.path': 'x' } : { severity: { CIAM001: 'off' } });
    },
  );
  assert.deepEqual(answers, [{ stage: 'prod' }, { python: true }, { severity: { CIAM001: 'off' } }]);
  assert.deepEqual(scopes, ['file:///ws/a', undefined]);
});

test('the manifest lists one severity setting per diagnostic code the server has', () => {
  // The server's catalogue is the source of truth; a code added there must
  // show up in VS Code's settings completion too.
  const codesRs = fs.readFileSync(
    path.join(extensionDir, '..', '..', 'server', 'src', 'diagnostics', 'codes.rs'),
    'utf8',
  );
  const serverCodes = [...codesRs.matchAll(/=\s*"(CIAM\d{3})"/g)].map((m) => m[1]).sort();
  assert.ok(serverCodes.length >= 10, `read ${serverCodes.length} codes from codes.rs`);
  const severity = manifest.contributes.configuration.properties[`${SECTION}.severity`];
  assert.deepEqual(Object.keys(severity.properties).sort(), serverCodes);
  for (const code of serverCodes) {
    assert.deepEqual(severity.properties[code].enum, ['error', 'warning', 'information', 'hint', 'off'], code);
  }
});

test('the manifest contributes the settings the extension reads', () => {
  const keys = Object.keys(manifest.contributes.configuration.properties).sort();
  assert.deepEqual(keys, [
    'chalice-iam.pythonVersion',
    'chalice-iam.server.path',
    'chalice-iam.severity',
    'chalice-iam.stage',
    'chalice-iam.trace.server',
  ]);
});

test('every contributed command is registered by the extension, and none is the server command', () => {
  const source = fs.readFileSync(path.join(extensionDir, 'src', 'extension.ts'), 'utf8');
  for (const { command } of manifest.contributes.commands as { command: string }[]) {
    assert.ok(source.includes(`'${command}'`), `${command} is not in extension.ts`);
    // vscode-languageclient registers the server's commands itself.
    assert.notEqual(command, 'chalice-iam.showPolicy');
  }
});
