//! A protocol fuzzer: the real server over an in-memory duplex, sent random
//! message sequences built from the real message types, with well-formed,
//! odd (unknown documents, stale versions, positions far outside the text,
//! foreign URIs) and malformed (wrong types, missing fields, bodies that are
//! not JSON, garbage between frames) parameters, before `initialize`, between
//! `initialize` and `shutdown`, and after `shutdown`.
//!
//! After every sequence the server must have answered each request exactly
//! once, with a result or the error the protocol prescribes (never an
//! internal error), must answer a probe request, and — whenever it answers
//! `chalice-iam.showPolicy` — with the policy a fresh load of the project
//! with the client's open texts gives. Nothing may be logged as an internal
//! error (a caught panic is still a bug to fix).
//!
//! `CHALICE_IAM_FUZZ_SEQUENCES` sets the number of sequences (default 300;
//! `tests/robustness/run` runs 10,000 in release), `CHALICE_IAM_FUZZ_SEED`
//! the seed. A failure names the server session's seed;
//! `CHALICE_IAM_FUZZ_SESSION=<seed>` replays it.

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use serde_json::{json, Value};
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader, DuplexStream, ReadHalf, WriteHalf};
use tokio::sync::{mpsc, Mutex};

use super::edit_fuzz::{corpus, random_change, Case};
use super::execute_command::SHOW_POLICY;
use super::line_index::PositionEncoding;
use super::test_support::Rng;
use crate::project::{Project, Settings};

const TIMEOUT: Duration = Duration::from_secs(20);

/// An LSP client over the duplex. A reader task takes every message off the
/// wire as it comes (so the server never blocks writing), answers the
/// server's own requests, and forwards the rest.
struct Client {
    writer: Arc<Mutex<WriteHalf<DuplexStream>>>,
    incoming: mpsc::UnboundedReceiver<Value>,
    next_id: i64,
    /// Resolves to whether the server stopped after `shutdown`.
    server: tokio::task::JoinHandle<bool>,
    /// Every notification so far, for the checks at the end.
    notifications: Vec<Value>,
    /// Responses that arrived while waiting for another one.
    responses: HashMap<String, Vec<Value>>,
}

async fn write_frame(writer: &Mutex<WriteHalf<DuplexStream>>, body: &[u8]) {
    let mut w = writer.lock().await;
    let header = format!("Content-Length: {}\r\n\r\n", body.len());
    // The server may have gone (after `exit`); a failed write is seen later.
    let _ = w.write_all(header.as_bytes()).await;
    let _ = w.write_all(body).await;
    let _ = w.flush().await;
}

async fn read_message(reader: &mut BufReader<ReadHalf<DuplexStream>>) -> Option<Value> {
    let mut length = None;
    loop {
        let mut line = String::new();
        if reader.read_line(&mut line).await.ok()? == 0 {
            return None;
        }
        let line = line.trim_end();
        if line.is_empty() {
            break;
        }
        if let Some(value) = line.strip_prefix("Content-Length: ") {
            length = value.parse::<usize>().ok();
        }
    }
    let mut body = vec![0; length?];
    reader.read_exact(&mut body).await.ok()?;
    Some(serde_json::from_slice(&body).expect("the server sends JSON"))
}

impl Client {
    fn start(configuration: Value) -> Client {
        let (client_side, server_side) = tokio::io::duplex(1 << 16);
        let (server_in, server_out) = tokio::io::split(server_side);
        let server = tokio::spawn(super::serve(server_in, server_out));
        let (reader, writer) = tokio::io::split(client_side);
        let writer = Arc::new(Mutex::new(writer));
        let (forward, incoming) = mpsc::unbounded_channel();
        let answer = writer.clone();
        tokio::spawn(async move {
            let mut reader = BufReader::new(reader);
            while let Some(message) = read_message(&mut reader).await {
                if let (Some(id), Some(method)) = (message.get("id"), message.get("method").and_then(Value::as_str)) {
                    let result = match method {
                        "workspace/configuration" => {
                            let items = message["params"]["items"].as_array().map_or(0, Vec::len);
                            Value::Array(vec![configuration.clone(); items])
                        }
                        _ => Value::Null,
                    };
                    let reply = json!({ "jsonrpc": "2.0", "id": id, "result": result });
                    write_frame(&answer, reply.to_string().as_bytes()).await;
                }
                if forward.send(message).is_err() {
                    break;
                }
            }
        });
        Client {
            writer,
            incoming,
            next_id: 0,
            server,
            notifications: Vec::new(),
            responses: HashMap::new(),
        }
    }

    async fn send_raw(&self, body: &[u8]) {
        write_frame(&self.writer, body).await;
    }

    async fn send(&self, message: &Value) {
        self.send_raw(message.to_string().as_bytes()).await;
    }

    async fn notify(&self, method: &str, params: Value) {
        self.send(&json!({ "jsonrpc": "2.0", "method": method, "params": params })).await;
    }

    /// Sends a request and returns its id, without waiting.
    async fn request(&mut self, method: &str, params: Value) -> Value {
        self.next_id += 1;
        let id = json!(self.next_id);
        self.send(&json!({ "jsonrpc": "2.0", "id": id, "method": method, "params": params })).await;
        id
    }

    /// The response to `id`, failing after [`TIMEOUT`].
    async fn response(&mut self, id: &Value) -> Result<Value, String> {
        let key = id.to_string();
        let deadline = Instant::now() + TIMEOUT;
        loop {
            if let Some(found) = self.responses.get_mut(&key).and_then(|r| (!r.is_empty()).then(|| r.remove(0))) {
                return Ok(found);
            }
            let left = deadline.saturating_duration_since(Instant::now());
            match tokio::time::timeout(left, self.incoming.recv()).await {
                Err(_) => return Err(format!("no response to request {key} within {TIMEOUT:?}")),
                Ok(None) => return Err(format!("the connection closed before the response to {key}")),
                Ok(Some(message)) => self.file(message),
            }
        }
    }

    fn file(&mut self, message: Value) {
        if message.get("method").is_some() {
            self.notifications.push(message);
        } else {
            let key = message.get("id").map(Value::to_string).unwrap_or_default();
            self.responses.entry(key).or_default().push(message);
        }
    }

    /// Takes everything that has arrived so far.
    fn drain(&mut self) {
        while let Ok(message) = self.incoming.try_recv() {
            self.file(message);
        }
    }

    /// Internal errors the server logged (caught panics).
    fn internal_errors(&self) -> Vec<String> {
        self.notifications
            .iter()
            .filter(|n| n["method"] == "window/logMessage" && n["params"]["type"] == 1)
            .filter_map(|n| n["params"]["message"].as_str())
            .filter(|m| m.starts_with("internal error"))
            .map(str::to_owned)
            .collect()
    }
}

/// The protocol state the server must be in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Phase {
    Uninitialized,
    Running,
    ShutDown,
}

/// What the answer to a request may be.
#[derive(Debug, Clone)]
enum Expect {
    /// A result (any), or an error with one of these codes.
    ResultOr(&'static [i64]),
    /// An error with one of these codes.
    Error(&'static [i64]),
}

/// JSON-RPC and LSP error codes.
const NOT_INITIALIZED: i64 = -32002;
const INVALID_REQUEST: i64 = -32600;
const METHOD_NOT_FOUND: i64 = -32601;
const INVALID_PARAMS: i64 = -32602;
const CANCELLED: i64 = -32800;

/// One open document as the client has it.
struct Open {
    uri: String,
    path: Option<PathBuf>,
    text: String,
    version: i32,
    /// When it was last opened or changed: of two URIs for one file, the
    /// latest text is the file's.
    touched: u64,
}

struct Fuzz<'a> {
    rng: Rng,
    case: &'a Case,
    root: PathBuf,
    client: Client,
    phase: Phase,
    encoding: PositionEncoding,
    /// The client watches files for the server (no watcher of its own
    /// races with our writes to disk).
    client_watches: bool,
    open: Vec<Open>,
    clock: u64,
    /// Requests sent in this sequence and what their answer may be.
    pending: Vec<(Value, String, Expect)>,
    /// Request ids the client cancelled.
    cancelled: Vec<Value>,
    log: Vec<String>,
}

fn uri_of(path: &Path) -> String {
    super::convert::file_uri(path).map(|u| u.as_str().to_owned()).unwrap_or_default()
}

/// Values of every JSON type, for parameters of the wrong type.
fn junk(rng: &mut Rng) -> Value {
    rng.pick(&[
        json!(null),
        json!(true),
        json!(-1),
        json!(1e308),
        json!(u64::MAX),
        json!("text"),
        json!(""),
        json!([]),
        json!([1, "a", null]),
        json!({}),
        json!({ "uri": 3 }),
        json!("file:///"),
        json!("\u{0}\u{ffff}😀"),
    ])
    .clone()
}

impl<'a> Fuzz<'a> {
    /// A document URI: usually a file of the project, sometimes one outside
    /// it, a directory, a non-file scheme or a spelling with `..`.
    fn random_uri(&mut self) -> (String, Option<PathBuf>) {
        let files: Vec<&String> = self.case.files.iter().map(|(rel, _)| rel).collect();
        match self.rng.below(20) {
            0 => ("untitled:Untitled-1".into(), None),
            1 => (format!("file://{}/not-a-project/x.py", std::env::temp_dir().display()), None),
            2 => (uri_of(&self.root), None),
            3 => (format!("{}/chalicelib/new%20module.py", uri_of(&self.root)), Some(self.root.join("chalicelib/new module.py"))),
            4 => ("file:relative/app.py".into(), None),
            // Another spelling of app.py's URI.
            5 => (format!("{}/../{}/./app.py", uri_of(&self.root), self.root.file_name().unwrap().to_string_lossy()), Some(self.root.join("app.py"))),
            6 => ("vscode-notebook-cell:/x.ipynb#1".into(), None),
            _ => {
                let rel = (*self.rng.pick(&files)).clone();
                let path = self.root.join(&rel);
                (uri_of(&path), Some(path))
            }
        }
    }

    fn random_position(&mut self) -> Value {
        match self.rng.below(6) {
            0 => json!({ "line": u32::MAX, "character": u32::MAX }),
            1 => json!({ "line": self.rng.below(3), "character": self.rng.below(400) }),
            _ => json!({ "line": self.rng.below(60), "character": self.rng.below(80) }),
        }
    }

    fn random_range(&mut self) -> Value {
        let (a, b) = (self.random_position(), self.random_position());
        json!({ "start": a, "end": b })
    }

    /// A document the client has open, or any URI.
    fn some_document(&mut self) -> String {
        if !self.open.is_empty() && self.rng.chance(75) {
            let i = self.rng.below(self.open.len());
            self.open[i].uri.clone()
        } else {
            self.random_uri().0
        }
    }

    fn request_expectation(&self, method: &str, well_formed: bool) -> Expect {
        match self.phase {
            Phase::Uninitialized => Expect::Error(&[NOT_INITIALIZED]),
            Phase::ShutDown => Expect::Error(&[INVALID_REQUEST]),
            Phase::Running if !well_formed => Expect::Error(&[INVALID_PARAMS]),
            Phase::Running => match method {
                "workspace/executeCommand" => Expect::ResultOr(&[INVALID_PARAMS]),
                "initialize" => Expect::Error(&[INVALID_REQUEST]),
                _ => Expect::ResultOr(&[]),
            },
        }
    }

    async fn request(&mut self, method: &str, params: Value, well_formed: bool) {
        let expect = self.request_expectation(method, well_formed);
        let id = self.client.request(method, params.clone()).await;
        self.log.push(format!("request {id} {method} {params}"));
        self.pending.push((id, method.to_owned(), expect));
    }

    async fn notify(&mut self, method: &str, params: Value) {
        self.log.push(format!("notify {method} {params}"));
        self.client.notify(method, params).await;
    }

    /// One random message.
    async fn random_message(&mut self) {
        let running = self.phase == Phase::Running;
        match self.rng.below(100) {
            0..=9 => self.did_open().await,
            10..=39 => self.did_change().await,
            40..=44 => {
                let uri = self.some_document();
                if running {
                    self.open.retain(|d| d.uri != uri);
                }
                self.notify("textDocument/didClose", json!({ "textDocument": { "uri": uri } })).await;
            }
            45..=51 => {
                let (uri, position) = (self.some_document(), self.random_position());
                self.request("textDocument/hover", json!({ "textDocument": { "uri": uri }, "position": position }), true).await;
            }
            52..=56 => {
                let (uri, range) = (self.some_document(), self.random_range());
                let diagnostics = if self.rng.chance(50) {
                    json!([{ "range": range, "message": "m", "source": "chalice-iam", "data": junk(&mut self.rng) }])
                } else {
                    json!([])
                };
                let only = if self.rng.chance(30) { json!(["quickfix", "source"]) } else { Value::Null };
                let params = json!({ "textDocument": { "uri": uri }, "range": range, "context": { "diagnostics": diagnostics, "only": only } });
                self.request("textDocument/codeAction", params, true).await;
            }
            57..=60 => {
                let uri = self.some_document();
                self.request("textDocument/codeLens", json!({ "textDocument": { "uri": uri } }), true).await;
            }
            61..=65 => {
                let arguments = match self.rng.below(5) {
                    0 => json!([]),
                    1 => json!([uri_of(&self.root)]),
                    2 => json!([self.root.display().to_string()]),
                    3 => json!([junk(&mut self.rng)]),
                    _ => json!(["file:///nowhere"]),
                };
                let command = if self.rng.chance(80) { SHOW_POLICY } else { "chalice-iam.unknown" };
                self.request("workspace/executeCommand", json!({ "command": command, "arguments": arguments }), true).await;
            }
            66..=69 => {
                let settings = match self.rng.below(5) {
                    0 => json!({ "chalice-iam": { "stage": "prod", "severity": { "CIAM001": "hint" } } }),
                    1 => json!({ "chalice-iam": { "pythonVersion": "3.9" } }),
                    2 => json!({ "chalice-iam": { "stage": 5, "severity": "loud", "pythonVersion": [] } }),
                    3 => json!(null),
                    _ => json!({ "chalice-iam": { "severity": { "CIAM999": "error", "unused-action": "off" }, "stage": "ステージ" } }),
                };
                self.notify("workspace/didChangeConfiguration", json!({ "settings": settings })).await;
            }
            70..=73 => self.files_changed().await,
            74..=75 => {
                let folder = match self.rng.below(3) {
                    0 => json!({ "uri": uri_of(&self.root), "name": "root" }),
                    1 => json!({ "uri": uri_of(&self.root.join("chalicelib")), "name": "lib" }),
                    _ => json!({ "uri": "file:///no/such/folder", "name": "gone" }),
                };
                let event = if self.rng.chance(50) { json!({ "added": [folder], "removed": [] }) } else { json!({ "added": [], "removed": [folder] }) };
                self.notify("workspace/didChangeWorkspaceFolders", json!({ "event": event })).await;
            }
            76..=78 => {
                // Cancelling something in flight, something answered, or
                // nothing. Never an id a later request will have: tower-lsp
                // may act on a cancellation after it has read the requests
                // that follow it, so a cancellation sent early for a future
                // id can cancel that request, as it would in any server.
                let id = match self.pending.last() {
                    Some((id, _, _)) if self.rng.chance(60) => id.clone(),
                    _ if self.rng.chance(50) => json!(self.rng.below(self.client.next_id as usize + 1)),
                    _ => json!(format!("never-sent-{}", self.rng.below(1000))),
                };
                self.cancelled.push(id.clone());
                self.notify("$/cancelRequest", json!({ "id": id })).await;
            }
            79..=81 => {
                // Unknown methods, and one the server does not implement
                // (with valid parameters: tower-lsp checks them first).
                let method = *self.rng.pick(&["chalice-iam/nope", "textDocument/definition", "$/custom", "workspace/fooBar"]);
                let params = json!({ "textDocument": { "uri": "file:///x.py" }, "position": { "line": 0, "character": 0 } });
                let expect = match self.phase {
                    Phase::Uninitialized => Expect::Error(&[NOT_INITIALIZED, METHOD_NOT_FOUND]),
                    Phase::ShutDown => Expect::Error(&[INVALID_REQUEST, METHOD_NOT_FOUND]),
                    Phase::Running => Expect::Error(&[METHOD_NOT_FOUND]),
                };
                let id = self.client.request(method, params).await;
                self.log.push(format!("request {id} {method}"));
                self.pending.push((id, method.to_owned(), expect));
                let note = *self.rng.pick(&["$/setTrace", "$/progress", "chalice-iam/unknownNotification", "textDocument/didSave"]);
                self.notify(note, json!({ "value": "x", "textDocument": { "uri": "file:///x.py" } })).await;
            }
            82..=87 => self.malformed_params().await,
            88..=91 => self.malformed_message().await,
            92..=93 => {
                // A response to a request the server never sent.
                let reply = json!({ "jsonrpc": "2.0", "id": self.rng.below(50), "result": junk(&mut self.rng) });
                self.log.push(format!("stray response {reply}"));
                self.client.send(&reply).await;
            }
            // A second `initialize` (the first one is sent by `initialize`).
            94..=95 if self.phase != Phase::Uninitialized => {
                let params = json!({ "processId": null, "capabilities": {} });
                self.request("initialize", params, true).await;
            }
            _ => {
                // A burst of changes to one document.
                for _ in 0..10 {
                    self.did_change().await;
                }
            }
        }
    }

    async fn did_open(&mut self) {
        let (uri, path) = self.random_uri();
        let text = match self.rng.below(6) {
            0 => String::new(),
            1 => "\u{0}\u{feff}def (((\r\r\n😀".to_owned(),
            2 => "(".repeat(2_000),
            _ => {
                let (_, text) = self.rng.pick(&self.case.files);
                text.clone()
            }
        };
        let version = *self.rng.pick(&[0, 1, 7, -5, i32::MAX - 3]);
        let language = *self.rng.pick(&["python", "json", "plaintext", ""]);
        if self.phase == Phase::Running {
            self.open.retain(|d| d.uri != uri);
            self.clock += 1;
            self.open.push(Open { uri: uri.clone(), path, text: text.clone(), version, touched: self.clock });
        }
        let params = json!({ "textDocument": { "uri": uri, "languageId": language, "version": version, "text": text } });
        self.notify("textDocument/didOpen", params).await;
    }

    async fn did_change(&mut self) {
        if self.open.is_empty() || self.rng.chance(5) {
            // Usually a document that is not open; if it is, the change
            // counts like any other.
            let uri = self.random_uri().0;
            if let Some(d) = self.open.iter_mut().find(|d| d.uri == uri && d.version < 3).filter(|_| self.phase == Phase::Running) {
                self.clock += 1;
                (d.text, d.version, d.touched) = ("x".into(), 3, self.clock);
            }
            let params = json!({ "textDocument": { "uri": uri, "version": 3 }, "contentChanges": [{ "text": "x" }] });
            return self.notify("textDocument/didChange", params).await;
        }
        let i = self.rng.below(self.open.len());
        let encoding = self.encoding;
        let snippets = ["x", "\n", "\r\n", "😀", "(", "boto3.client('s3').list_buckets()\n", "'''"];
        let pastes = ["s3 = boto3.resource('s3')".to_owned(), "@app.route('/')".to_owned()];
        let mut text = self.open[i].text.clone();
        let mut changes = Vec::new();
        for _ in 0..1 + self.rng.below(3) {
            let (change, after) = random_change(&mut self.rng, &text, encoding, &snippets, &pastes);
            changes.push(serde_json::to_value(change).unwrap());
            text = after;
        }
        let current = self.open[i].version;
        let version = match self.rng.below(10) {
            0 => current,
            1 => current.saturating_sub(1),
            _ => current.saturating_add(1 + self.rng.below(3) as i32),
        };
        if self.phase == Phase::Running && version > current {
            self.clock += 1;
            self.open[i].text = text;
            self.open[i].version = version;
            self.open[i].touched = self.clock;
        }
        let params = json!({ "textDocument": { "uri": self.open[i].uri, "version": version }, "contentChanges": changes });
        self.notify("textDocument/didChange", params).await;
    }

    /// Files on disk change and the client says so.
    async fn files_changed(&mut self) {
        let mut changes = Vec::new();
        if self.client_watches && self.rng.chance(50) {
            let (rel, text) = self.rng.pick(&self.case.files).clone();
            let path = self.root.join(&rel);
            let new_text = if self.rng.chance(50) { format!("{text}\n# edited\n") } else { String::new() };
            let _ = std::fs::write(&path, new_text);
            changes.push(json!({ "uri": uri_of(&path), "type": 2 }));
        }
        let (uri, _) = self.random_uri();
        changes.push(json!({ "uri": uri, "type": 1 + self.rng.below(3) }));
        self.notify("workspace/didChangeWatchedFiles", json!({ "changes": changes })).await;
    }

    /// A known method with parameters that do not deserialize.
    async fn malformed_params(&mut self) {
        let j = junk(&mut self.rng);
        let (method, params) = match self.rng.below(6) {
            0 => ("textDocument/hover", json!({ "textDocument": j, "position": { "line": 0 } })),
            1 => ("textDocument/codeAction", json!({ "textDocument": { "uri": "file:///x.py" }, "range": j })),
            2 => ("textDocument/codeLens", j),
            3 => ("workspace/executeCommand", json!({ "command": j })),
            4 => ("textDocument/hover", json!({ "textDocument": { "uri": "not a uri at all" }, "position": { "line": -1, "character": 0 } })),
            _ => ("textDocument/codeLens", json!({})),
        };
        // Some junk happens to be a valid value (a `null` parameter list,
        // say); only a request that cannot deserialize must be refused.
        let well_formed = serde_json::from_value::<tower_lsp_server::ls_types::HoverParams>(params.clone()).is_ok() && method == "textDocument/hover"
            || serde_json::from_value::<tower_lsp_server::ls_types::CodeLensParams>(params.clone()).is_ok() && method == "textDocument/codeLens"
            || serde_json::from_value::<tower_lsp_server::ls_types::ExecuteCommandParams>(params.clone()).is_ok() && method == "workspace/executeCommand"
            || serde_json::from_value::<tower_lsp_server::ls_types::CodeActionParams>(params.clone()).is_ok() && method == "textDocument/codeAction";
        self.request(method, params, well_formed).await;
        // The same for notifications, which get no answer at all.
        let j = junk(&mut self.rng);
        let (method, params) = match self.rng.below(5) {
            0 => ("textDocument/didOpen", json!({ "textDocument": { "uri": j, "version": 1 } })),
            1 => ("textDocument/didChange", json!({ "textDocument": { "uri": "file:///x.py", "version": j }, "contentChanges": [] })),
            2 => ("textDocument/didClose", j),
            3 => ("workspace/didChangeWatchedFiles", json!({ "changes": [{ "uri": "file:///x.py", "type": j }] })),
            _ => ("workspace/didChangeWorkspaceFolders", json!({ "event": j })),
        };
        self.notify(method, params).await;
    }

    /// Bodies that are not JSON-RPC, and junk between frames.
    async fn malformed_message(&mut self) {
        let body: Vec<u8> = match self.rng.below(7) {
            0 => b"{\"jsonrpc\": \"2.0\", \"method\": ".to_vec(),
            1 => b"[1, 2, 3]".to_vec(),
            2 => b"\"just a string\"".to_vec(),
            3 => vec![0xff, 0xfe, 0x00, 0x80],
            4 => b"{\"jsonrpc\": \"2.0\", \"id\": {\"nested\": true}, \"method\": \"textDocument/hover\"}".to_vec(),
            5 => b"{}".to_vec(),
            _ => {
                // Junk before the next frame's header: the reader skips to it.
                self.log.push("junk between frames".into());
                let mut w = self.client.writer.lock().await;
                let _ = w.write_all(b"garbage\r\nContent-Type: x\r\n\r\n").await;
                return;
            }
        };
        self.log.push(format!("malformed body {:?}", String::from_utf8_lossy(&body)));
        self.client.send_raw(&body).await;
    }

    /// Waits for the answer to every request sent, and checks each.
    async fn settle(&mut self) -> Result<(), String> {
        for (id, method, expect) in std::mem::take(&mut self.pending) {
            let response = self.client.response(&id).await?;
            let code = response.get("error").map(|e| e["code"].as_i64().unwrap_or(0));
            let cancelled = self.cancelled.contains(&id) && code == Some(CANCELLED);
            let ok = cancelled
                || match (&expect, code) {
                    (Expect::ResultOr(_), None) => response.get("result").is_some(),
                    (Expect::ResultOr(codes) | Expect::Error(codes), Some(code)) => codes.contains(&code),
                    (Expect::Error(_), None) => false,
                };
            if !ok {
                return Err(format!("{method} (id {id}) in phase {:?}: expected {expect:?}, got {response}", self.phase));
            }
        }
        self.cancelled.clear();
        Ok(())
    }

    /// What `showPolicy` must answer: the needed policy of a fresh load of
    /// the project with the client's open Python texts.
    fn expected_policy(&self) -> String {
        let mut project = Project::load(&self.root, Settings::default()).expect("the project loads");
        let mut latest: BTreeMap<&PathBuf, &Open> = BTreeMap::new();
        for d in &self.open {
            if let Some(path) = &d.path {
                if latest.get(path).is_none_or(|other| other.touched < d.touched) {
                    latest.insert(path, d);
                }
            }
        }
        for (path, d) in latest {
            if project.sources.rel_path(path).is_some() {
                project.set_overlay(path, Arc::from(d.text.as_str()), None);
            }
        }
        project.policy_json()
    }

    /// The server answers, and answers right.
    async fn probe(&mut self) -> Result<(), String> {
        let id = self.client.request("workspace/executeCommand", json!({ "command": SHOW_POLICY, "arguments": [uri_of(&self.root)] })).await;
        let response = self.client.response(&id).await?;
        match (self.phase, response.get("result"), response["error"]["code"].as_i64()) {
            (Phase::Running, Some(Value::String(policy)), _) => {
                let expected = self.expected_policy();
                if *policy != expected {
                    return Err(format!("showPolicy answered\n{policy}\nbut the open texts need\n{expected}"));
                }
            }
            // Not loaded (a removed folder, a load still running): a clean refusal.
            (Phase::Running, _, Some(INVALID_PARAMS)) => {}
            (Phase::Uninitialized, _, Some(NOT_INITIALIZED)) | (Phase::ShutDown, _, Some(INVALID_REQUEST)) => {}
            _ => return Err(format!("probe in phase {:?}: {response}", self.phase)),
        }
        self.client.drain();
        let errors = self.client.internal_errors();
        if !errors.is_empty() {
            return Err(format!("internal errors logged: {errors:?}"));
        }
        Ok(())
    }

    async fn initialize(&mut self) -> Result<(), String> {
        let encodings = if self.encoding == PositionEncoding::Utf8 { json!(["utf-8", "utf-16"]) } else { json!(["utf-16"]) };
        let mut capabilities = json!({ "general": { "positionEncodings": encodings } });
        if self.client_watches {
            capabilities["workspace"] = json!({ "didChangeWatchedFiles": { "dynamicRegistration": true }, "configuration": true });
        }
        let options = match self.rng.below(4) {
            0 => json!({ "severity": { "CIAM001": "error" } }),
            1 => json!("not an object"),
            2 => json!({ "pythonVersion": "2.7", "stage": "" }),
            _ => Value::Null,
        };
        let folders = if self.rng.chance(80) { json!([{ "uri": uri_of(&self.root), "name": "ws" }]) } else { Value::Null };
        let params = json!({ "processId": null, "capabilities": capabilities, "workspaceFolders": folders, "initializationOptions": options });
        self.log.push(format!("initialize {params}"));
        let id = self.client.request("initialize", params).await;
        let response = self.client.response(&id).await?;
        if response.get("result").is_none() {
            return Err(format!("initialize failed: {response}"));
        }
        self.phase = Phase::Running;
        self.notify("initialized", json!({})).await;
        Ok(())
    }
}

/// One server session: start, maybe talk before `initialize`, initialize,
/// run `sequences` sequences, maybe send more after `shutdown`, exit.
async fn session(cases: &[Case], seed: u64, sequences: usize) -> Result<usize, String> {
    let mut rng = Rng::new(seed);
    let case = rng.pick(cases);
    let dir = tempfile::tempdir().map_err(|e| e.to_string())?;
    let root = dir.path().canonicalize().map_err(|e| e.to_string())?;
    for (rel, text) in &case.files {
        let path = root.join(rel);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(&path, text).unwrap();
    }
    let client_watches = rng.chance(70);
    let encoding = if rng.chance(50) { PositionEncoding::Utf8 } else { PositionEncoding::Utf16 };
    let configuration = if rng.chance(50) { Value::Null } else { json!({ "severity": { "CIAM009": "off" } }) };
    let mut fuzz = Fuzz {
        rng,
        case,
        root,
        client: Client::start(configuration),
        phase: Phase::Uninitialized,
        encoding,
        client_watches,
        open: Vec::new(),
        clock: 0,
        pending: Vec::new(),
        cancelled: Vec::new(),
        log: Vec::new(),
    };
    let result = async {
        let mut done = 0;
        if fuzz.rng.chance(30) {
            for _ in 0..1 + fuzz.rng.below(5) {
                fuzz.random_message().await;
            }
            fuzz.settle().await?;
            fuzz.probe().await?;
            done += 1;
        }
        fuzz.initialize().await?;
        let shutdown_at = if fuzz.rng.chance(30) { fuzz.rng.below(sequences.max(1)) } else { sequences };
        while done < sequences {
            if done == shutdown_at && fuzz.phase == Phase::Running {
                let id = fuzz.client.request("shutdown", Value::Null).await;
                let response = fuzz.client.response(&id).await?;
                if response.get("result") != Some(&Value::Null) {
                    return Err(format!("shutdown: {response}"));
                }
                fuzz.phase = Phase::ShutDown;
                fuzz.open.clear();
            }
            for _ in 0..1 + fuzz.rng.below(20) {
                fuzz.random_message().await;
            }
            fuzz.settle().await?;
            fuzz.probe().await?;
            done += 1;
        }
        if fuzz.phase == Phase::Running {
            let id = fuzz.client.request("shutdown", Value::Null).await;
            fuzz.client.response(&id).await?;
        }
        fuzz.client.notify("exit", Value::Null).await;
        let clean = tokio::time::timeout(TIMEOUT, &mut fuzz.client.server)
            .await
            .map_err(|_| "the server did not exit".to_owned())?
            .map_err(|e| format!("the server task failed: {e}"))?;
        if !clean {
            return Err("exit after shutdown must be a clean exit".into());
        }
        Ok(done)
    }
    .await;
    result.map_err(|e| {
        let tail: Vec<&String> = fuzz.log.iter().rev().take(30).collect::<Vec<_>>().into_iter().rev().collect();
        format!("{e}\ncase {}, last messages:\n{}", case.name, tail.iter().map(|l| format!("  {}", l.chars().take(300).collect::<String>())).collect::<Vec<_>>().join("\n"))
    })
}

fn env_number(name: &str, default: u64) -> u64 {
    std::env::var(name).map_or(default, |v| v.replace('_', "").parse().unwrap_or_else(|_| panic!("{name}={v:?} is not a number")))
}

/// Sequences per server session: long enough for state to build up, short
/// enough that many sessions (and their starts and ends) are covered.
const PER_SESSION: usize = 25;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn random_message_sequences_keep_the_server_correct() {
    let cases = corpus();
    if let Ok(seed) = std::env::var("CHALICE_IAM_FUZZ_SESSION") {
        let seed = seed.parse().expect("CHALICE_IAM_FUZZ_SESSION is a session seed");
        session(&cases, seed, PER_SESSION).await.unwrap_or_else(|e| panic!("session {seed}: {e}"));
        return;
    }
    let total = env_number("CHALICE_IAM_FUZZ_SEQUENCES", 300) as usize;
    let seed = env_number("CHALICE_IAM_FUZZ_SEED", 1);
    let started = Instant::now();
    let (mut sequences, mut sessions) = (0, 0u64);
    let mut failures = BTreeMap::new();
    // Two sessions at a time: one waits on the server while the other runs.
    while sequences < total && failures.is_empty() {
        let seeds = [seed.wrapping_mul(7_919).wrapping_add(sessions), seed.wrapping_mul(7_919).wrapping_add(sessions + 1)];
        sessions += 2;
        let (a, b) = tokio::join!(session(&cases, seeds[0], PER_SESSION), session(&cases, seeds[1], PER_SESSION));
        for (s, r) in seeds.into_iter().zip([a, b]) {
            match r {
                Ok(n) => sequences += n,
                Err(e) => {
                    failures.insert(s, e);
                }
            }
        }
    }
    println!(
        "protocol fuzz: {sequences} sequences in {sessions} server sessions, seed {seed}, {:.1}s",
        started.elapsed().as_secs_f64()
    );
    let report: Vec<String> =
        failures.into_iter().map(|(s, e)| format!("session {s} failed (replay with CHALICE_IAM_FUZZ_SESSION={s}): {e}")).collect();
    assert!(report.is_empty(), "{}", report.join("\n\n"));
}

/// Waits for a `window/logMessage` containing `needle`.
async fn wait_for_log(client: &mut Client, needle: &str) -> Result<(), String> {
    let deadline = Instant::now() + TIMEOUT;
    loop {
        client.drain();
        if client.notifications.iter().any(|n| n["method"] == "window/logMessage" && n["params"]["message"].as_str().is_some_and(|m| m.contains(needle))) {
            return Ok(());
        }
        if Instant::now() > deadline {
            return Err(format!("no log containing {needle:?}"));
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

/// Waits for diagnostics published for `uri` at `version`.
async fn wait_for_publish(client: &mut Client, uri: &str, version: i64) -> Result<Value, String> {
    let deadline = Instant::now() + TIMEOUT;
    loop {
        client.drain();
        let found = client.notifications.iter().find(|n| {
            n["method"] == "textDocument/publishDiagnostics" && n["params"]["uri"] == uri && n["params"]["version"] == version
        });
        if let Some(found) = found {
            return Ok(found["params"].clone());
        }
        if Instant::now() > deadline {
            return Err(format!("no diagnostics for {uri} version {version}"));
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

/// Waits for diagnostics published for the closed file `uri`.
async fn wait_for_publish_unversioned(client: &mut Client, uri: &str) -> Result<Value, String> {
    let deadline = Instant::now() + TIMEOUT;
    loop {
        client.drain();
        let found = client.notifications.iter().find(|n| n["method"] == "textDocument/publishDiagnostics" && n["params"]["uri"] == uri);
        if let Some(found) = found {
            return Ok(found["params"].clone());
        }
        if Instant::now() > deadline {
            return Err(format!("no diagnostics for {uri}"));
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

/// A panic in a request handler, a notification handler, the diagnostics
/// task or a background project load is caught and logged as an internal error (the request is answered
/// with one), and the server goes on serving.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_panic_anywhere_is_logged_and_the_server_goes_on() {
    let cases = corpus();
    let case = cases.iter().find(|c| c.name == "examples/thread-resource").expect("the example");
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().canonicalize().unwrap();
    for (rel, text) in &case.files {
        std::fs::create_dir_all(root.join(rel).parent().unwrap()).unwrap();
        std::fs::write(root.join(rel), text).unwrap();
    }
    let mut client = Client::start(Value::Null);
    let params = json!({ "processId": null, "capabilities": {}, "workspaceFolders": [{ "uri": uri_of(&root), "name": "ws" }] });
    let id = client.request("initialize", params).await;
    client.response(&id).await.unwrap();
    client.notify("initialized", json!({})).await;
    let uri = uri_of(&root.join("app.py"));
    let app = std::fs::read_to_string(root.join("app.py")).unwrap();
    let open = |language: &str, version: i32, text: &str| json!({ "textDocument": { "uri": uri, "languageId": language, "version": version, "text": text } });

    // A request handler.
    let id = client.request("workspace/executeCommand", json!({ "command": super::execute_command::TEST_PANIC })).await;
    let response = client.response(&id).await.unwrap();
    assert_eq!(response["error"]["code"], -32603, "{response}");
    wait_for_log(&mut client, "internal error in workspace/executeCommand: test panic in a request handler").await.unwrap();

    // A notification handler.
    client.notify("textDocument/didOpen", open(super::did_open::TEST_PANIC_LANGUAGE, 1, &app)).await;
    wait_for_log(&mut client, "internal error in textDocument/didOpen: test panic in a notification handler").await.unwrap();

    // The diagnostics task, which then computes the next change's.
    let poisoned = format!("{app}\n{}\n", super::session::Session::TEST_PANIC_TEXT);
    client.notify("textDocument/didOpen", open("python", 2, &poisoned)).await;
    wait_for_log(&mut client, "internal error in computing diagnostics: test panic while computing diagnostics").await.unwrap();
    let change = json!({ "textDocument": { "uri": uri, "version": 3 }, "contentChanges": [{ "text": app }] });
    client.notify("textDocument/didChange", change).await;
    let published = wait_for_publish(&mut client, &uri, 3).await.unwrap();
    assert!(published["diagnostics"][0]["message"].as_str().unwrap().contains("dynamodb:Scan"), "{published}");

    // Loading the projects of a new folder, which then load as usual.
    let folder = json!({ "uri": uri_of(&root.join(super::session::TEST_PANIC_FOLDER)), "name": "p" });
    client.notify("workspace/didChangeWorkspaceFolders", json!({ "event": { "added": [folder], "removed": [] } })).await;
    wait_for_log(&mut client, "internal error in loading projects: test panic while loading projects").await.unwrap();
    let other = tempfile::tempdir().unwrap();
    let other_root = other.path().canonicalize().unwrap();
    std::fs::write(other_root.join("app.py"), "import boto3\nboto3.client('sqs').list_queues()\n").unwrap();
    let folder = json!({ "uri": uri_of(&other_root), "name": "other" });
    client.notify("workspace/didChangeWorkspaceFolders", json!({ "event": { "added": [folder], "removed": [] } })).await;
    wait_for_publish_unversioned(&mut client, &uri_of(&other_root.join("app.py"))).await.unwrap();

    // And requests are answered as before.
    let id = client.request("workspace/executeCommand", json!({ "command": SHOW_POLICY, "arguments": [uri_of(&root)] })).await;
    let response = client.response(&id).await.unwrap();
    assert!(response["result"].as_str().unwrap().contains("dynamodb:Scan"), "{response}");
    let id = client.request("shutdown", Value::Null).await;
    client.response(&id).await.unwrap();
    client.notify("exit", Value::Null).await;
    assert!(tokio::time::timeout(TIMEOUT, client.server).await.unwrap().unwrap());
}
