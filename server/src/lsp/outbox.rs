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
#[derive(Debug, Clone, Serialize)]
pub struct FileDiagnostics {
    pub uri: Uri,
    pub diagnostics: Arc<Vec<Diagnostic>>,
    /// As `PublishDiagnosticsParams` writes it: left out when unknown.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub version: Option<i32>,
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
            let body = match message {
                Outgoing::Diagnostics(file) => notification("textDocument/publishDiagnostics", &file),
                Outgoing::Log { level, message } => notification("window/logMessage", &LogMessageParams { typ: level, message }),
            };
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
