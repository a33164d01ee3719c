//! `workspace/didChangeWatchedFiles`, from clients that watch files for us.
//! Our own watcher (`watcher.rs`) feeds the same `Session::files_changed`.

use tower_lsp_server::ls_types::{DidChangeWatchedFilesParams, FileChangeType};

use super::document::file_path;
use super::session::Session;
use super::watcher::{FileEvent, FileEventKind};

pub(super) fn handle(session: &mut Session, params: DidChangeWatchedFilesParams) {
    let events: Vec<FileEvent> = params
        .changes
        .iter()
        .filter_map(|change| {
            let kind = match change.typ {
                FileChangeType::CREATED => FileEventKind::Created,
                FileChangeType::DELETED => FileEventKind::Deleted,
                _ => FileEventKind::Changed,
            };
            Some(FileEvent { path: file_path(&change.uri)?, kind })
        })
        .collect();
    session.files_changed(&events);
}
