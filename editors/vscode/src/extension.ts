// The VS Code side of chalice-iam: starts `chalice-iam lsp` for Python files
// of Chalice projects, answers its settings requests, and adds the "Show
// required IAM policy" and "Restart server" commands. The logic that can be
// tested without VS Code lives in serverPath.ts, settings.ts and
// projectRoot.ts; this file only wires them to the editor.

import * as path from 'node:path';
import * as vscode from 'vscode';
import {
  ExecuteCommandRequest,
  LanguageClient,
  LanguageClientOptions,
  RevealOutputChannelOn,
  ServerOptions,
  State,
  TransportKind,
} from 'vscode-languageclient/node';

import { enclosingProjectRoot, isProjectRoot, outermostRoots } from './projectRoot';
import { resolveServer, SERVER_ARGS } from './serverPath';
import { configurationAnswers, initializationOptions, SECTION, serverSettings } from './settings';

/** The server's command (advertised in `executeCommandProvider`). */
const SHOW_POLICY_SERVER_COMMAND = 'chalice-iam.showPolicy';
/**
 * Our own command ids. They differ from the server's: vscode-languageclient
 * registers a VS Code command under every command name the server
 * advertises, and a second registration under the same name would fail.
 */
const SHOW_POLICY_COMMAND = 'chalice-iam.showRequiredPolicy';
const RESTART_COMMAND = 'chalice-iam.restartServer';
const SHOW_OUTPUT_COMMAND = 'chalice-iam.showOutput';

let client: LanguageClient | undefined;
let output: vscode.OutputChannel;
let status: vscode.StatusBarItem;
let starting: Promise<void> | undefined;

export async function activate(context: vscode.ExtensionContext): Promise<void> {
  output = vscode.window.createOutputChannel('Chalice IAM');
  status = vscode.window.createStatusBarItem('chalice-iam.status', vscode.StatusBarAlignment.Left, 0);
  status.name = 'Chalice IAM';
  status.command = SHOW_OUTPUT_COMMAND;
  context.subscriptions.push(output, status);

  context.subscriptions.push(
    vscode.commands.registerCommand(SHOW_POLICY_COMMAND, () => showPolicy(context)),
    vscode.commands.registerCommand(RESTART_COMMAND, () => restart(context)),
    vscode.commands.registerCommand(SHOW_OUTPUT_COMMAND, () => output.show(true)),
    vscode.workspace.onDidChangeConfiguration((event) => {
      if (event.affectsConfiguration(`${SECTION}.server.path`) && client) {
        void vscode.window
          .showInformationMessage('chalice-iam.server.path changed. Restart the Chalice IAM server?', 'Restart')
          .then((choice) => (choice === 'Restart' ? restart(context) : undefined));
      }
      if (event.affectsConfiguration(SECTION)) {
        logSettingProblems();
      }
    }),
  );

  // `onLanguage:python` activates us in any Python workspace; start the
  // server only once a Chalice project is in sight, so that other Python
  // projects do not get an idle server and a status bar item.
  if (await chaliceProjectInSight()) {
    await ensureStarted(context);
  } else {
    const waiting = vscode.workspace.onDidOpenTextDocument((document) => {
      if (isChaliceDocument(document)) {
        waiting.dispose();
        void ensureStarted(context);
      }
    });
    context.subscriptions.push(waiting);
  }
}

export async function deactivate(): Promise<void> {
  const running = client;
  client = undefined;
  if (running) {
    await running.stop();
  }
}

async function chaliceProjectInSight(): Promise<boolean> {
  if (vscode.workspace.textDocuments.some(isChaliceDocument)) {
    return true;
  }
  const found = await vscode.workspace.findFiles('{**/.chalice/config.json,**/app.py}', '**/node_modules/**', 1);
  return found.length > 0;
}

function isChaliceDocument(document: vscode.TextDocument): boolean {
  return (
    document.uri.scheme === 'file' &&
    document.languageId === 'python' &&
    enclosingProjectRoot(document.uri.fsPath) !== undefined
  );
}

function ensureStarted(context: vscode.ExtensionContext): Promise<void> {
  starting ??= start(context).finally(() => {
    starting = undefined;
  });
  return starting;
}

async function start(context: vscode.ExtensionContext): Promise<void> {
  const configuration = vscode.workspace.getConfiguration(SECTION);
  const resolution = resolveServer({
    configured: configuration.get<string>('server.path'),
    extensionPath: context.extensionPath,
    workspaceFolder: vscode.workspace.workspaceFolders?.[0]?.uri.fsPath,
    env: process.env,
    platform: process.platform,
  });
  if (!resolution.found) {
    output.appendLine(resolution.message);
    output.appendLine(`Looked for: ${resolution.tried.join(', ')}`);
    showStatus('missing');
    void vscode.window.showErrorMessage(resolution.message, 'Open Settings').then((choice) => {
      if (choice === 'Open Settings') {
        void vscode.commands.executeCommand('workbench.action.openSettings', `${SECTION}.server.path`);
      }
    });
    return;
  }
  output.appendLine(`Starting ${resolution.path} (${resolution.source})`);
  logSettingProblems();

  const serverOptions: ServerOptions = {
    command: resolution.path,
    args: [...SERVER_ARGS],
    transport: TransportKind.stdio,
  };
  const clientOptions: LanguageClientOptions = {
    documentSelector: [
      { scheme: 'file', language: 'python' },
      // Config and policy files get diagnostics too (unknown actions, stages).
      { scheme: 'file', pattern: '**/.chalice/*.json' },
    ],
    outputChannel: output,
    revealOutputChannelOn: RevealOutputChannelOn.Never,
    // A function, so that a restart sends the settings as they are then.
    initializationOptions: () => initializationOptions(vscode.workspace.getConfiguration(SECTION)),
    middleware: {
      workspace: {
        // The default answer is the raw section, which carries keys only the
        // extension reads (server.path, trace.server); send the server's shape.
        configuration: async (params, token, next) => {
          const defaults = await next(params, token);
          if (defaults instanceof Error || !Array.isArray(defaults)) {
            return defaults;
          }
          return configurationAnswers(params.items, defaults, (scopeUri) =>
            vscode.workspace.getConfiguration(SECTION, scopeUri ? vscode.Uri.parse(scopeUri) : undefined),
          );
        },
      },
    },
  };

  const created = new LanguageClient(SECTION, 'Chalice IAM', serverOptions, clientOptions);
  created.onDidChangeState((event) => {
    if (client === created) {
      showStatus(event.newState === State.Running ? 'running' : event.newState === State.Starting ? 'starting' : 'stopped');
    }
  });
  client = created;
  showStatus('starting');
  try {
    await created.start();
  } catch (error) {
    output.appendLine(`The server did not start: ${String(error)}`);
    showStatus('stopped');
  }
}

async function restart(context: vscode.ExtensionContext): Promise<void> {
  const running = client;
  client = undefined;
  if (running) {
    try {
      await running.stop();
    } catch (error) {
      output.appendLine(`Stopping the server failed: ${String(error)}`);
    }
  }
  await ensureStarted(context);
}

type ServerState = 'starting' | 'running' | 'stopped' | 'missing';

function showStatus(state: ServerState): void {
  const look: Record<ServerState, { text: string; tooltip: string; error?: boolean }> = {
    starting: { text: '$(sync~spin) Chalice IAM', tooltip: 'Chalice IAM: starting the server' },
    running: { text: '$(shield) Chalice IAM', tooltip: 'Chalice IAM: server running. Click for its output.' },
    stopped: { text: '$(error) Chalice IAM', tooltip: 'Chalice IAM: server stopped. Click for its output.', error: true },
    missing: { text: '$(error) Chalice IAM: no server', tooltip: 'Chalice IAM: no server binary found', error: true },
  };
  const shown = look[state];
  status.text = shown.text;
  status.tooltip = shown.tooltip;
  status.backgroundColor = shown.error ? new vscode.ThemeColor('statusBarItem.errorBackground') : undefined;
  status.show();
}

function logSettingProblems(): void {
  for (const problem of serverSettings(vscode.workspace.getConfiguration(SECTION)).problems) {
    output.appendLine(`Setting ignored: ${problem}`);
  }
}

async function showPolicy(context: vscode.ExtensionContext): Promise<void> {
  if (!client) {
    await ensureStarted(context);
  }
  const running = client;
  if (!running || running.state !== State.Running) {
    void vscode.window.showErrorMessage('The Chalice IAM server is not running; see its output.');
    return;
  }
  const root = await pickProjectRoot();
  if (root === null) {
    return; // the user dismissed the choice
  }
  try {
    const policy: unknown = await running.sendRequest(ExecuteCommandRequest.type, {
      command: SHOW_POLICY_SERVER_COMMAND,
      arguments: root === undefined ? [] : [root],
    });
    if (typeof policy !== 'string') {
      throw new Error(`the server answered ${JSON.stringify(policy)} instead of a policy document`);
    }
    const document = await vscode.workspace.openTextDocument({ language: 'json', content: policy });
    await vscode.window.showTextDocument(document, { preview: false });
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    void vscode.window.showErrorMessage(`Chalice IAM: cannot show the policy: ${message}`);
  }
}

/**
 * The project whose policy to show: the active editor's, else the only one
 * in the workspace, else the user's pick. `undefined` lets the server choose
 * (it does when there is one project); `null` means the user cancelled.
 */
async function pickProjectRoot(): Promise<string | undefined | null> {
  const active = vscode.window.activeTextEditor?.document.uri;
  if (active?.scheme === 'file') {
    const root = enclosingProjectRoot(active.fsPath);
    if (root) {
      return root;
    }
  }
  const markers = await vscode.workspace.findFiles('{**/.chalice/config.json,**/app.py}', '**/node_modules/**', 200);
  const roots = outermostRoots(
    markers.map((uri) => {
      const dir = path.dirname(uri.fsPath);
      return path.basename(dir) === '.chalice' ? path.dirname(dir) : dir;
    }),
  ).filter((dir) => isProjectRoot(dir));
  if (roots.length <= 1) {
    return roots[0];
  }
  const picked = await vscode.window.showQuickPick(
    roots.map((root) => ({ label: path.basename(root), description: vscode.workspace.asRelativePath(root), root })),
    { placeHolder: 'Which Chalice project?' },
  );
  return picked ? picked.root : null;
}
