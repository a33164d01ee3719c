//! Notifications from the server to the client (diagnostics and log
//! messages), sent in the order they were produced.
//!
//! Handlers compute under the session lock and only *queue* here, which is
//! synchronous, so the queue order is the order of the state changes. One
//! task sends the queue in order. tower-lsp runs up to four handlers at once,
//! so awaiting `publish_diagnostics` inside handlers could put an older
//! result on the wire after a newer one; the single queue cannot. When the
//! client is slower than the edits, the task also drops a project's queued
//! diagnostics that a newer batch for the same project supersedes.

use std::path::PathBuf;

use tokio::sync::mpsc;
use tower_lsp_server::ls_types::{MessageType, PublishDiagnosticsParams};
use tower_lsp_server::Client;

#[derive(Debug)]
pub enum Outgoing {
    /// Every file of one project, including the ones to clear.
    Diagnostics {
        project: PathBuf,
        files: Vec<PublishDiagnosticsParams>,
    },
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

    pub fn publish(&self, project: PathBuf, files: Vec<PublishDiagnosticsParams>) {
        // Fails only once the sending task is gone, i.e. after `exit`.
        let _ = self.queue.send(Outgoing::Diagnostics { project, files });
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
pub async fn run(mut queue: OutboxQueue, client: Client) {
    let mut pending = Vec::new();
    while queue.recv_many(&mut pending, usize::MAX).await > 0 {
        for message in drop_superseded(std::mem::take(&mut pending)) {
            match message {
                Outgoing::Diagnostics { files, .. } => {
                    for file in files {
                        client.publish_diagnostics(file.uri, file.diagnostics, file.version).await;
                    }
                }
                Outgoing::Log { level, message } => client.log_message(level, message).await,
            }
        }
    }
}

/// Keeps only the last diagnostics batch of each project; logs all stay.
fn drop_superseded(messages: Vec<Outgoing>) -> Vec<Outgoing> {
    let mut seen = std::collections::HashSet::new();
    let mut kept: Vec<Outgoing> = messages
        .into_iter()
        .rev()
        .filter(|m| match m {
            Outgoing::Diagnostics { project, .. } => seen.insert(project.clone()),
            Outgoing::Log { .. } => true,
        })
        .collect();
    kept.reverse();
    kept
}

#[cfg(test)]
mod tests {
    use std::str::FromStr;

    use tower_lsp_server::ls_types::Uri;

    use super::*;

    fn batch(project: &str, version: i32) -> Outgoing {
        let file = PublishDiagnosticsParams {
            uri: Uri::from_str("file:///p/app.py").unwrap(),
            diagnostics: vec![],
            version: Some(version),
        };
        Outgoing::Diagnostics { project: PathBuf::from(project), files: vec![file] }
    }

    fn describe(messages: &[Outgoing]) -> Vec<String> {
        messages
            .iter()
            .map(|m| match m {
                Outgoing::Diagnostics { project, files } => {
                    format!("{} v{}", project.display(), files[0].version.unwrap())
                }
                Outgoing::Log { message, .. } => message.clone(),
            })
            .collect()
    }

    #[test]
    fn older_batches_of_a_project_are_dropped() {
        let log = Outgoing::Log { level: MessageType::INFO, message: "log".into() };
        let kept = drop_superseded(vec![batch("/a", 1), batch("/b", 1), log, batch("/a", 2), batch("/a", 3)]);
        assert_eq!(describe(&kept), ["/b v1", "log", "/a v3"]);
    }
}
