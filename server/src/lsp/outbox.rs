//! Notifications from the server to the client (diagnostics and log
//! messages), sent in the order they were produced.
//!
//! Handlers compute under the session lock and only *queue* here, which is
//! synchronous, so the queue order is the order of the state changes. One
//! task sends the queue in order. tower-lsp runs up to four handlers at once,
//! so awaiting `publish_diagnostics` inside handlers could put an older
//! result on the wire after a newer one; the single queue cannot. When the
//! client reads slower than the user types, queued diagnostics for a file
//! that a newer entry for the same file supersedes are dropped unsent.
//!
//! The task serializes each message itself, straight to JSON text, and
//! hands it to the writer it shares with tower-lsp ([`ToClient`]).

use std::sync::Arc;

use serde::Serialize;
use tokio::sync::mpsc;
use tower_lsp_server::ls_types::{Diagnostic, LogMessageParams, MessageType, Uri};

use super::transport::ToClient;

/// One file's diagnostics (an empty list clears them), shared with the
/// session's record of what it last published rather than copied.
#[derive(Debug, Clone)]
pub struct FileDiagnostics {
    pub uri: Uri,
    pub diagnostics: Arc<DiagnosticList>,
    /// As `PublishDiagnosticsParams` writes it: left out when unknown.
    pub version: Option<i32>,
}

/// Diagnostics with the JSON text of each. A keystroke publishes the whole
/// list of the file again, nearly all of it as it was: each diagnostic
/// equal to one of the file's last list keeps that one's text instead of
/// being serialized again (see [`DiagnosticList::new`]), and is shared with
/// the last list rather than copied.
#[derive(Debug, Default)]
pub struct DiagnosticList {
    diagnostics: Vec<Arc<Diagnostic>>,
    json: Vec<Arc<str>>,
}

impl DiagnosticList {
    /// `diagnostics`, each with its text in `texts` when the caller knows
    /// it (one entry per diagnostic), else with the text of an equal one of
    /// `before` when there is one. Both lists are in the order the engine
    /// sorts a file's diagnostics, by range then code, which converting
    /// ranges to positions keeps: one walk through both finds the equal
    /// ones. (A list in another order only finds fewer.)
    pub fn new(diagnostics: Vec<Arc<Diagnostic>>, texts: Vec<Option<Arc<str>>>, before: Option<&DiagnosticList>) -> DiagnosticList {
        assert_eq!(diagnostics.len(), texts.len(), "one text, or none, per diagnostic");
        let before = before.map_or((&[][..], &[][..]), |b| (&b.diagnostics[..], &b.json[..]));
        let mut next = 0;
        let json = diagnostics
            .iter()
            .zip(texts)
            .map(|(d, known)| {
                if let Some(text) = known {
                    return text;
                }
                let place = order(d);
                while next < before.0.len() && order(&before.0[next]) < place {
                    next += 1;
                }
                let equal = before.0[next..].iter().take_while(|b| order(b) == place).position(|b| b == d);
                match equal {
                    Some(i) => before.1[next + i].clone(),
                    // Plain data always serializes.
                    None => serde_json::to_string(d).expect("a diagnostic serializes").into(),
                }
            })
            .collect();
        DiagnosticList { diagnostics, json }
    }

    /// The JSON text of diagnostic `i`.
    pub fn text(&self, i: usize) -> &Arc<str> {
        &self.json[i]
    }
}

/// Where a diagnostic sorts in a file's list: by range, then code.
pub(super) fn order(d: &Diagnostic) -> (u32, u32, u32, u32, Option<&str>) {
    let code = match &d.code {
        Some(tower_lsp_server::ls_types::NumberOrString::String(s)) => Some(s.as_str()),
        _ => None,
    };
    (d.range.start.line, d.range.start.character, d.range.end.line, d.range.end.character, code)
}

impl std::ops::Deref for DiagnosticList {
    type Target = [Arc<Diagnostic>];

    fn deref(&self) -> &[Arc<Diagnostic>] {
        &self.diagnostics
    }
}

#[derive(Debug)]
pub enum Outgoing {
    Diagnostics(FileDiagnostics),
    Log {
        level: MessageType,
        message: String,
    },
}

#[derive(Debug, Clone)]
pub struct Outbox {
    queue: mpsc::UnboundedSender<Outgoing>,
}

pub type OutboxQueue = mpsc::UnboundedReceiver<Outgoing>;

impl Outbox {
    pub fn new() -> (Outbox, OutboxQueue) {
        let (queue, receiver) = mpsc::unbounded_channel();
        (Outbox { queue }, receiver)
    }

    pub fn publish(&self, diagnostics: FileDiagnostics) {
        // Fails only once the sending task is gone, i.e. after `exit`.
        let _ = self.queue.send(Outgoing::Diagnostics(diagnostics));
    }

    /// Logs to stderr (stdout is the protocol channel) and to the client's
    /// `window/logMessage`.
    pub fn log(&self, level: MessageType, message: impl Into<String>) {
        let message = message.into();
        let label = match level {
            MessageType::ERROR => "error",
            MessageType::WARNING => "warning",
            MessageType::INFO => "info",
            _ => "log",
        };
        eprintln!("chalice-iam {label}: {message}");
        let _ = self.queue.send(Outgoing::Log { level, message });
    }

    pub fn info(&self, message: impl Into<String>) {
        self.log(MessageType::INFO, message);
    }

    pub fn warn(&self, message: impl Into<String>) {
        self.log(MessageType::WARNING, message);
    }

    pub fn error(&self, message: impl Into<String>) {
        self.log(MessageType::ERROR, message);
    }
}

/// Sends everything queued, in order, until every [`Outbox`] is dropped.
pub async fn run(mut queue: OutboxQueue, client: ToClient) {
    let mut pending = Vec::new();
    while queue.recv_many(&mut pending, usize::MAX).await > 0 {
        for message in drop_superseded(std::mem::take(&mut pending)) {
            // A frame is made and dropped at once, like a keystroke's work
            // (see `process::KeystrokeWork`), whatever it carries.
            let keystroke = crate::process::KeystrokeWork::start();
            let body = match message {
                Outgoing::Diagnostics(file) => publish_diagnostics(&file),
                Outgoing::Log { level, message } => notification("window/logMessage", &LogMessageParams { typ: level, message }),
            };
            drop(keystroke);
            client.send(body).await;
        }
    }
}

/// A JSON-RPC notification's body.
fn notification(method: &str, params: &impl Serialize) -> Vec<u8> {
    #[derive(Serialize)]
    struct Notification<'a, P> {
        jsonrpc: &'static str,
        method: &'a str,
        params: &'a P,
    }
    // Serializing plain data into memory cannot fail: no map has keys that
    // are not strings, and no value refuses to serialize.
    serde_json::to_vec(&Notification { jsonrpc: "2.0", method, params }).expect("a notification serializes")
}

/// A `textDocument/publishDiagnostics` notification's body, as
/// [`notification`] would write it, from each diagnostic's text.
fn publish_diagnostics(file: &FileDiagnostics) -> Vec<u8> {
    let uri = serde_json::to_string(&file.uri).expect("a URI serializes");
    let texts = &file.diagnostics.json;
    let mut body = Vec::with_capacity(128 + uri.len() + texts.iter().map(|t| t.len() + 1).sum::<usize>());
    body.extend_from_slice(br#"{"jsonrpc":"2.0","method":"textDocument/publishDiagnostics","params":{"uri":"#);
    body.extend_from_slice(uri.as_bytes());
    body.extend_from_slice(br#","diagnostics":["#);
    for (i, text) in texts.iter().enumerate() {
        if i > 0 {
            body.push(b',');
        }
        body.extend_from_slice(text.as_bytes());
    }
    body.push(b']');
    if let Some(version) = file.version {
        body.extend_from_slice(format!(r#","version":{version}"#).as_bytes());
    }
    body.extend_from_slice(b"}}");
    body
}

/// Keeps only the last diagnostics of each file; logs all stay.
fn drop_superseded(messages: Vec<Outgoing>) -> Vec<Outgoing> {
    let mut seen = std::collections::HashSet::new();
    let mut kept: Vec<Outgoing> = messages
        .into_iter()
        .rev()
        .filter(|m| match m {
            Outgoing::Diagnostics(file) => seen.insert(file.uri.clone()),
            Outgoing::Log { .. } => true,
        })
        .collect();
    kept.reverse();
    kept
}

#[cfg(test)]
mod tests {
    use std::str::FromStr;

    use super::*;

    fn diagnostics(file: &str, version: i32) -> Outgoing {
        Outgoing::Diagnostics(FileDiagnostics {
            uri: Uri::from_str(&format!("file://{file}")).unwrap(),
            diagnostics: Arc::default(),
            version: Some(version),
        })
    }

    fn describe(messages: &[Outgoing]) -> Vec<String> {
        messages
            .iter()
            .map(|m| match m {
                Outgoing::Diagnostics(file) => format!("{} v{}", file.uri.as_str(), file.version.unwrap()),
                Outgoing::Log { message, .. } => message.clone(),
            })
            .collect()
    }

    fn diagnostic(line: u32, code: &str, message: &str, fix: Option<&str>) -> Diagnostic {
        use tower_lsp_server::ls_types::{DiagnosticSeverity, NumberOrString, Position, Range};
        Diagnostic {
            range: Range::new(Position::new(line, 4), Position::new(line, 9 + line % 3)),
            severity: Some(DiagnosticSeverity::WARNING),
            code: Some(NumberOrString::String(code.into())),
            source: Some("chalice-iam".into()),
            message: message.into(),
            data: fix.map(|f| serde_json::json!({ "fix": f })),
            ..Default::default()
        }
    }

    /// The body written from each diagnostic's kept or new text is the one
    /// serde writes for the whole notification, and a diagnostic equal to
    /// one of the last list keeps that one's text.
    #[test]
    fn published_lists_are_written_as_serde_writes_them_reusing_equal_texts() {
        let before: Vec<Diagnostic> = (0..40)
            .map(|i| diagnostic(i / 2, if i % 2 == 0 { "CIAM001" } else { "CIAM007" }, &format!("dynamodb:Scan \"{i}\" 日本語 \\"), (i % 3 == 0).then_some("abc")))
            .collect();
        let mut after = before.clone();
        after.remove(7);
        after[10].message.push_str(" changed");
        after.insert(20, diagnostic(9, "CIAM001", "new", None));
        after.swap(30, 31);
        after[36].data = Some(serde_json::json!({ "fix": "other" }));
        let uri = Uri::from_str("file:///p/app%20x.py").unwrap();
        let shared = |list: &[Diagnostic]| list.iter().cloned().map(Arc::new).collect();
        let last = DiagnosticList::new(shared(&before), vec![None; 40], None);
        let list = Arc::new(DiagnosticList::new(shared(&after), vec![None; after.len()], Some(&last)));
        for version in [Some(3), None] {
            let file = FileDiagnostics { uri: uri.clone(), diagnostics: list.clone(), version };
            let params = tower_lsp_server::ls_types::PublishDiagnosticsParams { uri: uri.clone(), diagnostics: after.clone(), version };
            let ours: serde_json::Value = serde_json::from_slice(&publish_diagnostics(&file)).unwrap();
            let serde: serde_json::Value = serde_json::from_slice(&notification("textDocument/publishDiagnostics", &params)).unwrap();
            assert_eq!(ours, serde);
            if version.is_some() {
                assert_eq!(publish_diagnostics(&file), notification("textDocument/publishDiagnostics", &params), "byte for byte");
            }
        }
        let kept = list.json.iter().filter(|text| last.json.iter().any(|old| Arc::ptr_eq(old, text))).count();
        // Of 40 diagnostics, one removed, one inserted and two changed; the
        // swapped pair sorts out of order, so one of it is written again.
        assert_eq!(kept, 40 - 1 - 2 - 1, "texts kept");
    }

    #[test]
    fn older_diagnostics_of_a_file_are_dropped() {
        let log = Outgoing::Log { level: MessageType::INFO, message: "log".into() };
        let queued = vec![
            diagnostics("/a.py", 1),
            diagnostics("/b.py", 1),
            log,
            diagnostics("/a.py", 2),
            diagnostics("/a.py", 3),
        ];
        assert_eq!(describe(&drop_superseded(queued)), ["file:///b.py v1", "log", "file:///a.py v3"]);
    }
}
