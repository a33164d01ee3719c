// The real server binary, driven over stdio through vscode-jsonrpc with the
// initialization options and `workspace/configuration` answers the extension
// sends (from the same settings.ts), on the problem statement's app: a Thread
// API whose DynamoDB calls go through the boto3 resource API, which chalice's
// policy autogeneration does not see.

import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { fileURLToPath, pathToFileURL } from 'node:url';

import {
  CodeAction,
  CodeActionRequest,
  CodeActionResolveRequest,
  Command,
  CreateFile,
  Diagnostic,
  DiagnosticSeverity,
  DidChangeConfigurationNotification,
  DidChangeWatchedFilesNotification,
  DidOpenTextDocumentNotification,
  ExecuteCommandRequest,
  FileChangeType,
  InitializeResult,
  TextDocumentEdit,
} from 'vscode-languageserver-protocol';

import { defaultsReader, initializationOptions, objectReader, serverSettings } from '../src/settings';
import { applyWorkspaceEdit, extensionDir, LspSession, repoRoot, VSCODE_CAPABILITIES } from './lspSession';

const manifest = JSON.parse(fs.readFileSync(path.join(extensionDir, 'package.json'), 'utf8'));
const SHOW_POLICY = 'chalice-iam.showPolicy';

/** Temp directories this file made, removed once its tests are done. */
const made: string[] = [];
after(() => {
  for (const dir of made) {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

/** A fresh copy of examples/thread-resource (app.py and .chalice/config.json). */
function copyExample(): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'chalice-iam-vscode-'));
  made.push(dir);
  const root = path.join(dir, 'thread-resource');
  fs.cpSync(path.join(repoRoot, 'examples', 'thread-resource'), root, { recursive: true });
  assert.ok(fs.existsSync(path.join(root, '.chalice', 'config.json')), 'the example has its .chalice/config.json');
  return fs.realpathSync(root);
}

function openApp(session: LspSession, root: string): string {
  const uri = pathToFileURL(path.join(root, 'app.py')).href;
  void session.connection.sendNotification(DidOpenTextDocumentNotification.type, {
    textDocument: { uri, languageId: 'python', version: 1, text: fs.readFileSync(path.join(root, 'app.py'), 'utf8') },
  });
  return uri;
}

function diagnosticsCount(session: LspSession, uri: string, count: number): () => Diagnostic[] | undefined {
  return () => {
    const diagnostics = session.diagnostics.get(uri);
    return diagnostics && diagnostics.length === count ? diagnostics : undefined;
  };
}

/** The quick fix the server offers for `diagnostic`, resolved if it came without its edit. */
async function quickFix(session: LspSession, uri: string, diagnostic: Diagnostic): Promise<CodeAction> {
  const actions = await session.connection.sendRequest(CodeActionRequest.type, {
    textDocument: { uri },
    range: diagnostic.range,
    context: { diagnostics: [diagnostic], only: ['quickfix'], triggerKind: 1 },
  });
  const fixes = (actions ?? []).filter(
    (a): a is CodeAction => !Command.is(a) && a.kind === 'quickfix' && (a.diagnostics ?? []).length > 0,
  );
  assert.ok(fixes.length > 0, `a quick fix for "${diagnostic.message}"; got ${JSON.stringify(actions)}`);
  const fix = fixes[0];
  return fix.edit ? fix : session.connection.sendRequest(CodeActionResolveRequest.type, fix);
}

/** Applies a fix on disk and tells the server, as VS Code's file watcher would. */
async function applyFix(session: LspSession, fix: CodeAction): Promise<void> {
  assert.ok(fix.edit, 'the fix carries a workspace edit');
  const { created, changed } = applyWorkspaceEdit(fix.edit!);
  await session.connection.sendNotification(DidChangeWatchedFilesNotification.type, {
    changes: [
      ...created.map((file) => ({ uri: pathToFileURL(file).href, type: FileChangeType.Created })),
      ...changed.map((file) => ({ uri: pathToFileURL(file).href, type: FileChangeType.Changed })),
    ],
  });
}

describe('chalice-iam lsp with the options a fresh VS Code install sends', () => {
  let root: string;
  let session: LspSession;
  let init: InitializeResult;
  let appUri: string;

  before(async () => {
    root = copyExample();
    // What the extension passes as initializationOptions with every setting
    // at its package.json default.
    const options = initializationOptions(defaultsReader(manifest));
    session = new LspSession({ workspace: root, initializationOptions: options, configuration: () => defaultsReader(manifest) });
    init = await session.initialize();
  });
  after(async () => {
    if (session) {
      assert.equal(await session.shutdown(), 0, 'the server exits with 0 after shutdown and exit');
    }
  });

  test('initialize: UTF-16 positions (all VS Code offers), text sync, code actions, the policy command', () => {
    const caps = init.capabilities;
    assert.equal(caps.positionEncoding, 'utf-16');
    assert.equal(init.serverInfo?.name, 'chalice-iam');
    assert.ok(caps.textDocumentSync, 'text document sync');
    assert.ok(caps.codeActionProvider, 'code actions');
    assert.deepEqual(caps.executeCommandProvider?.commands, [SHOW_POLICY]);
  });

  test('didOpen app.py → two warnings: the resource API scan and query', async () => {
    appUri = openApp(session, root);
    const diagnostics = await session.waitFor('two diagnostics on app.py', diagnosticsCount(session, appUri, 2));
    const sorted = [...diagnostics].sort((a, b) => a.range.start.line - b.range.start.line);
    assert.deepEqual(
      sorted.map((d) => [d.severity, d.code, d.source, d.range.start.line, d.range.start.character]),
      [
        // `items = dynamo_resource.Table(TABLE_NAME).scan()`, line 14 (1-based).
        [DiagnosticSeverity.Warning, 'CIAM001', 'chalice-iam', 13, 12],
        [DiagnosticSeverity.Warning, 'CIAM001', 'chalice-iam', 24, 12],
      ],
    );
    assert.match(sorted[0].message, /dynamodb:Scan/);
    assert.match(sorted[1].message, /dynamodb:Query/);
  });

  test('the server pulled its settings through the extension answer and registered for changes', async () => {
    await session.waitFor('a workspace/configuration request', () => session.configurationRequests > 0);
    // The server sends the pull and the registration from separate tasks:
    // either may reach the client first.
    await session.waitFor('a registration for configuration changes', () => session.registrations.includes('workspace/didChangeConfiguration'));
    assert.ok(session.registrations.includes('workspace/didChangeConfiguration'), JSON.stringify(session.registrations));
  });

  test('executeCommand chalice-iam.showPolicy → the policy the code needs, as JSON text', async () => {
    for (const args of [[root], [pathToFileURL(root).href], []]) {
      const policy = await session.connection.sendRequest(ExecuteCommandRequest.type, { command: SHOW_POLICY, arguments: args });
      assert.equal(typeof policy, 'string', `showPolicy(${JSON.stringify(args)})`);
      const document = JSON.parse(policy as string);
      assert.equal(document.Version, '2012-10-17');
      const actions = document.Statement.flatMap((s: { Action: string | string[] }) => s.Action);
      assert.ok(actions.includes('dynamodb:Scan') && actions.includes('dynamodb:Query'), JSON.stringify(document));
    }
    await assert.rejects(
      session.connection.sendRequest(ExecuteCommandRequest.type, { command: SHOW_POLICY, arguments: [os.tmpdir()] }),
      /not a loaded Chalice project/,
    );
  });

  test('the scan quick fix creates the policy file and turns autogen off; then query is what is left', async () => {
    const scan = session.diagnostics.get(appUri)!.find((d) => /dynamodb:Scan/.test(d.message))!;
    const fix = await quickFix(session, appUri, scan);
    assert.match(fix.title, /dynamodb:Scan/);
    const changes = fix.edit!.documentChanges ?? [];
    const creates = changes.filter((c): c is CreateFile => 'kind' in c && c.kind === 'create');
    assert.deepEqual(
      creates.map((c) => path.relative(root, fileURLToPath(c.uri))),
      [path.join('.chalice', 'policy-dev.json')],
      'a CreateFile for the new policy file',
    );
    const edited = changes
      .filter((c): c is TextDocumentEdit => 'textDocument' in c)
      .map((c) => path.relative(root, fileURLToPath(c.textDocument.uri)))
      .sort();
    assert.deepEqual(edited, [path.join('.chalice', 'config.json'), path.join('.chalice', 'policy-dev.json')]);

    await applyFix(session, fix);
    const config = JSON.parse(fs.readFileSync(path.join(root, '.chalice', 'config.json'), 'utf8'));
    assert.equal(config.stages.dev.autogen_policy, false);
    assert.equal(config.stages.dev.iam_policy_file, 'policy-dev.json');
    assert.equal(config.stages.dev.api_gateway_stage, 'api', 'the user settings are kept');
    const policy = JSON.parse(fs.readFileSync(path.join(root, '.chalice', 'policy-dev.json'), 'utf8'));
    assert.ok(JSON.stringify(policy).includes('dynamodb:Scan'));

    const left = await session.waitFor('one diagnostic left', diagnosticsCount(session, appUri, 1));
    assert.match(left[0].message, /dynamodb:Query/);
    assert.equal(left[0].severity, DiagnosticSeverity.Warning);
  });

  test('the query quick fix edits the policy file, and the warnings clear', async () => {
    const query = session.diagnostics.get(appUri)![0];
    const fix = await quickFix(session, appUri, query);
    assert.match(fix.title, /dynamodb:Query/);
    await applyFix(session, fix);
    await session.waitFor('no diagnostics left', diagnosticsCount(session, appUri, 0));
    const policy = fs.readFileSync(path.join(root, '.chalice', 'policy-dev.json'), 'utf8');
    assert.ok(policy.includes('dynamodb:Scan') && policy.includes('dynamodb:Query'), policy);
  });
});

describe('chalice-iam lsp with settings from the extension', () => {
  test('severity from initializationOptions, then from workspace/configuration after a change', async () => {
    const root = copyExample();
    let values: Record<string, unknown> = { severity: { CIAM001: 'error' }, 'server.path': '/not/sent', 'trace.server': 'off' };
    const reader = () => objectReader(values);
    const options = initializationOptions(reader());
    assert.deepEqual(options, { severity: { CIAM001: 'error' } });
    const session = new LspSession({ workspace: root, initializationOptions: options, configuration: reader });
    try {
      await session.initialize();
      const uri = openApp(session, root);
      await session.waitFor('two errors', () => {
        const d = session.diagnostics.get(uri);
        return d?.length === 2 && d.every((x) => x.severity === DiagnosticSeverity.Error);
      });

      // As VS Code does for a dynamically registered didChangeConfiguration
      // without a section: a null payload, and the server pulls.
      values = { severity: { CIAM001: 'hint' } };
      const pulls = session.configurationRequests;
      await session.connection.sendNotification(DidChangeConfigurationNotification.type, { settings: null });
      await session.waitFor('two hints', () => {
        const d = session.diagnostics.get(uri);
        return d?.length === 2 && d.every((x) => x.severity === DiagnosticSeverity.Hint);
      });
      assert.ok(session.configurationRequests > pulls, 'the server asked for the settings again');
      assert.ok(
        !session.logs.some((l) => /unknown key/.test(l)),
        `the server saw only keys it knows: ${JSON.stringify(session.logs)}`,
      );

      values = { severity: { CIAM001: 'off' } };
      await session.connection.sendNotification(DidChangeConfigurationNotification.type, { settings: null });
      await session.waitFor('no diagnostics once CIAM001 is off', diagnosticsCount(session, uri, 0));
    } finally {
      await session.shutdown();
    }
  });

  test('a client that offers UTF-8 gets UTF-8 positions', async () => {
    const root = copyExample();
    const session = new LspSession({
      workspace: root,
      initializationOptions: serverSettings(objectReader({})).settings,
      configuration: () => objectReader({}),
      capabilities: { ...VSCODE_CAPABILITIES, general: { positionEncodings: ['utf-8', 'utf-16'] } },
    });
    try {
      const init = await session.initialize();
      assert.equal(init.capabilities.positionEncoding, 'utf-8');
    } finally {
      await session.shutdown();
    }
  });
});
