//! The `LanguageServer` implementation: each method hands its parameters to
//! the module of the same name.
//!
//! tower-lsp runs up to four handlers concurrently, so every handler does
//! its work synchronously under the session lock, before any `.await`:
//! a `didChange` is fully applied before a later request can look at the
//! document. Diagnostics are computed by a task of their own (see
//! `Session::publish_stale`), so that a burst of changes costs one
//! computation. Notifications to the client go through the ordered
//! [`Outbox`]; requests *to* the client (registration, configuration) are
//! spawned, never awaited inside a notification handler, since their replies
//! are read by the same loop that is running the handler.

use std::panic::AssertUnwindSafe;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, PoisonError};

use serde_json::Value;
use tower_lsp_server::jsonrpc::{self, Result};
use tower_lsp_server::ls_types::*;
use tower_lsp_server::{Client, LanguageServer};

use super::outbox::{self, Outbox, OutboxQueue};
use super::transport::ToClient;
use super::session::{self, Session};
use super::watcher::FileWatcher;
use super::{
    code_action, code_lens, did_change, did_change_configuration, did_change_watched_files,
    did_change_workspace_folders, did_close, did_open, execute_command, hover, initialize, initialized,
};

/// The chalice-iam language server, for [`tower_lsp_server::LspService::new`].
pub struct ChaliceIamServer {
    handle: Handle,
    /// Taken by `initialized`, which starts the task that sends it.
    outbox_queue: Mutex<Option<OutboxQueue>>,
    /// Where that task sends it.
    to_client: ToClient,
    shutdown_requested: ShutdownFlag,
}

/// Whether the client sent `shutdown` before `exit` (LSP: exit code 0 then,
/// 1 otherwise).
#[derive(Debug, Clone, Default)]
pub struct ShutdownFlag(Arc<AtomicBool>);

impl ShutdownFlag {
    pub fn is_set(&self) -> bool {
        self.0.load(Ordering::SeqCst)
    }

    fn set(&self) {
        self.0.store(true, Ordering::SeqCst);
    }
}

/// What handlers and the tasks they spawn share.
#[derive(Clone)]
pub(super) struct Handle {
    pub client: Client,
    pub session: Arc<Mutex<Session>>,
    pub outbox: Outbox,
    /// Our own file watcher, for clients that do not watch files for us.
    pub watcher: Arc<Mutex<Option<FileWatcher>>>,
    /// Set while provisional versions are being compared with fresh parses.
    checking_provisional: Arc<AtomicBool>,
}

impl Handle {
    /// Runs `work` on the session under its lock. A panic in `work` is
    /// logged and turned into `None`: one bad input must not take the server
    /// down. (A lock poisoned by such a panic is taken over as it is.)
    pub fn with_session<T>(&self, what: &str, work: impl FnOnce(&mut Session) -> T) -> Option<T> {
        self.catching(what, || {
            let mut session = self.session.lock().unwrap_or_else(PoisonError::into_inner);
            work(&mut session)
        })
    }

    /// Runs `work`, turning a panic into a logged internal error and `None`.
    pub fn catching<T>(&self, what: &str, work: impl FnOnce() -> T) -> Option<T> {
        match std::panic::catch_unwind(AssertUnwindSafe(work)) {
            Ok(value) => Some(value),
            Err(payload) => {
                let message = payload
                    .downcast_ref::<&str>()
                    .map(|s| s.to_string())
                    .or_else(|| payload.downcast_ref::<String>().cloned())
                    .unwrap_or_else(|| "unknown panic".to_owned());
                self.outbox.error(format!("internal error in {what}: {message}"));
                None
            }
        }
    }

    /// [`Self::with_session`] for requests: a panic becomes an internal error
    /// response.
    pub fn request<T>(&self, method: &str, work: impl FnOnce(&mut Session) -> Result<T>) -> Result<T> {
        self.with_session(method, work).unwrap_or_else(|| Err(jsonrpc::Error::internal_error()))
    }

    /// Finds and loads the Chalice projects under `folders` on a blocking
    /// thread, without holding the session lock, then adds them.
    pub fn spawn_project_load(&self, folders: Vec<PathBuf>) {
        let started = self.with_session("loading projects", |session| {
            session.project_load_started();
            session.engine_settings()
        });
        let Some(settings) = started else { return };
        let handle = self.clone();
        tokio::task::spawn_blocking(move || {
            // A panic while reading must still end the load as far as the
            // session knows (it keeps file events while a load runs).
            // Each project is handed over as soon as it is read, so that a
            // document waiting for it does not wait for the others too.
            let found = handle.catching("loading projects", || {
                session::load_projects(
                    &folders,
                    &settings,
                    &handle.outbox,
                    &mut |root| handle.with_session("loading projects", |session| session.claim_for_loading(root)).unwrap_or(true),
                    &mut |project| {
                        handle.with_session("loading projects", |session| session.add_loaded_project(project));
                    },
                )
            });
            handle.with_session("loading projects", |session| session.finish_load(&found.unwrap_or_default()));
        });
    }

    /// Computes stale diagnostics whenever some are due, on a blocking
    /// thread (it can take tens of milliseconds on a large project).
    fn spawn_diagnostics_task(&self) {
        let Some(due) = self.with_session("diagnostics", |session| session.diagnostics_due()) else { return };
        let handle = self.clone();
        tokio::spawn(async move {
            loop {
                due.notified().await;
                let computing = handle.clone();
                let computed = tokio::task::spawn_blocking(move || {
                    computing.with_session("computing diagnostics", |session| {
                        session.publish_stale();
                        (session.has_unverified(), session.documents.trees_to_settle())
                    })
                });
                // Only fails when the runtime is shutting down.
                let Ok(computed) = computed.await else { return };
                let (provisional, to_settle) = computed.unwrap_or_default();
                if provisional {
                    handle.check_provisional_versions();
                }
                if !to_settle.is_empty() {
                    handle.settle_trees(to_settle);
                }
                super::memory::release_freed_memory();
            }
        });
    }

    /// Settles the trees of newly opened documents (see
    /// [`crate::python::settle`]) on a blocking thread, once their first
    /// diagnostics are out; a document whose text changed meanwhile keeps
    /// its own tree.
    fn settle_trees(&self, trees: Vec<(tower_lsp_server::ls_types::Uri, String, tree_sitter::Tree)>) {
        let handle = self.clone();
        tokio::task::spawn_blocking(move || {
            for (uri, text, tree) in trees {
                let Some(settled) = handle.catching("settling a parse", || crate::python::settle(&text, &tree)) else { continue };
                handle.with_session("settling a parse", |session| {
                    if let Some(document) = session.documents.get_mut(&uri) {
                        document.settled(&text, settled);
                    }
                });
            }
        });
    }

    /// Compares the provisional versions of open documents (see
    /// `project::Unverified`) with fresh parses on a blocking thread, one
    /// check at a time: a check running when more versions come takes them
    /// on too. A fresh parse that reads a text differently makes its
    /// project's diagnostics due again.
    fn check_provisional_versions(&self) {
        if self.checking_provisional.swap(true, Ordering::SeqCst) {
            return;
        }
        let handle = self.clone();
        tokio::task::spawn_blocking(move || loop {
            let pending = handle.with_session("listing provisional versions", |session| session.unverified()).unwrap_or_default();
            if pending.is_empty() {
                handle.checking_provisional.store(false, Ordering::SeqCst);
                // A version made provisional between the listing and the
                // flag's clearing found the flag still set: look once more.
                let more = handle.with_session("listing provisional versions", |session| session.has_unverified());
                if more == Some(true) && !handle.checking_provisional.swap(true, Ordering::SeqCst) {
                    continue;
                }
                return;
            }
            for (root, checked) in pending {
                let fresh = match handle.catching("parsing a provisional version afresh", || checked.fresh_parse_if_different()) {
                    Some(Ok(fresh)) => fresh,
                    // A newer text took its place; the listing goes on to it.
                    Some(Err(crate::project::Replaced)) => continue,
                    None => None,
                };
                if handle.with_session("settling a provisional version", |session| session.settle(&root, &checked, fresh)).is_none() {
                    // A panic was logged; do not retry the same version forever.
                    handle.checking_provisional.store(false, Ordering::SeqCst);
                    return;
                }
            }
        });
    }

    pub fn lock_watcher(&self) -> std::sync::MutexGuard<'_, Option<FileWatcher>> {
        self.watcher.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

impl ChaliceIamServer {
    pub fn new(client: Client, to_client: ToClient) -> Self {
        let (outbox, queue) = Outbox::new();
        ChaliceIamServer {
            handle: Handle {
                client,
                session: Arc::new(Mutex::new(Session::new(outbox.clone()))),
                outbox,
                watcher: Arc::new(Mutex::new(None)),
                checking_provisional: Arc::default(),
            },
            outbox_queue: Mutex::new(Some(queue)),
            to_client,
            shutdown_requested: ShutdownFlag::default(),
        }
    }

    /// Read it after the server has stopped to choose the exit code.
    pub fn shutdown_flag(&self) -> ShutdownFlag {
        self.shutdown_requested.clone()
    }

    /// Where messages for the client's log go.
    pub(super) fn outbox(&self) -> Outbox {
        self.handle.outbox.clone()
    }
}

impl LanguageServer for ChaliceIamServer {
    async fn initialize(&self, params: InitializeParams) -> Result<InitializeResult> {
        self.handle.request("initialize", |session| Ok(initialize::handle(session, params)))
    }

    async fn initialized(&self, _: InitializedParams) {
        // tower-lsp drops notifications sent before the `initialize` response
        // is out, so what `initialize` logged waits in the queue until now.
        if let Some(queue) = self.outbox_queue.lock().unwrap_or_else(PoisonError::into_inner).take() {
            tokio::spawn(outbox::run(queue, self.to_client.clone()));
            self.handle.spawn_diagnostics_task();
        }
        initialized::handle(&self.handle);
    }

    async fn shutdown(&self) -> Result<()> {
        self.shutdown_requested.set();
        // Stop watching now; `exit` may never come if the client dies.
        self.handle.lock_watcher().take();
        Ok(())
    }

    async fn did_open(&self, params: DidOpenTextDocumentParams) {
        self.handle.with_session("textDocument/didOpen", |session| did_open::handle(session, params));
    }

    async fn did_change(&self, params: DidChangeTextDocumentParams) {
        self.handle.with_session("textDocument/didChange", |session| did_change::handle(session, params));
    }

    async fn did_close(&self, params: DidCloseTextDocumentParams) {
        self.handle.with_session("textDocument/didClose", |session| did_close::handle(session, params));
    }

    async fn did_change_watched_files(&self, params: DidChangeWatchedFilesParams) {
        self.handle.with_session("workspace/didChangeWatchedFiles", |session| {
            did_change_watched_files::handle(session, params)
        });
    }

    async fn did_change_configuration(&self, params: DidChangeConfigurationParams) {
        did_change_configuration::handle(&self.handle, params);
    }

    async fn did_change_workspace_folders(&self, params: DidChangeWorkspaceFoldersParams) {
        did_change_workspace_folders::handle(&self.handle, params);
    }

    async fn code_action(&self, params: CodeActionParams) -> Result<Option<CodeActionResponse>> {
        self.handle.request("textDocument/codeAction", |session| Ok(code_action::handle(session, params)))
    }

    async fn hover(&self, params: HoverParams) -> Result<Option<Hover>> {
        self.handle.request("textDocument/hover", |session| Ok(hover::handle(session, params)))
    }

    async fn code_lens(&self, params: CodeLensParams) -> Result<Option<Vec<CodeLens>>> {
        self.handle.request("textDocument/codeLens", |session| Ok(Some(code_lens::handle(session, params))))
    }

    async fn execute_command(&self, params: ExecuteCommandParams) -> Result<Option<Value>> {
        self.handle.request("workspace/executeCommand", |session| execute_command::handle(session, params))
    }
}

#[cfg(test)]
mod tests {
    use tower_lsp_server::jsonrpc::ErrorCode;
    use tower_lsp_server::LspService;

    use super::*;
    use crate::lsp::outbox::Outgoing;

    #[tokio::test]
    async fn a_panic_in_a_handler_is_logged_and_the_server_carries_on() {
        let (service, _socket) = LspService::new(|client| ChaliceIamServer::new(client, ToClient::nowhere()));
        let server = service.inner();
        let handle = &server.handle;

        assert_eq!(handle.with_session("textDocument/didChange", |_| -> () { panic!("boom") }), None);
        // The lock the panic poisoned is taken over.
        assert_eq!(handle.with_session("next", |session| session.folders().len()), Some(0));
        let response = handle.request("textDocument/hover", |_| -> Result<()> { panic!("bang") });
        assert_eq!(response.unwrap_err().code, ErrorCode::InternalError);

        let mut queue = server.outbox_queue.lock().unwrap().take().unwrap();
        let mut logged = Vec::new();
        while let Ok(Outgoing::Log { message, .. }) = queue.try_recv() {
            logged.push(message);
        }
        assert_eq!(
            logged,
            ["internal error in textDocument/didChange: boom", "internal error in textDocument/hover: bang"]
        );
    }
}
