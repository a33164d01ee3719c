//! Which files the server follows on disk (`**/*.py`, `**/.chalice/*.json`),
//! and a `notify` watcher for clients that cannot register
//! `workspace/didChangeWatchedFiles` dynamically (Neovim on Linux, for one).
//! The watcher produces the same [`FileEvent`]s as that notification, so one
//! handler serves both.
//!
//! Directories are watched one by one rather than recursively so that
//! `.git`, `node_modules` and virtualenvs, which can hold tens of thousands
//! of directories, never use up the inotify watch limit.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use notify::event::{EventKind, ModifyKind, RenameMode};
use notify::{RecommendedWatcher, RecursiveMode, Watcher};
use tokio::sync::mpsc;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum FileEventKind {
    Created,
    Changed,
    /// The path is gone. It may have been a directory, in which case every
    /// followed file under it is gone too.
    Deleted,
}

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct FileEvent {
    pub path: PathBuf,
    pub kind: FileEventKind,
}

/// The glob patterns registered with clients that watch for us.
pub const GLOB_PATTERNS: [&str; 2] = ["**/*.py", "**/.chalice/*.json"];

/// Whether the server follows this file: the same files as [`GLOB_PATTERNS`].
pub fn is_followed_file(path: &Path) -> bool {
    match path.extension().and_then(|e| e.to_str()) {
        Some("py") => true,
        Some("json") => path.parent().and_then(|p| p.file_name()).is_some_and(|name| name == ".chalice"),
        _ => false,
    }
}

/// Directories that never hold project sources: version control, caches,
/// `node_modules` and Python virtualenvs (by these names or, for any other
/// name, by their `pyvenv.cfg`).
const SKIPPED_DIR_NAMES: &[&str] = &[
    ".git",
    ".hg",
    ".svn",
    "node_modules",
    "__pycache__",
    ".venv",
    "venv",
    ".tox",
    ".nox",
    ".mypy_cache",
    ".pytest_cache",
    ".ruff_cache",
];

fn has_skipped_name(path: &Path) -> bool {
    path.file_name().and_then(|n| n.to_str()).is_some_and(|name| SKIPPED_DIR_NAMES.contains(&name))
}

pub fn is_skipped_dir(dir: &Path) -> bool {
    has_skipped_name(dir) || dir.join("pyvenv.cfg").is_file()
}

/// Every directory under `root` (itself included) that is not skipped,
/// without following symlinks (which could loop).
fn walk_dirs(root: &Path, found: &mut Vec<PathBuf>) {
    if is_skipped_dir(root) {
        return;
    }
    found.push(root.to_path_buf());
    let Ok(entries) = std::fs::read_dir(root) else { return };
    for entry in entries.flatten() {
        if entry.file_type().is_ok_and(|t| t.is_dir()) {
            walk_dirs(&entry.path(), found);
        }
    }
}

/// Watches the workspace folders until dropped.
pub struct FileWatcher {
    watcher: Arc<Mutex<RecommendedWatcher>>,
    consumer: tokio::task::JoinHandle<()>,
}

/// How long to keep collecting after the first event: one save produces
/// several events (truncate, write, close, sometimes a rename).
const SETTLE: Duration = Duration::from_millis(50);

impl FileWatcher {
    /// Starts watching `folders`; `on_events` receives batches of events for
    /// followed files. Must be called inside a tokio runtime.
    pub fn start(
        folders: &[PathBuf],
        on_events: impl Fn(Vec<FileEvent>) + Send + 'static,
        on_error: impl Fn(String) + Send + Sync + 'static,
    ) -> notify::Result<FileWatcher> {
        let on_error = Arc::new(on_error);
        let consumer_on_error = on_error.clone();
        let (sender, mut receiver) = mpsc::unbounded_channel();
        let watcher = notify::recommended_watcher(move |event| {
            let _ = sender.send(event);
        })?;
        let watcher = Arc::new(Mutex::new(watcher));
        let this_watcher = watcher.clone();
        let consumer = tokio::spawn(async move {
            let mut raw = Vec::new();
            while receiver.recv_many(&mut raw, usize::MAX).await > 0 {
                tokio::time::sleep(SETTLE).await;
                while let Ok(more) = receiver.try_recv() {
                    raw.push(more);
                }
                let mut events = Vec::new();
                for event in raw.drain(..) {
                    match event {
                        Ok(event) => translate(event, &mut events, &mut |dir| {
                            watch_tree(&this_watcher, dir, &*consumer_on_error)
                        }),
                        Err(error) => consumer_on_error(format!("file watcher: {error}")),
                    }
                }
                let events = coalesce(events);
                if !events.is_empty() {
                    on_events(events);
                }
            }
        });
        let file_watcher = FileWatcher { watcher, consumer };
        for folder in folders {
            file_watcher.add_folder(folder, &*on_error)?;
        }
        Ok(file_watcher)
    }

    pub fn add_folder(&self, folder: &Path, on_error: &dyn Fn(String)) -> notify::Result<()> {
        let mut dirs = Vec::new();
        walk_dirs(folder, &mut dirs);
        let mut watcher = self.watcher.lock().unwrap_or_else(PoisonError::into_inner);
        for dir in dirs {
            if let Err(error) = watcher.watch(&dir, RecursiveMode::NonRecursive) {
                // Typically the inotify watch limit; the rest still works.
                on_error(format!("cannot watch {}: {error}", dir.display()));
                if dir == folder {
                    return Err(error);
                }
            }
        }
        Ok(())
    }

    pub fn remove_folder(&self, folder: &Path) {
        let mut dirs = Vec::new();
        walk_dirs(folder, &mut dirs);
        let mut watcher = self.watcher.lock().unwrap_or_else(PoisonError::into_inner);
        for dir in dirs {
            let _ = watcher.unwatch(&dir);
        }
    }
}

impl Drop for FileWatcher {
    fn drop(&mut self) {
        self.consumer.abort();
    }
}

/// Watches a directory that just appeared and returns the followed files
/// already in it: they may have been written before the watch was in place
/// (`mkdir chalicelib && cp db.py chalicelib/`).
fn watch_tree(watcher: &Mutex<RecommendedWatcher>, dir: &Path, on_error: &dyn Fn(String)) -> Vec<PathBuf> {
    let mut dirs = Vec::new();
    walk_dirs(dir, &mut dirs);
    let mut files = Vec::new();
    let mut watcher = watcher.lock().unwrap_or_else(PoisonError::into_inner);
    for dir in dirs {
        if let Err(error) = watcher.watch(&dir, RecursiveMode::NonRecursive) {
            on_error(format!("cannot watch {}: {error}", dir.display()));
        }
        let Ok(entries) = std::fs::read_dir(&dir) else { continue };
        files.extend(entries.flatten().map(|e| e.path()).filter(|p| is_followed_file(p) && p.is_file()));
    }
    files
}

/// Turns one `notify` event into followed-file events. `new_dir` is called
/// for directories that appeared and returns the files found in them.
fn translate(event: notify::Event, out: &mut Vec<FileEvent>, new_dir: &mut dyn FnMut(&Path) -> Vec<PathBuf>) {
    let mut appeared = |path: &Path, out: &mut Vec<FileEvent>| {
        if path.is_dir() {
            for file in new_dir(path) {
                out.push(FileEvent { path: file, kind: FileEventKind::Created });
            }
        } else if is_followed_file(path) {
            out.push(FileEvent { path: path.to_path_buf(), kind: FileEventKind::Created });
        }
    };
    let gone = |path: &Path, out: &mut Vec<FileEvent>| {
        // A vanished path has no file type left to look at: anything that is
        // not a followed file may have been a directory of followed files.
        // (Nothing inside skipped directories is watched, so only their own
        // names need checking.)
        if !has_skipped_name(path) {
            out.push(FileEvent { path: path.to_path_buf(), kind: FileEventKind::Deleted });
        }
    };
    match event.kind {
        EventKind::Create(_) | EventKind::Modify(ModifyKind::Name(RenameMode::To)) => {
            event.paths.iter().for_each(|p| appeared(p, out))
        }
        EventKind::Remove(_) | EventKind::Modify(ModifyKind::Name(RenameMode::From)) => {
            event.paths.iter().for_each(|p| gone(p, out))
        }
        EventKind::Modify(ModifyKind::Name(RenameMode::Both)) => {
            if let [from, to] = event.paths.as_slice() {
                gone(from, out);
                appeared(to, out);
            }
        }
        // Renames the backend could not pair up: look at what is there now.
        EventKind::Modify(ModifyKind::Name(_)) => {
            for path in &event.paths {
                if path.exists() {
                    appeared(path, out);
                } else {
                    gone(path, out);
                }
            }
        }
        // chmod and atime changes do not change what a file says; reads
        // (including inotify's close-after-write) are not changes either.
        EventKind::Modify(ModifyKind::Metadata(_)) | EventKind::Access(_) => {}
        EventKind::Modify(_) | EventKind::Any | EventKind::Other => {
            for path in event.paths.iter().filter(|p| is_followed_file(p)) {
                let kind = if path.exists() { FileEventKind::Changed } else { FileEventKind::Deleted };
                out.push(FileEvent { path: path.clone(), kind });
            }
        }
    }
}

/// One event per path, keeping the last kind, except that a file created and
/// then changed in the same batch is still new.
fn coalesce(events: Vec<FileEvent>) -> Vec<FileEvent> {
    let mut order = Vec::new();
    let mut last: HashMap<PathBuf, FileEventKind> = HashMap::new();
    for event in events {
        match last.get(&event.path) {
            None => {
                order.push(event.path.clone());
                last.insert(event.path, event.kind);
            }
            Some(FileEventKind::Created) if event.kind == FileEventKind::Changed => {}
            Some(_) => {
                last.insert(event.path, event.kind);
            }
        }
    }
    order.into_iter().map(|path| FileEvent { kind: last[&path], path }).collect()
}

#[cfg(test)]
mod tests {
    use std::fs;
    use std::time::Instant;

    use super::*;

    #[test]
    fn followed_files_match_the_glob_patterns() {
        assert!(is_followed_file(Path::new("/p/app.py")));
        assert!(is_followed_file(Path::new("/p/chalicelib/db.py")));
        assert!(is_followed_file(Path::new("/p/.chalice/config.json")));
        assert!(is_followed_file(Path::new("/p/.chalice/policy-dev.json")));
        assert!(!is_followed_file(Path::new("/p/package.json")));
        assert!(!is_followed_file(Path::new("/p/.chalice/deployments/x.zip")));
        assert!(!is_followed_file(Path::new("/p/app.pyc")));
    }

    #[test]
    fn walking_skips_vcs_node_modules_and_virtualenvs() {
        let root = tempfile::tempdir().unwrap();
        for dir in ["chalicelib/sub", ".git/objects", "node_modules/x", ".venv/lib", "env/lib", ".chalice"] {
            fs::create_dir_all(root.path().join(dir)).unwrap();
        }
        fs::write(root.path().join("env/pyvenv.cfg"), "home = /usr/bin\n").unwrap();
        let mut dirs = Vec::new();
        walk_dirs(root.path(), &mut dirs);
        let mut names: Vec<_> =
            dirs.iter().map(|d| d.strip_prefix(root.path()).unwrap().display().to_string()).collect();
        names.sort();
        assert_eq!(names, ["", ".chalice", "chalicelib", "chalicelib/sub"]);
    }

    #[test]
    fn coalescing_keeps_one_event_per_path() {
        let event = |p: &str, kind| FileEvent { path: PathBuf::from(p), kind };
        use FileEventKind::*;
        let events =
            vec![event("/a.py", Created), event("/b.py", Changed), event("/a.py", Changed), event("/b.py", Deleted)];
        assert_eq!(coalesce(events), [event("/a.py", Created), event("/b.py", Deleted)]);
    }

    /// Waits until the collected events satisfy `done`, or fails after 10 s.
    async fn wait_for(events: &Arc<Mutex<Vec<FileEvent>>>, what: &str, done: impl Fn(&[FileEvent]) -> bool) {
        let deadline = Instant::now() + Duration::from_secs(10);
        while !done(&events.lock().unwrap()) {
            assert!(Instant::now() < deadline, "timed out waiting for {what}; got {:?}", events.lock().unwrap());
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn reports_followed_files_created_changed_and_deleted() {
        let root = tempfile::tempdir().unwrap();
        let root_path = root.path().canonicalize().unwrap();
        fs::create_dir_all(root_path.join(".chalice")).unwrap();
        fs::write(root_path.join(".chalice/config.json"), "{}").unwrap();
        let events = Arc::new(Mutex::new(Vec::new()));
        let sink = events.clone();
        let _watcher = FileWatcher::start(
            std::slice::from_ref(&root_path),
            move |batch| sink.lock().unwrap().extend(batch),
            |error| panic!("{error}"),
        )
        .unwrap();
        let has =
            |path: PathBuf, kind| move |events: &[FileEvent]| events.contains(&FileEvent { path: path.clone(), kind });

        fs::write(root_path.join("app.py"), "import boto3\n").unwrap();
        wait_for(&events, "app.py created", has(root_path.join("app.py"), FileEventKind::Created)).await;

        fs::write(root_path.join(".chalice/config.json"), "{\"version\": \"2.0\"}").unwrap();
        wait_for(&events, "config changed", has(root_path.join(".chalice/config.json"), FileEventKind::Changed)).await;

        // A new directory with a file already in it, and a virtualenv that
        // must be ignored.
        fs::create_dir_all(root_path.join(".venv/lib")).unwrap();
        fs::write(root_path.join(".venv/lib/site.py"), "").unwrap();
        fs::create_dir_all(root_path.join("chalicelib")).unwrap();
        fs::write(root_path.join("chalicelib/db.py"), "").unwrap();
        wait_for(&events, "chalicelib/db.py created", has(root_path.join("chalicelib/db.py"), FileEventKind::Created))
            .await;

        fs::remove_file(root_path.join("app.py")).unwrap();
        wait_for(&events, "app.py deleted", has(root_path.join("app.py"), FileEventKind::Deleted)).await;

        let events = events.lock().unwrap();
        assert!(events.iter().all(|e| !e.path.starts_with(root_path.join(".venv"))), "{events:?}");
    }
}
