//! End-to-end tests of `chalice-iam lsp`: the real server, in memory over
//! `tokio::io::duplex`, driven by a small JSON-RPC client.
//!
//! Snapshots show file URIs with the temporary workspace replaced by
//! `[root]`.

use std::collections::VecDeque;
use std::path::{Path, PathBuf};
use std::time::Duration;

use chalice_iam::lsp::SHOW_POLICY;
use serde_json::{json, Value};
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader, DuplexStream, ReadHalf, WriteHalf};
use tokio::task::JoinHandle;

const TIMEOUT: Duration = Duration::from_secs(10);

/// A temporary Chalice project.
struct Workspace {
    _dir: tempfile::TempDir,
    root: PathBuf,
}

impl Workspace {
    fn new(files: &[(&str, &str)]) -> Workspace {
        let dir = tempfile::tempdir().unwrap();
        // Canonical, so the server's paths (from URIs) and ours agree.
        let root = dir.path().canonicalize().unwrap();
        let workspace = Workspace { _dir: dir, root };
        for (rel, text) in files {
            workspace.write(rel, text);
        }
        workspace
    }

    fn path(&self, rel: &str) -> PathBuf {
        self.root.join(rel)
    }

    fn uri(&self, rel: &str) -> String {
        uri_of(&self.path(rel))
    }

    fn write(&self, rel: &str, text: &str) {
        let path = self.path(rel);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, text).unwrap();
    }
}

fn uri_of(path: &Path) -> String {
    tower_lsp_server::ls_types::Uri::from_file_path(path).unwrap().as_str().to_owned()
}

/// What the test client answers to the server's requests.
#[derive(Clone)]
struct ClientBehaviour {
    /// The answer to `workspace/configuration` for our section.
    configuration: Value,
}

struct TestClient {
    writer: WriteHalf<DuplexStream>,
    reader: BufReader<ReadHalf<DuplexStream>>,
    next_id: i64,
    /// Notifications not yet looked at, in arrival order.
    notifications: VecDeque<Value>,
    /// Requests the server sent us, in arrival order.
    server_requests: Vec<Value>,
    behaviour: ClientBehaviour,
    /// Resolves to whether the server stopped after `shutdown`.
    server: JoinHandle<bool>,
    root: Option<PathBuf>,
}

impl TestClient {
    fn start() -> TestClient {
        let (client_side, server_side) = tokio::io::duplex(1 << 20);
        let (server_in, server_out) = tokio::io::split(server_side);
        let server = tokio::spawn(chalice_iam::lsp::serve(server_in, server_out));
        let (reader, writer) = tokio::io::split(client_side);
        TestClient {
            writer,
            reader: BufReader::new(reader),
            next_id: 0,
            notifications: VecDeque::new(),
            server_requests: Vec::new(),
            behaviour: ClientBehaviour { configuration: Value::Null },
            server,
            root: None,
        }
    }

    /// Starts a server and initializes it for `workspace` with the given
    /// capabilities and initialization options.
    async fn initialized(workspace: &Workspace, capabilities: Value, options: Value) -> (TestClient, Value) {
        let mut client = TestClient::start();
        client.root = Some(workspace.root.clone());
        let result = client
            .request(
                "initialize",
                json!({
                    "processId": null,
                    "capabilities": capabilities,
                    "workspaceFolders": [{ "uri": uri_of(&workspace.root), "name": "ws" }],
                    "initializationOptions": options,
                }),
            )
            .await;
        client.notify("initialized", json!({})).await;
        (client, result)
    }

    async fn send(&mut self, message: Value) {
        self.send_raw(serde_json::to_string(&message).unwrap().as_bytes()).await;
    }

    /// Sends `body` in a frame, whatever it is.
    async fn send_raw(&mut self, body: &[u8]) {
        let header = format!("Content-Length: {}\r\n\r\n", body.len());
        self.writer.write_all(header.as_bytes()).await.unwrap();
        self.writer.write_all(body).await.unwrap();
        self.writer.flush().await.unwrap();
    }

    async fn notify(&mut self, method: &str, params: Value) {
        self.send(json!({ "jsonrpc": "2.0", "method": method, "params": params })).await;
    }

    /// Sends a request and returns the whole response (`result` or `error`).
    async fn request_raw(&mut self, method: &str, params: Value) -> Value {
        self.next_id += 1;
        let id = self.next_id;
        self.send(json!({ "jsonrpc": "2.0", "id": id, "method": method, "params": params })).await;
        loop {
            let message = self.receive().await;
            if message.get("method").is_none() && message["id"] == id {
                return message;
            }
            self.handle_incoming(message).await;
        }
    }

    /// Sends a request and returns its `result`, failing on an error.
    async fn request(&mut self, method: &str, params: Value) -> Value {
        let response = self.request_raw(method, params).await;
        assert!(response.get("error").is_none(), "{method} failed: {response}");
        response["result"].clone()
    }

    /// Reads one message, failing after [`TIMEOUT`].
    async fn receive(&mut self) -> Value {
        tokio::time::timeout(TIMEOUT, self.read_message()).await.unwrap_or_else(|_| {
            panic!("no message from the server within {TIMEOUT:?}; unread: {:?}", self.notifications)
        })
    }

    async fn read_message(&mut self) -> Value {
        let mut length = None;
        loop {
            let mut line = String::new();
            assert!(self.reader.read_line(&mut line).await.unwrap() > 0, "server closed the connection");
            let line = line.trim_end();
            if line.is_empty() {
                break;
            }
            if let Some(value) = line.strip_prefix("Content-Length: ") {
                length = Some(value.parse::<usize>().unwrap());
            }
        }
        let mut body = vec![0; length.expect("Content-Length header")];
        self.reader.read_exact(&mut body).await.unwrap();
        serde_json::from_slice(&body).unwrap()
    }

    /// Stores notifications and answers the server's own requests.
    async fn handle_incoming(&mut self, message: Value) {
        match (message.get("id"), message.get("method").and_then(Value::as_str)) {
            (Some(id), Some(method)) => {
                let result = match method {
                    "workspace/configuration" => {
                        let items = message["params"]["items"].as_array().map_or(0, Vec::len);
                        Value::Array(vec![self.behaviour.configuration.clone(); items])
                    }
                    _ => Value::Null,
                };
                let id = id.clone();
                self.server_requests.push(message);
                self.send(json!({ "jsonrpc": "2.0", "id": id, "result": result })).await;
            }
            (None, Some(_)) => self.notifications.push_back(message),
            _ => panic!("unexpected response {message}"),
        }
    }

    /// Waits for a notification of `method` whose params satisfy `matches`;
    /// other notifications stay queued.
    async fn wait_for(&mut self, method: &str, matches: impl Fn(&Value) -> bool) -> Value {
        loop {
            let found = self.notifications.iter().position(|n| n["method"] == method && matches(&n["params"]));
            if let Some(index) = found {
                return self.notifications.remove(index).unwrap()["params"].clone();
            }
            let message = self.receive().await;
            self.handle_incoming(message).await;
        }
    }

    async fn wait_for_log(&mut self, needle: &str) -> String {
        let params = self.wait_for("window/logMessage", |p| p["message"].as_str().unwrap().contains(needle)).await;
        params["message"].as_str().unwrap().to_owned()
    }

    async fn open(&mut self, uri: &str, language: &str, version: i32, text: &str) {
        let item = json!({ "uri": uri, "languageId": language, "version": version, "text": text });
        self.notify("textDocument/didOpen", json!({ "textDocument": item })).await;
    }

    async fn change(&mut self, uri: &str, version: i32, changes: Value) {
        let params = json!({ "textDocument": { "uri": uri, "version": version }, "contentChanges": changes });
        self.notify("textDocument/didChange", params).await;
    }

    async fn show_policy(&mut self) -> Value {
        let root = self.root.clone().unwrap();
        let result = self
            .request("workspace/executeCommand", json!({ "command": SHOW_POLICY, "arguments": [uri_of(&root)] }))
            .await;
        serde_json::from_str(result.as_str().unwrap()).unwrap()
    }

    /// `shutdown` then `exit`; returns whether the server stopped with the
    /// shutdown flag set (exit code 0).
    async fn shutdown_and_exit(mut self) -> bool {
        assert_eq!(self.request("shutdown", Value::Null).await, Value::Null);
        self.exit().await
    }

    async fn exit(mut self) -> bool {
        self.notify("exit", Value::Null).await;
        tokio::time::timeout(TIMEOUT, &mut self.server).await.expect("server stops after exit").unwrap()
    }

    /// Replaces the workspace path with `[root]` in every string.
    fn redact(&self, value: &Value) -> Value {
        let Some(root) = &self.root else { return value.clone() };
        let (path, uri) = (root.display().to_string(), uri_of(root));
        match value {
            Value::String(s) => Value::String(s.replace(&uri, "[root]").replace(&path, "[root]")),
            Value::Array(items) => Value::Array(items.iter().map(|v| self.redact(v)).collect()),
            Value::Object(map) => Value::Object(
                map.iter().map(|(k, v)| (k.replace(&uri, "[root]").replace(&path, "[root]"), self.redact(v))).collect(),
            ),
            other => other.clone(),
        }
    }
}

/// Client capabilities: Neovim 0.11-like (UTF-8 offered, no dynamic file
/// watching on Linux) or VS Code-like (UTF-16 only, dynamic registration,
/// resource operations).
fn neovim_capabilities() -> Value {
    json!({
        "general": { "positionEncodings": ["utf-8", "utf-16", "utf-32"] },
        "workspace": {
            "configuration": true,
            "didChangeWatchedFiles": { "dynamicRegistration": false },
            "workspaceEdit": { "documentChanges": true, "resourceOperations": ["rename", "create", "delete"] },
        },
    })
}

fn vscode_capabilities() -> Value {
    json!({
        "workspace": {
            "configuration": true,
            "didChangeConfiguration": { "dynamicRegistration": true },
            "didChangeWatchedFiles": { "dynamicRegistration": true },
            "workspaceEdit": { "documentChanges": true, "resourceOperations": ["create", "rename", "delete"] },
        },
    })
}

const APP_PY: &str = "\
from chalice import Chalice
import boto3

app = Chalice(app_name='threads')
dynamodb = boto3.resource('dynamodb')


@app.route('/threads')
def get_threads():
    # テーブル内のデータを全件取得する
    return dynamodb.Table('スレッド😀').scan()['Items']
";

const CONFIG_JSON: &str = r#"{
  "version": "2.0",
  "app_name": "threads",
  "stages": { "dev": { "api_gateway_stage": "api" } }
}
"#;

fn thread_project() -> Workspace {
    Workspace::new(&[("app.py", APP_PY), (".chalice/config.json", CONFIG_JSON)])
}

/// The actions of the needed policy, without the logs statement chalice
/// always adds.
fn policy_actions(policy: &Value) -> Vec<String> {
    policy["Statement"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|s| s["Action"].as_array().cloned().unwrap_or_default())
        .map(|a| a.as_str().unwrap().to_owned())
        .filter(|a| !a.starts_with("logs:"))
        .collect()
}

#[tokio::test]
async fn initialize_negotiates_utf8_when_offered() {
    let workspace = thread_project();
    let (client, result) = TestClient::initialized(&workspace, neovim_capabilities(), Value::Null).await;
    insta::assert_json_snapshot!("initialize_utf8", result);
    assert!(client.shutdown_and_exit().await);
}

#[tokio::test]
async fn initialize_falls_back_to_utf16() {
    let workspace = thread_project();
    let (client, result) = TestClient::initialized(&workspace, vscode_capabilities(), Value::Null).await;
    assert_eq!(result["capabilities"]["positionEncoding"], "utf-16");
    assert!(client.shutdown_and_exit().await);
}

#[tokio::test]
async fn requests_before_initialize_are_refused() {
    let mut client = TestClient::start();
    let response =
        client.request_raw("workspace/executeCommand", json!({ "command": SHOW_POLICY, "arguments": [] })).await;
    assert_eq!(response["error"]["code"], -32002, "{response}");
    // The server still initializes normally afterwards.
    let result = client.request("initialize", json!({ "processId": null, "capabilities": {} })).await;
    assert_eq!(result["serverInfo"]["name"], "chalice-iam");
    assert!(client.shutdown_and_exit().await);
}

#[tokio::test]
async fn exit_without_shutdown_is_unclean_and_requests_after_shutdown_fail() {
    let workspace = thread_project();
    let (client, _) = TestClient::initialized(&workspace, neovim_capabilities(), Value::Null).await;
    assert!(!client.exit().await, "exit without shutdown must report exit code 1");

    let (mut client, _) = TestClient::initialized(&workspace, neovim_capabilities(), Value::Null).await;
    assert_eq!(client.request("shutdown", Value::Null).await, Value::Null);
    let response =
        client.request_raw("workspace/executeCommand", json!({ "command": SHOW_POLICY, "arguments": [] })).await;
    assert_eq!(response["error"]["code"], -32600, "{response}");
    assert!(client.exit().await);
}

#[tokio::test]
async fn show_policy_returns_the_needed_policy() {
    let workspace = thread_project();
    let (mut client, _) = TestClient::initialized(&workspace, neovim_capabilities(), Value::Null).await;
    client.wait_for_log("loaded 1 Chalice project").await;
    insta::assert_json_snapshot!("show_policy", client.show_policy().await);

    let unknown = client.request_raw("workspace/executeCommand", json!({ "command": "nope", "arguments": [] })).await;
    assert_eq!(unknown["error"]["code"], -32602);
    let not_a_project = client
        .request_raw("workspace/executeCommand", json!({ "command": SHOW_POLICY, "arguments": ["/nowhere"] }))
        .await;
    assert_eq!(not_a_project["error"]["code"], -32602);
    assert!(client.shutdown_and_exit().await);
}

/// The open document's text, edited incrementally, is what the engine sees;
/// closing it brings the disk's text back.
#[tokio::test]
async fn open_change_close_follow_the_editor_text() {
    let workspace = thread_project();
    let (mut client, _) = TestClient::initialized(&workspace, neovim_capabilities(), Value::Null).await;
    client.wait_for_log("loaded 1 Chalice project").await;
    let uri = workspace.uri("app.py");
    client.open(&uri, "python", 1, APP_PY).await;
    assert_eq!(policy_actions(&client.show_policy().await), ["dynamodb:Scan"]);

    // UTF-8 columns: replace `scan` on the last line, after
    // "    return dynamodb.Table('スレッド😀')." (46 bytes).
    client.change(&uri, 2, json!([{ "range": range(10, 46, 10, 50), "text": "query" }])).await;
    assert_eq!(policy_actions(&client.show_policy().await), ["dynamodb:Query"]);

    client.notify("textDocument/didClose", json!({ "textDocument": { "uri": uri } })).await;
    assert_eq!(policy_actions(&client.show_policy().await), ["dynamodb:Scan"]);
    assert!(client.shutdown_and_exit().await);
}

fn range(start_line: u32, start_character: u32, end_line: u32, end_character: u32) -> Value {
    json!({
        "start": { "line": start_line, "character": start_character },
        "end": { "line": end_line, "character": end_character },
    })
}

impl TestClient {
    /// Waits for diagnostics of `uri` satisfying `matches`.
    async fn diagnostics(&mut self, uri: &str, matches: impl Fn(&Value) -> bool) -> Value {
        self.wait_for("textDocument/publishDiagnostics", |p| p["uri"] == uri && matches(p)).await
    }
}

fn messages(published: &Value) -> Vec<String> {
    published["diagnostics"].as_array().unwrap().iter().map(|d| d["message"].as_str().unwrap().to_owned()).collect()
}

/// Applies LSP text edits (positions in `encoding`) to `text`, the way a
/// client would, to check that fixes produce what they promise.
fn apply_edits(text: &str, edits: &[Value], encoding: &str) -> String {
    let offset = |position: &Value| -> usize {
        let (line, character) = (position["line"].as_u64().unwrap() as usize, position["character"].as_u64().unwrap());
        let line_start: usize = text.split_inclusive('\n').take(line).map(str::len).sum();
        let mut units = 0;
        for (i, c) in text[line_start..].char_indices() {
            if units >= character || c == '\n' {
                return line_start + i;
            }
            units += if encoding == "utf-8" { c.len_utf8() } else { c.len_utf16() } as u64;
        }
        text.len()
    };
    let mut edits: Vec<(usize, usize, &str)> = edits
        .iter()
        .map(|e| (offset(&e["range"]["start"]), offset(&e["range"]["end"]), e["newText"].as_str().unwrap()))
        .collect();
    edits.sort_by_key(|e| std::cmp::Reverse(e.0));
    let mut text = text.to_owned();
    for (start, end, new_text) in edits {
        text.replace_range(start..end, new_text);
    }
    text
}

#[tokio::test]
async fn diagnostics_use_the_negotiated_encoding() {
    let workspace = thread_project();
    for (capabilities, encoding) in [(neovim_capabilities(), "utf-8"), (vscode_capabilities(), "utf-16")] {
        let (mut client, _) = TestClient::initialized(&workspace, capabilities, Value::Null).await;
        let uri = workspace.uri("app.py");
        client.open(&uri, "python", 1, APP_PY).await;
        let published = client.diagnostics(&uri, |p| p["version"] == 1).await;
        let scan = &published["diagnostics"][0];
        assert_eq!(scan["code"], "CIAM001");
        // `dynamodb.Table('スレッド😀').scan()` starts after "    return ".
        assert_eq!(scan["range"]["start"], json!({ "line": 10, "character": 11 }));
        let end_column = if encoding == "utf-8" { 52 } else { 42 };
        assert_eq!(scan["range"]["end"], json!({ "line": 10, "character": end_column }), "{encoding}");
        if encoding == "utf-16" {
            insta::assert_json_snapshot!("diagnostics_utf16", client.redact(&published));
        }
        assert!(client.shutdown_and_exit().await);
    }
}

#[tokio::test]
async fn closed_files_are_published_without_a_version() {
    let workspace = thread_project();
    let (mut client, _) = TestClient::initialized(&workspace, neovim_capabilities(), Value::Null).await;
    let published = client.diagnostics(&workspace.uri("app.py"), |_| true).await;
    assert_eq!(published["version"], Value::Null);
    assert_eq!(messages(&published).len(), 1);
    assert!(client.shutdown_and_exit().await);
}

/// Incremental edits in UTF-16 across a CRLF file with Japanese text and
/// a surrogate pair, one of them deliberately out of date.
#[tokio::test]
async fn incremental_edits_with_crlf_and_non_ascii() {
    let workspace = thread_project();
    let crlf = APP_PY.replace('\n', "\r\n");
    workspace.write("app.py", &crlf);
    let (mut client, _) = TestClient::initialized(&workspace, vscode_capabilities(), Value::Null).await;
    let uri = workspace.uri("app.py");
    client.open(&uri, "python", 1, &crlf).await;
    client.diagnostics(&uri, |p| p["version"] == 1).await;

    // In UTF-16, "    return dynamodb.Table('スレッド😀')." is 36 units.
    client.change(&uri, 2, json!([{ "range": range(10, 36, 10, 40), "text": "query" }])).await;
    let published = client.diagnostics(&uri, |p| p["version"] == 2).await;
    assert_eq!(messages(&published).len(), 1);
    assert!(messages(&published)[0].starts_with("dynamodb:Query is needed"), "{published}");
    assert_eq!(published["diagnostics"][0]["range"]["end"], json!({ "line": 10, "character": 43 }));

    // A stale change (version 2 again) is ignored and logged...
    client.change(&uri, 2, json!([{ "range": range(10, 36, 10, 41), "text": "scan" }])).await;
    client.wait_for_log("version 2 ignored").await;
    // ...and the next one applies to the text as it was. Two changes, the
    // second relative to the text after the first: add a line (CRLF) that
    // writes to another table before the return, then replace the rest of
    // the return line, with an end far past the end of that line, by
    // `scan()`.
    let edits = json!([
        { "range": range(10, 0, 10, 0), "text": "    dynamodb.Table('日本').put_item(Item={})\r\n" },
        { "range": range(11, 36, 11, 999), "text": "scan()" },
    ]);
    client.change(&uri, 3, edits).await;
    let published = client.diagnostics(&uri, |p| p["version"] == 3).await;
    let found: Vec<(&Value, &str)> = published["diagnostics"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| (&d["range"], d["message"].as_str().unwrap().split(' ').next().unwrap()))
        .collect();
    assert_eq!(found, [(&range(10, 4, 10, 42), "dynamodb:PutItem"), (&range(11, 11, 11, 42), "dynamodb:Scan")]);
    assert!(client.shutdown_and_exit().await);
}

#[tokio::test]
async fn closing_a_document_brings_back_the_disk_text() {
    let workspace = thread_project();
    let (mut client, _) = TestClient::initialized(&workspace, neovim_capabilities(), Value::Null).await;
    let uri = workspace.uri("app.py");
    let quiet = APP_PY.replace(".scan()['Items']", "");
    client.open(&uri, "python", 1, &quiet).await;
    let published = client.diagnostics(&uri, |p| p["version"] == 1).await;
    assert_eq!(messages(&published), Vec::<String>::new());
    client.notify("textDocument/didClose", json!({ "textDocument": { "uri": uri } })).await;
    let published = client.diagnostics(&uri, |p| p["version"].is_null() && p["diagnostics"] != json!([])).await;
    assert_eq!(messages(&published).len(), 1);
    assert!(client.shutdown_and_exit().await);
}

/// Many changes in a row: every publish for the document is for a version
/// at least as new as the one before, and the last one is for the last
/// version.
#[tokio::test]
async fn rapid_changes_never_publish_out_of_order() {
    let workspace = thread_project();
    let (mut client, _) = TestClient::initialized(&workspace, neovim_capabilities(), Value::Null).await;
    let uri = workspace.uri("app.py");
    client.open(&uri, "python", 1, APP_PY).await;
    for version in 2..=30 {
        // Alternate the last call between scan and query.
        let (old, new) = if version % 2 == 0 { ("scan", "query") } else { ("query", "scan") };
        let end = 46 + old.len() as u32;
        client.change(&uri, version, json!([{ "range": range(10, 46, 10, end), "text": new }])).await;
    }
    let last = client.diagnostics(&uri, |p| p["version"] == 30).await;
    assert!(messages(&last)[0].starts_with("dynamodb:Query"), "{last}");
    let versions: Vec<i64> = std::iter::from_fn(|| client.notifications.pop_front())
        .filter(|n| n["method"] == "textDocument/publishDiagnostics" && n["params"]["uri"] == uri.as_str())
        .map(|n| n["params"]["version"].as_i64().unwrap_or(0))
        .collect();
    assert!(versions.iter().all(|&v| v <= 30), "{versions:?}");
    assert!(versions.windows(2).all(|w| w[0] <= w[1]), "{versions:?}");
    assert!(client.shutdown_and_exit().await);
}

#[tokio::test]
async fn quick_fix_and_fix_all_with_resource_operations() {
    let workspace = thread_project();
    let (mut client, _) = TestClient::initialized(&workspace, vscode_capabilities(), Value::Null).await;
    let uri = workspace.uri("app.py");
    client.open(&uri, "python", 1, APP_PY).await;
    let published = client.diagnostics(&uri, |p| p["version"] == 1).await;
    let mut diagnostic = published["diagnostics"][0].clone();
    // The range a client sends back does not matter (Neovim 0.7 sends byte
    // columns): the edit comes from `data`.
    diagnostic["range"] = range(10, 0, 10, 3);
    let actions = client
        .request(
            "textDocument/codeAction",
            json!({
                "textDocument": { "uri": uri },
                "range": range(10, 0, 10, 0),
                "context": { "diagnostics": [diagnostic] },
            }),
        )
        .await;
    insta::assert_json_snapshot!("code_actions_document_changes", client.redact(&actions));

    // The quick fix's config.json edit, applied as a client would, keeps
    // the file valid and turns autogen off for the stage.
    let changes = actions[0]["edit"]["documentChanges"].as_array().unwrap();
    let config_edit =
        changes.iter().find(|c| c["textDocument"]["uri"] == workspace.uri(".chalice/config.json")).unwrap();
    let config: Value =
        serde_json::from_str(&apply_edits(CONFIG_JSON, config_edit["edits"].as_array().unwrap(), "utf-16")).unwrap();
    assert_eq!(config["stages"]["dev"]["autogen_policy"], false);
    assert_eq!(changes[1], json!({ "kind": "create", "uri": workspace.uri(".chalice/policy-dev.json") }));

    // Only the source action when only `source` is asked for.
    let only_source = client
        .request(
            "textDocument/codeAction",
            json!({
                "textDocument": { "uri": uri },
                "range": range(0, 0, 0, 0),
                "context": { "diagnostics": [diagnostic], "only": ["source"] },
            }),
        )
        .await;
    let kinds: Vec<&Value> = only_source.as_array().unwrap().iter().map(|a| &a["kind"]).collect();
    assert_eq!(kinds, [&json!("source.fixAll.chalice-iam")]);
    assert!(client.shutdown_and_exit().await);
}

#[tokio::test]
async fn quick_fix_falls_back_to_changes() {
    let workspace = thread_project();
    let capabilities = json!({ "general": { "positionEncodings": ["utf-8"] } });
    let (mut client, _) = TestClient::initialized(&workspace, capabilities, Value::Null).await;
    let uri = workspace.uri("app.py");
    client.open(&uri, "python", 1, APP_PY).await;
    let published = client.diagnostics(&uri, |p| p["version"] == 1).await;
    let actions = client
        .request(
            "textDocument/codeAction",
            json!({
                "textDocument": { "uri": uri },
                "range": range(10, 0, 10, 0),
                "context": { "diagnostics": published["diagnostics"], "only": ["quickfix"] },
            }),
        )
        .await;
    assert_eq!(actions.as_array().unwrap().len(), 1);
    let changes = &actions[0]["edit"]["changes"];
    assert!(actions[0]["edit"].get("documentChanges").is_none());
    let created = &changes[workspace.uri(".chalice/policy-dev.json")];
    assert_eq!(created[0]["range"], range(0, 0, 0, 0));
    let policy: Value = serde_json::from_str(created[0]["newText"].as_str().unwrap()).unwrap();
    assert!(policy_actions(&policy).contains(&"dynamodb:Scan".to_owned()));
    assert!(client.shutdown_and_exit().await);
}

/// LSP lets a client that does not declare `publishDiagnostics.dataSupport`
/// (Neovim before 0.10, Emacs 29) drop `data`: the fix is still offered.
/// So is it for a diagnostic whose `data` names fixes that a newer
/// computation replaced (the client asked before the newer publish reached
/// it): the diagnostic as last published has the current ones.
#[tokio::test]
async fn quick_fix_for_a_client_that_drops_data() {
    let workspace = thread_project();
    let (mut client, _) = TestClient::initialized(&workspace, neovim_capabilities(), Value::Null).await;
    let uri = workspace.uri("app.py");
    client.open(&uri, "python", 1, APP_PY).await;
    let published = client.diagnostics(&uri, |p| p["version"] == 1).await;
    let with_data = published["diagnostics"][0].clone();
    let mut diagnostic = with_data.clone();
    diagnostic.as_object_mut().unwrap().remove("data").unwrap();
    let mut stale = with_data.clone();
    stale["data"]["fix"] = json!("fixes of an earlier computation");
    let mut actions = Vec::new();
    for sent in [with_data, diagnostic, stale] {
        let found = client
            .request(
                "textDocument/codeAction",
                json!({
                    "textDocument": { "uri": uri },
                    "range": sent["range"],
                    "context": { "diagnostics": [sent], "only": ["quickfix"] },
                }),
            )
            .await;
        assert_eq!(found.as_array().unwrap().len(), 1, "{found}");
        assert!(found[0]["edit"]["documentChanges"].is_array(), "{found}");
        actions.push(found[0].clone());
    }
    for other in &actions[1..] {
        assert_eq!(other["title"], actions[0]["title"]);
        assert_eq!(other["edit"], actions[0]["edit"]);
    }
    assert!(client.shutdown_and_exit().await);
}

#[tokio::test]
async fn hover_describes_the_call() {
    let workspace = thread_project();
    let (mut client, _) = TestClient::initialized(&workspace, vscode_capabilities(), Value::Null).await;
    let uri = workspace.uri("app.py");
    client.open(&uri, "python", 1, APP_PY).await;
    // On `scan` (UTF-16 column 37, after the surrogate pair).
    let hover = client
        .request(
            "textDocument/hover",
            json!({ "textDocument": { "uri": uri }, "position": { "line": 10, "character": 37 } }),
        )
        .await;
    insta::assert_json_snapshot!("hover", hover);
    let nothing = client
        .request(
            "textDocument/hover",
            json!({ "textDocument": { "uri": uri }, "position": { "line": 0, "character": 2 } }),
        )
        .await;
    assert_eq!(nothing, Value::Null);
    // A position far outside the document is clamped, not an error.
    let far = client
        .request_raw(
            "textDocument/hover",
            json!({ "textDocument": { "uri": uri }, "position": { "line": 4000, "character": 4000 } }),
        )
        .await;
    assert!(far.get("error").is_none(), "{far}");
    assert!(client.shutdown_and_exit().await);
}

#[tokio::test]
async fn code_lens_runs_show_policy() {
    let workspace = thread_project();
    let (mut client, _) = TestClient::initialized(&workspace, neovim_capabilities(), Value::Null).await;
    let uri = workspace.uri("app.py");
    client.open(&uri, "python", 1, APP_PY).await;
    let lenses = client.request("textDocument/codeLens", json!({ "textDocument": { "uri": uri } })).await;
    insta::assert_json_snapshot!("code_lens", client.redact(&lenses));
    let command = &lenses[0]["command"];
    let policy = client
        .request(
            "workspace/executeCommand",
            json!({ "command": command["command"], "arguments": command["arguments"] }),
        )
        .await;
    let policy: Value = serde_json::from_str(policy.as_str().unwrap()).unwrap();
    assert_eq!(policy_actions(&policy), ["dynamodb:Scan"]);
    assert!(client.shutdown_and_exit().await);
}

/// A client with dynamic registration watches for us: the server
/// registers its globs, and reloads files the client reports.
#[tokio::test]
async fn watched_files_from_the_client() {
    let workspace = thread_project();
    let (mut client, _) = TestClient::initialized(&workspace, vscode_capabilities(), Value::Null).await;
    let app_uri = workspace.uri("app.py");
    client.diagnostics(&app_uri, |p| p["diagnostics"] != json!([])).await;
    let registration = loop {
        let found = client.server_requests.iter().find(|r| {
            r["method"] == "client/registerCapability"
                && r["params"]["registrations"][0]["method"] == "workspace/didChangeWatchedFiles"
        });
        if let Some(found) = found {
            break found.clone();
        }
        let message = client.receive().await;
        client.handle_incoming(message).await;
    };
    insta::assert_json_snapshot!("watched_files_registration", registration["params"]);

    // A new module in chalicelib, imported by app.py; both changed on disk.
    workspace.write("chalicelib/__init__.py", "");
    workspace.write(
        "chalicelib/queue.py",
        "import boto3\n\ndef notify():\n    boto3.resource('sqs').Queue('url').send_message(MessageBody='x')\n",
    );
    workspace.write("app.py", &format!("{APP_PY}\n\nfrom chalicelib.queue import notify\n"));
    let changes = json!({ "changes": [
        { "uri": workspace.uri("chalicelib/__init__.py"), "type": 1 },
        { "uri": workspace.uri("chalicelib/queue.py"), "type": 1 },
        { "uri": app_uri, "type": 2 },
    ]});
    client.notify("workspace/didChangeWatchedFiles", changes).await;
    let queue = client.diagnostics(&workspace.uri("chalicelib/queue.py"), |p| p["diagnostics"] != json!([])).await;
    assert!(messages(&queue)[0].contains("sqs:SendMessage"), "{queue}");

    // Deleted again: its diagnostics are cleared.
    std::fs::remove_file(workspace.path("chalicelib/queue.py")).unwrap();
    let deleted = json!({ "changes": [{ "uri": workspace.uri("chalicelib/queue.py"), "type": 3 }] });
    client.notify("workspace/didChangeWatchedFiles", deleted).await;
    client.diagnostics(&workspace.uri("chalicelib/queue.py"), |p| p["diagnostics"] == json!([])).await;
    assert!(client.shutdown_and_exit().await);
}

/// A client without dynamic registration (Neovim on Linux): the server
/// watches the workspace itself.
#[tokio::test]
async fn the_server_watches_files_itself() {
    let workspace = Workspace::new(&[("first/app.py", APP_PY), ("first/.chalice/config.json", CONFIG_JSON)]);
    let (mut client, _) = TestClient::initialized(&workspace, neovim_capabilities(), Value::Null).await;
    let app_uri = workspace.uri("first/app.py");
    client.diagnostics(&app_uri, |p| p["diagnostics"] != json!([])).await;
    assert!(client.server_requests.iter().all(|r| r["method"] != "client/registerCapability"));

    workspace.write("first/app.py", &APP_PY.replace(".scan()", ".query()"));
    let published = client.diagnostics(&app_uri, |p| messages(p).iter().any(|m| m.contains("Query"))).await;
    assert_eq!(published["version"], Value::Null);

    // A new project appearing in the workspace is loaded; an app.py inside
    // an existing project's tree is not another project.
    workspace.write("first/tests/app.py", APP_PY);
    workspace.write("second/app.py", APP_PY);
    client.diagnostics(&workspace.uri("second/app.py"), |p| p["diagnostics"] != json!([])).await;
    let arguments = json!([workspace.uri("first/tests")]);
    let nested =
        client.request_raw("workspace/executeCommand", json!({ "command": SHOW_POLICY, "arguments": arguments })).await;
    assert_eq!(nested["error"]["code"], -32602, "{nested}");
    assert!(client.shutdown_and_exit().await);
}

#[tokio::test]
async fn settings_from_initialization_options_and_configuration() {
    let workspace = thread_project();
    let options = json!({ "severity": { "CIAM001": "error" }, "pythonVersion": "three" });
    let (mut client, _) = TestClient::initialized(&workspace, vscode_capabilities(), options).await;
    client.wait_for_log("pythonVersion").await;
    let app_uri = workspace.uri("app.py");
    let published = client.diagnostics(&app_uri, |p| p["diagnostics"] != json!([])).await;
    assert_eq!(published["diagnostics"][0]["severity"], 1);

    // Turned off in the editor's configuration: pulled on the change notification.
    client.behaviour.configuration = json!({ "severity": { "resource-api-not-seen": "off" } });
    client.notify("workspace/didChangeConfiguration", json!({ "settings": null })).await;
    client.diagnostics(&app_uri, |p| p["diagnostics"] == json!([])).await;
    let pulls: Vec<&Value> =
        client.server_requests.iter().filter(|r| r["method"] == "workspace/configuration").collect();
    assert_eq!(pulls.last().unwrap()["params"], json!({ "items": [{ "section": "chalice-iam" }] }));
    assert!(client.shutdown_and_exit().await);
}

/// Without `workspace/configuration`, the notification's payload is used.
#[tokio::test]
async fn settings_pushed_by_a_client_that_cannot_be_asked() {
    let workspace = thread_project();
    let (mut client, _) = TestClient::initialized(&workspace, json!({}), Value::Null).await;
    let app_uri = workspace.uri("app.py");
    client.diagnostics(&app_uri, |p| p["diagnostics"] != json!([])).await;
    let settings = json!({ "settings": { "chalice-iam": { "severity": { "CIAM001": "hint" } } } });
    client.notify("workspace/didChangeConfiguration", settings).await;
    let published = client.diagnostics(&app_uri, |p| p["diagnostics"][0]["severity"] == 4).await;
    assert_eq!(messages(&published).len(), 1);
    assert!(client.server_requests.iter().all(|r| r["method"] != "workspace/configuration"));
    assert!(client.shutdown_and_exit().await);
}

/// Dependent actions: the hover lists them for every call; CIAM020 (a KMS
/// key the table may use) is published only once a severity is set for
/// it, while CIAM019 (a role the call passes) is on by default.
#[tokio::test]
async fn dependent_actions_in_the_hover_and_may_also_need_on_request() {
    const PASS_ROLE_PY: &str = "import boto3\nlam = boto3.client('lambda')\n\ndef deploy():\n    lam.update_function_configuration(FunctionName='w', Role='arn:aws:iam::1:role/w')\n";
    let workspace = Workspace::new(&[("app.py", APP_PY), ("chalicelib/deploy.py", PASS_ROLE_PY), (".chalice/config.json", CONFIG_JSON)]);
    let (mut client, _) = TestClient::initialized(&workspace, json!({}), Value::Null).await;
    let app_uri = workspace.uri("app.py");
    client.open(&app_uri, "python", 1, APP_PY).await;
    let published = client.diagnostics(&app_uri, |p| p["version"] == 1).await;
    let codes: Vec<&Value> = published["diagnostics"].as_array().unwrap().iter().map(|d| &d["code"]).collect();
    assert_eq!(codes, [&json!("CIAM001")], "{published}");
    let hover = client
        .request("textDocument/hover", json!({ "textDocument": { "uri": app_uri }, "position": { "line": 10, "character": 37 } }))
        .await;
    let text = hover["contents"]["value"].as_str().unwrap();
    assert!(text.contains("| `kms:Decrypt` | `Scan` if the table is encrypted with a customer managed KMS key | not granted |"), "{text}");

    let deploy_uri = workspace.uri("chalicelib/deploy.py");
    client.open(&deploy_uri, "python", 1, PASS_ROLE_PY).await;
    let published = client.diagnostics(&deploy_uri, |p| p["version"] == 1).await;
    let hint = published["diagnostics"].as_array().unwrap().iter().find(|d| d["code"] == "CIAM019").cloned();
    let hint = hint.unwrap_or_else(|| panic!("no CIAM019 in {published}"));
    assert_eq!(hint["severity"], 3);
    assert_eq!(hint["message"], "lambda:UpdateFunctionConfiguration also needs iam:PassRole on the execution role it passes to Lambda (Role)");
    assert!(hint.get("data").is_none(), "{hint}");

    let settings = json!({ "settings": { "chalice-iam": { "severity": { "may-also-need": "information" } } } });
    client.notify("workspace/didChangeConfiguration", settings).await;
    let published = client.diagnostics(&app_uri, |p| p["diagnostics"].as_array().is_some_and(|d| d.len() == 2)).await;
    let kms = &published["diagnostics"][1];
    assert_eq!((&kms["code"], &kms["severity"]), (&json!("CIAM020"), &json!(3)), "{published}");
    assert_eq!(kms["message"], "dynamodb:Scan may also need kms:Decrypt if the table is encrypted with a customer managed KMS key");
    assert!(client.shutdown_and_exit().await);
}

#[tokio::test]
async fn workspace_folders_added_and_removed() {
    let first = thread_project();
    let second = thread_project();
    let (mut client, _) = TestClient::initialized(&first, vscode_capabilities(), Value::Null).await;
    client.diagnostics(&first.uri("app.py"), |p| p["diagnostics"] != json!([])).await;
    let folder = json!({ "uri": uri_of(&second.root), "name": "second" });
    client
        .notify("workspace/didChangeWorkspaceFolders", json!({ "event": { "added": [folder], "removed": [] } }))
        .await;
    client.diagnostics(&second.uri("app.py"), |p| p["diagnostics"] != json!([])).await;
    client
        .notify("workspace/didChangeWorkspaceFolders", json!({ "event": { "added": [], "removed": [folder] } }))
        .await;
    client.diagnostics(&second.uri("app.py"), |p| p["diagnostics"] == json!([])).await;
    assert!(client.shutdown_and_exit().await);
}

/// A document opened outside every workspace folder still gets its
/// project loaded (single-file editing, or a client with no folders).
#[tokio::test]
async fn a_document_outside_the_workspace_loads_its_project() {
    let workspace = thread_project();
    let mut client = TestClient::start();
    client.request("initialize", json!({ "processId": null, "capabilities": {} })).await;
    client.notify("initialized", json!({})).await;
    let uri = workspace.uri("app.py");
    client.open(&uri, "python", 7, APP_PY).await;
    let published = client.diagnostics(&uri, |p| p["version"] == 7).await;
    assert_eq!(messages(&published).len(), 1);
    assert!(client.shutdown_and_exit().await);
}

/// Garbage and unknown methods do not stop the server.
#[tokio::test]
async fn bad_input_is_survived() {
    let workspace = thread_project();
    let (mut client, _) = TestClient::initialized(&workspace, neovim_capabilities(), Value::Null).await;
    let unknown = client.request_raw("chalice-iam/nope", json!({})).await;
    assert_eq!(unknown["error"]["code"], -32601);
    let bad_params = client.request_raw("textDocument/hover", json!({ "textDocument": 3 })).await;
    assert_eq!(bad_params["error"]["code"], -32602);
    // A change to a document that was never opened, and a Python file whose
    // text is not Python at all.
    client.change(&workspace.uri("app.py"), 5, json!([{ "text": "x" }])).await;
    client.wait_for_log("not open").await;
    let uri = workspace.uri("app.py");
    client.open(&uri, "python", 1, "\u{0}\u{feff}def (((\r\r\n😀").await;
    client.diagnostics(&uri, |p| p["version"] == 1).await;
    assert_eq!(policy_actions(&client.show_policy().await), Vec::<String>::new());
    assert!(client.shutdown_and_exit().await);
}

/// A frame whose body is not a JSON-RPC message (tower-lsp would stop
/// reading after answering it) is reported and skipped; junk between frames
/// too. The session goes on.
#[tokio::test]
async fn messages_that_are_not_json_rpc_do_not_end_the_session() {
    let workspace = thread_project();
    let (mut client, _) = TestClient::initialized(&workspace, neovim_capabilities(), Value::Null).await;
    client.send_raw(b"{}").await;
    client.send_raw(b"this is not JSON").await;
    client.send_raw(&[0xff, 0xfe, 0x00]).await;
    client.send_raw(br#"{"jsonrpc": "2.0", "id": {"an": "object"}, "method": "shutdown"}"#).await;
    client.writer.write_all(b"junk between frames\r\nContent-Length: x\r\n\r\n").await.unwrap();
    client.wait_for_log("ignored a message from the client: not a JSON-RPC message").await;
    client.wait_for_log("ignored a message from the client: invalid header").await;
    let uri = workspace.uri("app.py");
    client.open(&uri, "python", 1, APP_PY).await;
    let published = client.diagnostics(&uri, |p| p["version"] == 1).await;
    assert_eq!(messages(&published).len(), 1);
    assert!(client.shutdown_and_exit().await);
}

/// 1,000 changes sent as fast as the client can write them: every one is
/// applied (the last publish is for the last version, with the diagnostics
/// a fresh open of the final text gets), and the server answers a request
/// right after.
#[tokio::test]
async fn a_thousand_rapid_changes() {
    let workspace = thread_project();
    let (mut client, _) = TestClient::initialized(&workspace, neovim_capabilities(), Value::Null).await;
    let uri = workspace.uri("app.py");
    client.open(&uri, "python", 1, APP_PY).await;
    // Each change appends a line at the end; every tenth one calls boto3.
    let mut text = APP_PY.to_owned();
    for version in 2..=1001 {
        let line = text.lines().count() as u32;
        let added = if version % 10 == 0 { format!("boto3.client('sqs').get_queue_url(QueueName='q{version}')\n") } else { format!("x{version} = {version}\n") };
        text.push_str(&added);
        client.change(&uri, version, json!([{ "range": range(line, 0, line, 0), "text": added }])).await;
    }
    let started = std::time::Instant::now();
    let hover = client
        .request("textDocument/hover", json!({ "textDocument": { "uri": uri }, "position": { "line": 10, "character": 40 } }))
        .await;
    assert!(hover["contents"]["value"].as_str().unwrap().contains("dynamodb"), "{hover}");
    assert!(started.elapsed() < TIMEOUT);
    let last = client.diagnostics(&uri, |p| p["version"] == 1001).await;

    // The same text opened in a new server.
    let (mut fresh, _) = TestClient::initialized(&workspace, neovim_capabilities(), Value::Null).await;
    fresh.open(&uri, "python", 1001, &text).await;
    let expected = fresh.diagnostics(&uri, |p| p["version"] == 1001).await;
    assert_eq!(last, expected);
    assert!(fresh.shutdown_and_exit().await);
    assert!(client.shutdown_and_exit().await);
}

/// Documents that are not Python at all, or nested 10,000 deep: diagnostics
/// still come, and requests on them are answered.
#[tokio::test]
async fn binary_and_deeply_nested_documents() {
    let workspace = thread_project();
    let (mut client, _) = TestClient::initialized(&workspace, neovim_capabilities(), Value::Null).await;
    let uri = workspace.uri("app.py");
    let deep = format!("{APP_PY}\nx = {}boto3.client('s3').list_buckets(){}\n", "(".repeat(10_000), ")".repeat(10_000));
    client.open(&uri, "python", 1, &deep).await;
    let published = client.diagnostics(&uri, |p| p["version"] == 1).await;
    assert!(messages(&published).iter().any(|m| m.contains("cannot be imported")), "{published}");
    let hover = client
        .request_raw("textDocument/hover", json!({ "textDocument": { "uri": uri }, "position": { "line": 12, "character": 9_000 } }))
        .await;
    assert!(hover.get("error").is_none(), "{hover}");
    let lenses = client.request_raw("textDocument/codeLens", json!({ "textDocument": { "uri": uri } })).await;
    assert!(lenses.get("error").is_none(), "{lenses}");

    let lib = workspace.uri("chalicelib/blob.py");
    let binary: String = (0..20_000u32).map(|i| char::from_u32(i % 0x3000).unwrap_or('\u{0}')).collect();
    client.open(&lib, "python", 1, &binary).await;
    let published = client.diagnostics(&lib, |p| p["version"] == 1).await;
    assert!(messages(&published).iter().any(|m| m.contains("binary content")), "{published}");
    assert!(client.shutdown_and_exit().await);
}

/// A workspace with symbolic link loops and a FIFO: the server's own
/// watcher and the project load end, and the FIFO is reported.
#[tokio::test]
async fn a_workspace_with_link_loops_and_a_fifo() {
    let workspace = thread_project();
    workspace.write("chalicelib/__init__.py", "");
    std::os::unix::fs::symlink(".", workspace.path("chalicelib/loop")).unwrap();
    std::os::unix::fs::symlink("..", workspace.path("chalicelib/up")).unwrap();
    std::os::unix::fs::symlink("a.py", workspace.path("chalicelib/b.py")).unwrap();
    std::os::unix::fs::symlink("b.py", workspace.path("chalicelib/a.py")).unwrap();
    let fifo = std::ffi::CString::new(workspace.path("chalicelib/pipe.py").as_os_str().as_encoded_bytes()).unwrap();
    assert_eq!(unsafe { libc::mkfifo(fifo.as_ptr(), 0o644) }, 0);
    // Neovim's capabilities: the server watches the files itself.
    let (mut client, _) = TestClient::initialized(&workspace, neovim_capabilities(), Value::Null).await;
    let pipe = client.diagnostics(&workspace.uri("chalicelib/pipe.py"), |p| p["diagnostics"] != json!([])).await;
    assert!(messages(&pipe)[0].contains("not a regular file"), "{pipe}");
    client.diagnostics(&workspace.uri("app.py"), |p| p["diagnostics"] != json!([])).await;
    assert!(client.shutdown_and_exit().await);
}
