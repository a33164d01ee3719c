// A client for the real `chalice-iam` binary built from the same layers
// vscode-languageclient 9 uses (vscode-jsonrpc + vscode-languageserver-protocol),
// answering server requests the way the extension does. VS Code itself
// cannot run offline here, so this is as close to it as a test gets.

import { ChildProcess, spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

import { createMessageConnection, MessageConnection, StreamMessageReader, StreamMessageWriter } from 'vscode-jsonrpc/node';
import {
  ApplyWorkspaceEditRequest,
  ClientCapabilities,
  ConfigurationRequest,
  Diagnostic,
  ExitNotification,
  InitializeParams,
  InitializeRequest,
  InitializeResult,
  LogMessageNotification,
  PublishDiagnosticsNotification,
  RegistrationRequest,
  ShowMessageNotification,
  ShutdownRequest,
  UnregistrationRequest,
  WorkDoneProgressCreateRequest,
  WorkspaceEdit,
} from 'vscode-languageserver-protocol';

import { resolveServer, SERVER_ARGS } from '../src/serverPath';
import { ConfigurationReader, configurationAnswers } from '../src/settings';

export const extensionDir = path.resolve(__dirname, '..', '..');
export const repoRoot = path.resolve(extensionDir, '..', '..');

/**
 * The server the extension would run when `chalice-iam.server.path` is
 * $CHALICE_IAM (or unset): the same lookup, bundled/ then PATH.
 */
export function serverBinary(): string {
  const found = resolveServer({
    configured: process.env.CHALICE_IAM,
    extensionPath: extensionDir,
    env: process.env,
    platform: process.platform,
  });
  if (!found.found) {
    throw new Error(`${found.message} (tried ${found.tried.join(', ')}); run \`npm run package\` or set CHALICE_IAM`);
  }
  return found.path;
}

/**
 * The client capabilities vscode-languageclient 9.0.1 announces for what this
 * server uses (copied from its computeClientCapabilities and the features'
 * fillClientCapabilities).
 */
export const VSCODE_CAPABILITIES: ClientCapabilities = {
  general: { positionEncodings: ['utf-16'] },
  workspace: {
    applyEdit: true,
    workspaceEdit: {
      documentChanges: true,
      resourceOperations: ['create', 'rename', 'delete'],
      failureHandling: 'textOnlyTransactional',
      normalizesLineEndings: true,
    },
    configuration: true,
    didChangeConfiguration: { dynamicRegistration: true },
    didChangeWatchedFiles: { dynamicRegistration: true, relativePatternSupport: true },
    executeCommand: { dynamicRegistration: true },
    workspaceFolders: true,
  },
  textDocument: {
    synchronization: { dynamicRegistration: true, willSave: true, willSaveWaitUntil: true, didSave: true },
    publishDiagnostics: {
      relatedInformation: true,
      versionSupport: false,
      tagSupport: { valueSet: [1, 2] },
      codeDescriptionSupport: true,
      dataSupport: true,
    },
    codeAction: {
      dynamicRegistration: true,
      isPreferredSupport: true,
      disabledSupport: true,
      dataSupport: true,
      resolveSupport: { properties: ['edit'] },
      codeActionLiteralSupport: {
        codeActionKind: {
          valueSet: ['', 'quickfix', 'refactor', 'refactor.extract', 'refactor.inline', 'refactor.rewrite', 'source', 'source.organizeImports'],
        },
      },
      honorsChangeAnnotations: true,
    },
    hover: { dynamicRegistration: true, contentFormat: ['markdown', 'plaintext'] },
  },
  window: { workDoneProgress: true, showDocument: { support: true } },
};

export interface SessionOptions {
  workspace: string;
  initializationOptions: unknown;
  /** What `workspace/configuration` reads for the `chalice-iam` section. */
  configuration: () => ConfigurationReader;
  capabilities?: ClientCapabilities;
}

export class LspSession {
  readonly connection: MessageConnection;
  readonly diagnostics = new Map<string, Diagnostic[]>();
  readonly logs: string[] = [];
  readonly registrations: string[] = [];
  configurationRequests = 0;
  private readonly process: ChildProcess;
  private readonly listeners = new Set<() => void>();
  private stderr = '';
  private exited: Promise<number | null>;

  constructor(private readonly options: SessionOptions) {
    // vscode-languageclient appends --stdio for TransportKind.stdio.
    this.process = spawn(serverBinary(), [...SERVER_ARGS, '--stdio'], { stdio: ['pipe', 'pipe', 'pipe'] });
    this.process.stderr!.on('data', (chunk) => (this.stderr += chunk));
    this.exited = new Promise((resolve) => this.process.on('exit', (code) => resolve(code)));
    this.connection = createMessageConnection(
      new StreamMessageReader(this.process.stdout!),
      new StreamMessageWriter(this.process.stdin!),
    );
    const c = this.connection;
    c.onNotification(PublishDiagnosticsNotification.type, (params) => {
      this.diagnostics.set(params.uri, params.diagnostics);
      this.notify();
    });
    c.onNotification(LogMessageNotification.type, (params) => this.logs.push(params.message));
    c.onNotification(ShowMessageNotification.type, (params) => this.logs.push(params.message));
    // The extension's middleware: defaults from VS Code (null here, as for an
    // unknown section), our section mapped by settings.ts.
    c.onRequest(ConfigurationRequest.type, (params) => {
      this.configurationRequests += 1;
      this.notify();
      return configurationAnswers(params.items, params.items.map(() => null), () => this.options.configuration());
    });
    c.onRequest(RegistrationRequest.type, (params) => {
      this.registrations.push(...params.registrations.map((r) => r.method));
      this.notify();
    });
    c.onRequest(UnregistrationRequest.type, () => undefined);
    c.onRequest(WorkDoneProgressCreateRequest.type, () => undefined);
    c.onRequest(ApplyWorkspaceEditRequest.type, (params) => {
      applyWorkspaceEdit(params.edit);
      return { applied: true };
    });
    c.listen();
  }

  async initialize(): Promise<InitializeResult> {
    const rootUri = pathToFileURL(this.options.workspace).href;
    const params: InitializeParams = {
      processId: process.pid,
      clientInfo: { name: 'Visual Studio Code', version: '1.82.0' },
      locale: 'en',
      rootPath: this.options.workspace,
      rootUri,
      capabilities: this.options.capabilities ?? VSCODE_CAPABILITIES,
      initializationOptions: this.options.initializationOptions,
      trace: 'off',
      workspaceFolders: [{ uri: rootUri, name: path.basename(this.options.workspace) }],
    };
    const result = await this.connection.sendRequest(InitializeRequest.type, params);
    await this.connection.sendNotification('initialized', {});
    return result;
  }

  /** Resolves once `predicate` holds, re-checked after every message that changes state. */
  waitFor<T>(what: string, predicate: () => T | undefined | false, timeoutMs = 15000): Promise<T> {
    return new Promise((resolve, reject) => {
      const check = (): boolean => {
        const value = predicate();
        if (value !== undefined && value !== false) {
          cleanup();
          resolve(value);
          return true;
        }
        return false;
      };
      const timer = setTimeout(() => {
        cleanup();
        reject(
          new Error(
            `timed out after ${timeoutMs} ms waiting for ${what}; diagnostics: ${JSON.stringify([...this.diagnostics])}; ` +
              `log: ${JSON.stringify(this.logs)}; stderr: ${this.stderr}`,
          ),
        );
      }, timeoutMs);
      const cleanup = () => {
        clearTimeout(timer);
        this.listeners.delete(listener);
      };
      const listener = () => void check();
      this.listeners.add(listener);
      check();
    });
  }

  async shutdown(): Promise<number | null> {
    try {
      await this.connection.sendRequest(ShutdownRequest.type);
      await this.connection.sendNotification(ExitNotification.type);
    } finally {
      const timer = setTimeout(() => this.process.kill(), 5000);
      const code = await this.exited;
      clearTimeout(timer);
      this.connection.dispose();
      return code;
    }
  }

  kill(): void {
    this.process.kill();
  }

  private notify(): void {
    for (const listener of [...this.listeners]) {
      listener();
    }
  }
}

/**
 * Applies a WorkspaceEdit to files on disk as VS Code would: resource
 * operations in order, text edits against the current text (UTF-16
 * positions, as negotiated), several edits of one document from the end so
 * earlier ones keep their positions. Returns the paths it touched.
 */
export function applyWorkspaceEdit(edit: WorkspaceEdit): { created: string[]; changed: string[] } {
  const created: string[] = [];
  const changed: string[] = [];
  const editFile = (uri: string, edits: { range: { start: Pos; end: Pos }; newText: string }[]) => {
    const file = fileURLToPath(uri);
    let text = fs.readFileSync(file, 'utf8');
    const sorted = [...edits].sort((a, b) => offsetAt(text, b.range.start) - offsetAt(text, a.range.start));
    for (const e of sorted) {
      text = text.slice(0, offsetAt(text, e.range.start)) + e.newText + text.slice(offsetAt(text, e.range.end));
    }
    fs.writeFileSync(file, text);
    if (!created.includes(file) && !changed.includes(file)) {
      changed.push(file);
    }
  };
  for (const change of edit.documentChanges ?? []) {
    if ('kind' in change) {
      if (change.kind !== 'create') {
        throw new Error(`unexpected resource operation ${change.kind}`);
      }
      const file = fileURLToPath(change.uri);
      if (fs.existsSync(file) && !change.options?.overwrite && !change.options?.ignoreIfExists) {
        throw new Error(`CreateFile of existing ${file} without overwrite: VS Code refuses the edit`);
      }
      fs.writeFileSync(file, '');
      created.push(file);
    } else {
      editFile(change.textDocument.uri, change.edits);
    }
  }
  for (const [uri, edits] of Object.entries(edit.changes ?? {})) {
    editFile(uri, edits);
  }
  return { created, changed };
}

interface Pos {
  line: number;
  character: number;
}

/** A UTF-16 position → a string index (JS strings are UTF-16). */
function offsetAt(text: string, pos: Pos): number {
  let offset = 0;
  for (let line = 0; line < pos.line; line++) {
    const next = text.indexOf('\n', offset);
    if (next < 0) {
      return text.length;
    }
    offset = next + 1;
  }
  const lineEnd = text.indexOf('\n', offset);
  return Math.min(offset + pos.character, lineEnd < 0 ? text.length : lineEnd);
}
