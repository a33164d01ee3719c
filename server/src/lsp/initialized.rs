//! `initialized`: start following files on disk, fetch the settings, and
//! load the projects under the workspace folders. Everything that waits for
//! the client is spawned (see `server.rs`).

use serde_json::json;
use tower_lsp_server::ls_types::{
    DidChangeWatchedFilesRegistrationOptions, FileSystemWatcher, GlobPattern, Registration,
};

use super::did_change_configuration::spawn_configuration_pull;
use super::server::Handle;
use super::watcher::{self, FileWatcher};

pub(super) fn handle(handle: &Handle) {
    let Some((support, folders)) = handle.with_session("initialized", |s| (s.support, s.folders().to_vec())) else {
        return;
    };
    handle.outbox.info(format!(
        "chalice-iam {} started; workspace folders: {}",
        env!("CARGO_PKG_VERSION"),
        if folders.is_empty() {
            "none".to_owned()
        } else {
            folders.iter().map(|f| f.display().to_string()).collect::<Vec<_>>().join(", ")
        }
    ));

    if support.watched_files_registration {
        let handle = handle.clone();
        tokio::spawn(async move {
            if let Err(error) = handle.client.register_capability(vec![watched_files_registration()]).await {
                handle.outbox.warn(format!("client refused to watch files ({error}); watching them ourselves"));
                start_own_watcher(&handle);
            }
        });
    } else {
        start_own_watcher(handle);
    }

    if support.configuration_registration {
        let handle = handle.clone();
        tokio::spawn(async move {
            let registration = Registration {
                id: "chalice-iam/didChangeConfiguration".to_owned(),
                method: "workspace/didChangeConfiguration".to_owned(),
                register_options: None,
            };
            if let Err(error) = handle.client.register_capability(vec![registration]).await {
                handle.outbox.warn(format!("cannot register for configuration changes: {error}"));
            }
        });
    }
    if support.configuration_pull {
        spawn_configuration_pull(handle);
    }

    handle.spawn_project_load(folders);
}

fn watched_files_registration() -> Registration {
    let options = DidChangeWatchedFilesRegistrationOptions {
        watchers: watcher::GLOB_PATTERNS
            .iter()
            .map(|glob| FileSystemWatcher { glob_pattern: GlobPattern::String((*glob).to_owned()), kind: None })
            .collect(),
    };
    Registration {
        id: "chalice-iam/didChangeWatchedFiles".to_owned(),
        method: "workspace/didChangeWatchedFiles".to_owned(),
        register_options: Some(json!(options)),
    }
}

/// Watches the workspace folders with `notify` and feeds the events to the
/// same code as the client's `didChangeWatchedFiles`.
pub(super) fn start_own_watcher(handle: &Handle) {
    let Some(folders) = handle.with_session("file watcher", |s| s.folders().to_vec()) else { return };
    let events_handle = handle.clone();
    let errors = handle.outbox.clone();
    let started = FileWatcher::start(
        &folders,
        move |events| {
            events_handle.with_session("file watcher", |session| session.files_changed(&events));
        },
        move |message| errors.warn(message),
    );
    match started {
        Ok(watcher) => *handle.lock_watcher() = Some(watcher),
        Err(error) => handle.outbox.warn(format!("cannot watch the workspace folders: {error}")),
    }
}
