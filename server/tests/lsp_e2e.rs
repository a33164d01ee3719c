//! End-to-end tests of `chalice-iam lsp`: the real server, in memory over
//! `tokio::io::duplex`, driven by a small JSON-RPC client.
//!
//! Snapshots show file URIs with the temporary workspace replaced by
//! `[root]`.

use std::collections::VecDeque;
use std::path::{Path, PathBuf};
use std::time::Duration;

use chalice_iam::lsp::{ChaliceIamServer, ShutdownFlag, SHOW_POLICY};
use serde_json::{json, Value};
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader, DuplexStream, ReadHalf, WriteHalf};
use tokio::task::JoinHandle;
use tower_lsp_server::{LspService, Server};

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
    server: JoinHandle<()>,
    shutdown_flag: ShutdownFlag,
    root: Option<PathBuf>,
}

impl TestClient {
    fn start() -> TestClient {
        let (client_side, server_side) = tokio::io::duplex(1 << 20);
        let (server_in, server_out) = tokio::io::split(server_side);
        let (service, socket) = LspService::new(ChaliceIamServer::new);
        let shutdown_flag = service.inner().shutdown_flag();
        let server = tokio::spawn(Server::new(server_in, server_out, socket).serve(service));
        let (reader, writer) = tokio::io::split(client_side);
        TestClient {
            writer,
            reader: BufReader::new(reader),
            next_id: 0,
            notifications: VecDeque::new(),
            server_requests: Vec::new(),
            behaviour: ClientBehaviour { configuration: Value::Null },
            server,
            shutdown_flag,
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
                    "workspaceFolders": [{ "uri": workspace.uri(""), "name": "ws" }],
                    "initializationOptions": options,
                }),
            )
            .await;
        client.notify("initialized", json!({})).await;
        (client, result)
    }

    async fn send(&mut self, message: Value) {
        let body = serde_json::to_string(&message).unwrap();
        let frame = format!("Content-Length: {}\r\n\r\n{body}", body.len());
        self.writer.write_all(frame.as_bytes()).await.unwrap();
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
        tokio::time::timeout(TIMEOUT, &mut self.server).await.expect("server stops after exit").unwrap();
        self.shutdown_flag.is_set()
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
    # テーブル内のデータを全件取得する 😀
    return dynamodb.Table('Thread').scan()['Items']
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

    // UTF-8 columns: replace `scan` on the last line (after 4 spaces,
    // "return dynamodb.Table('Thread')." is 32 bytes).
    client.change(&uri, 2, json!([{ "range": range(10, 36, 10, 40), "text": "query" }])).await;
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
