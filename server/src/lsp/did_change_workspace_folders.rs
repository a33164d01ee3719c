//! `workspace/didChangeWorkspaceFolders`: load the projects of added folders,
//! forget those of removed ones.

use tower_lsp_server::ls_types::DidChangeWorkspaceFoldersParams;

use super::document::file_path;
use super::server::Handle;

pub(super) fn handle(handle: &Handle, params: DidChangeWorkspaceFoldersParams) {
    let removed: Vec<_> = params.event.removed.iter().filter_map(|f| file_path(&f.uri)).collect();
    let added: Vec<_> = params.event.added.iter().filter_map(|f| file_path(&f.uri)).collect();
    handle.with_session("workspace/didChangeWorkspaceFolders", |session| {
        for folder in &removed {
            session.remove_folder(folder);
        }
        let mut folders = session.folders().to_vec();
        folders.extend(added.iter().filter(|f| !session.folders().contains(f)).cloned());
        session.set_folders(folders);
    });
    if let Some(watcher) = handle.lock_watcher().as_ref() {
        for folder in &removed {
            watcher.remove_folder(folder);
        }
        for folder in &added {
            if let Err(error) = watcher.add_folder(folder, &|message| handle.outbox.warn(message)) {
                handle.outbox.warn(format!("cannot watch {}: {error}", folder.display()));
            }
        }
    }
    handle.spawn_project_load(added);
}
