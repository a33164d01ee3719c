//! The server's state: open documents, workspace folders, settings, what
//! the client supports, and the loaded Chalice projects.
//!
//! This is the only module that calls the engine ([`crate::project`]); the
//! handler modules deal with LSP and call the methods here.

use std::borrow::Cow;
use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use tower_lsp_server::ls_types::{ClientCapabilities, ResourceOperationKind, Uri};

use super::convert::{self, EditSupport, FileView};
use super::document::{Document, DocumentKind, DocumentStore};
use super::line_index::{LineIndex, PositionEncoding};
use super::outbox::Outbox;
use super::settings::ClientSettings;
use super::watcher::{FileEvent, FileEventKind};
use super::workspace;
use crate::project::Project;

/// What the client told us it can do, reduced to what this server uses.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ClientSupport {
    pub watched_files_registration: bool,
    pub configuration_pull: bool,
    pub configuration_registration: bool,
    pub edits: EditSupport,
}

impl ClientSupport {
    pub fn from_capabilities(capabilities: &ClientCapabilities) -> Self {
        let workspace = capabilities.workspace.as_ref();
        let workspace_edit = workspace.and_then(|w| w.workspace_edit.as_ref());
        ClientSupport {
            watched_files_registration: workspace
                .and_then(|w| w.did_change_watched_files.as_ref())
                .and_then(|c| c.dynamic_registration)
                .unwrap_or(false),
            configuration_pull: workspace.and_then(|w| w.configuration).unwrap_or(false),
            configuration_registration: workspace
                .and_then(|w| w.did_change_configuration.as_ref())
                .and_then(|c| c.dynamic_registration)
                .unwrap_or(false),
            edits: EditSupport {
                document_changes: workspace_edit.and_then(|e| e.document_changes).unwrap_or(false),
                create_files: workspace_edit
                    .and_then(|e| e.resource_operations.as_ref())
                    .is_some_and(|ops| ops.contains(&ResourceOperationKind::Create)),
            },
        }
    }
}

pub struct Session {
    pub outbox: Outbox,
    pub encoding: PositionEncoding,
    pub support: ClientSupport,
    pub documents: DocumentStore,
    folders: Vec<PathBuf>,
    /// From `initializationOptions`.
    initial_settings: ClientSettings,
    /// From `workspace/configuration` or `didChangeConfiguration`; wins over
    /// the initial settings value by value.
    configured_settings: ClientSettings,
    /// Numbers each settings pull or push, so that only the newest applies.
    settings_ticket: u64,
    projects: BTreeMap<PathBuf, Project>,
}

impl Session {
    pub fn new(outbox: Outbox) -> Self {
        Session {
            outbox,
            encoding: PositionEncoding::Utf16,
            support: ClientSupport::default(),
            documents: DocumentStore::default(),
            folders: Vec::new(),
            initial_settings: ClientSettings::default(),
            configured_settings: ClientSettings::default(),
            settings_ticket: 0,
            projects: BTreeMap::new(),
        }
    }

    pub fn folders(&self) -> &[PathBuf] {
        &self.folders
    }

    pub fn set_folders(&mut self, folders: Vec<PathBuf>) {
        self.folders = folders;
    }

    pub fn settings(&self) -> ClientSettings {
        self.configured_settings.over(&self.initial_settings)
    }

    pub fn set_initial_settings(&mut self, settings: ClientSettings) {
        self.initial_settings = settings;
    }

    pub fn next_settings_ticket(&mut self) -> u64 {
        self.settings_ticket += 1;
        self.settings_ticket
    }

    pub fn is_latest_settings_ticket(&self, ticket: u64) -> bool {
        ticket == self.settings_ticket
    }

    pub fn set_configured_settings(&mut self, settings: ClientSettings) {
        self.configured_settings = settings;
    }

    pub fn project_roots(&self) -> impl Iterator<Item = &Path> {
        self.projects.keys().map(PathBuf::as_path)
    }

    // ---- documents -------------------------------------------------------

    pub fn open_document(&mut self, document: Document) {
        let path = document.path().map(Path::to_path_buf);
        self.documents.open(document);
        if let Some(path) = path {
            if let Some(root) = self.project_for(&path) {
                self.overlay_open_document(&root, &path);
            }
        }
    }

    /// After an applied `didChange`: the document's new text replaces what the
    /// project had for it.
    pub fn document_changed(&mut self, uri: &Uri) {
        let Some(path) = self.documents.get(uri).and_then(|d| d.path()).map(Path::to_path_buf) else { return };
        if let Some(root) = self.project_using(&path) {
            self.overlay_open_document(&root, &path);
        }
    }

    pub fn close_document(&mut self, uri: &Uri) {
        let Some(document) = self.documents.close(uri) else { return };
        let Some(path) = document.path() else { return };
        if let Some(root) = self.project_using(path) {
            // The disk's text counts again.
            self.refresh_from_disk(&root, path);
        }
    }

    // ---- files on disk ---------------------------------------------------

    /// Files created, changed or deleted on disk (from the client's
    /// `didChangeWatchedFiles` or our own watcher).
    pub fn files_changed(&mut self, events: &[FileEvent]) {
        let mut reload = BTreeSet::new();
        let mut refresh = Vec::new();
        for event in events {
            let path = &event.path;
            let kind = event.kind;
            // A project root appearing or disappearing.
            if let Some(root) = self.root_defined_by(path) {
                let loaded = self.projects.contains_key(&root);
                if !loaded && workspace::is_project_root(&root) && self.in_folders(&root) {
                    reload.insert(root);
                    continue;
                }
                if loaded && !workspace::is_project_root(&root) {
                    self.drop_project(&root);
                    continue;
                }
            }
            if kind == FileEventKind::Deleted {
                // Possibly a directory: projects inside it are gone, projects
                // around it lose whatever it held.
                let inside: Vec<PathBuf> = self.projects.keys().filter(|r| r.starts_with(path)).cloned().collect();
                for root in inside {
                    self.drop_project(&root);
                }
                if !super::watcher::is_followed_file(path) {
                    reload.extend(self.projects.keys().filter(|r| path.starts_with(r)).cloned());
                    continue;
                }
            }
            if self.documents.by_path(path).is_some() {
                continue; // the open document's text wins over the disk's
            }
            if let Some(root) = self.project_using(path) {
                refresh.push((root, path.clone()));
            }
        }
        for root in &reload {
            self.reload_project(root);
        }
        for (root, path) in refresh {
            if !reload.contains(&root) {
                self.refresh_from_disk(&root, &path);
            }
        }
    }

    /// The directory a file makes a project root: `app.py`'s directory, or
    /// the one holding `.chalice/config.json`.
    fn root_defined_by(&self, path: &Path) -> Option<PathBuf> {
        let name = path.file_name()?;
        let parent = path.parent()?;
        if name == "app.py" {
            return Some(parent.to_path_buf());
        }
        if name == "config.json" && parent.file_name()? == ".chalice" {
            return Some(parent.parent()?.to_path_buf());
        }
        None
    }

    fn in_folders(&self, path: &Path) -> bool {
        self.folders.iter().any(|f| path.starts_with(f))
    }

    // ---- projects --------------------------------------------------------

    /// Adds projects loaded in the background, unless a document opened in
    /// the meantime already loaded the same root.
    pub fn add_loaded_projects(&mut self, loaded: Vec<Project>) {
        let roots: Vec<String> = loaded.iter().map(|p| p.root.display().to_string()).collect();
        self.outbox.info(format!("loaded {} Chalice project(s): {}", roots.len(), roots.join(", ")));
        for project in loaded {
            let root = project.root.clone();
            if self.projects.contains_key(&root) {
                continue;
            }
            self.projects.insert(root.clone(), project);
            self.overlay_all_open_documents(&root);
        }
    }

    /// Projects whose roots are under `folder` are forgotten.
    pub fn remove_folder(&mut self, folder: &Path) {
        self.folders.retain(|f| f != folder);
        let gone: Vec<PathBuf> =
            self.projects.keys().filter(|r| r.starts_with(folder) && !self.in_folders(r)).cloned().collect();
        for root in gone {
            self.drop_project(&root);
        }
    }

    fn drop_project(&mut self, root: &Path) {
        if self.projects.remove(root).is_some() {
            self.outbox.info(format!("{}: no longer a Chalice project", root.display()));
        }
    }

    /// Loads `root` again from disk (settings changed, a directory vanished,
    /// a new root appeared), keeping open documents' texts.
    fn reload_project(&mut self, root: &Path) {
        match Project::load(root) {
            Ok(project) => {
                self.projects.insert(root.to_path_buf(), project);
                self.overlay_all_open_documents(root);
            }
            Err(error) => {
                self.outbox.warn(format!("cannot load project: {error}"));
                self.drop_project(root);
            }
        }
    }

    /// The loaded project that uses `path`; the deepest one if they nest.
    fn project_using(&self, path: &Path) -> Option<PathBuf> {
        self.projects.iter().rev().find(|(_, project)| uses(project, path)).map(|(root, _)| root.clone())
    }

    /// Like [`Self::project_using`], but loads the project around `path`
    /// when none is loaded yet (a file opened outside every workspace folder,
    /// or before the background load finished).
    fn project_for(&mut self, path: &Path) -> Option<PathBuf> {
        if let Some(root) = self.project_using(path) {
            return Some(root);
        }
        let root = workspace::enclosing_project_root(path)?;
        if self.projects.contains_key(&root) {
            return None; // loaded, and it does not use this file
        }
        match Project::load(&root) {
            Ok(project) => {
                self.outbox.info(format!("loaded Chalice project {}", root.display()));
                self.projects.insert(root.clone(), project);
                self.overlay_all_open_documents(&root);
                self.project_using(path)
            }
            Err(error) => {
                self.outbox.warn(format!("cannot load project: {error}"));
                None
            }
        }
    }

    fn overlay_all_open_documents(&mut self, root: &Path) {
        let Some(project) = self.projects.get_mut(root) else { return };
        for document in self.documents.iter() {
            if let Some(path) = document.path() {
                if uses(project, path) {
                    set_overlay(project, path, document);
                }
            }
        }
    }

    fn overlay_open_document(&mut self, root: &Path, path: &Path) {
        let (Some(project), Some(document)) = (self.projects.get_mut(root), self.documents.by_path(path)) else {
            return;
        };
        set_overlay(project, path, document);
    }

    /// Puts the disk's text of `path` back into the project (or removes the
    /// file when it is gone).
    fn refresh_from_disk(&mut self, root: &Path, path: &Path) {
        let Some(project) = self.projects.get_mut(root) else { return };
        let Some(rel) = project.rel_path(path) else { return };
        match read_text(path) {
            Some(text) => project.set_text(&rel, text.into(), None),
            None => project.remove(&rel),
        }
    }

    /// The IAM policy document the project's code needs, pretty-printed.
    pub fn policy_json(&self, root: &Path) -> Option<String> {
        let project = self.projects.get(root)?;
        let facts = project.analyze();
        let actions = facts.files.iter().flat_map(|f| &f.calls).flat_map(|c| c.actions.iter().map(String::as_str));
        Some(crate::policy::to_pretty(&crate::policy::needed_policy(actions)))
    }

    /// The project a command argument names: a root path or `file:` URI;
    /// without one, the only project there is.
    pub fn project_named(&self, name: Option<&str>) -> Option<PathBuf> {
        match name {
            Some(name) => {
                let path = name.parse::<Uri>().ok().and_then(|u| super::document::file_path(&u)).unwrap_or(name.into());
                self.projects.contains_key(&path).then_some(path)
            }
            None if self.projects.len() == 1 => self.projects.keys().next().cloned(),
            None => None,
        }
    }

    // ---- texts for conversions ------------------------------------------

    /// The text of a file as the engine sees it: the open document's, else
    /// the disk's.
    pub fn file_view(&self, path: &Path) -> Option<FileView<'_>> {
        if let Some(document) = self.documents.by_path(path) {
            return Some(FileView {
                uri: document.uri().clone(),
                version: Some(document.version()),
                text: Cow::Borrowed(document.text()),
                line_index: Cow::Borrowed(document.line_index()),
            });
        }
        let text = read_text(path)?;
        Some(FileView {
            uri: convert::file_uri(path)?,
            version: None,
            line_index: Cow::Owned(LineIndex::new(&text)),
            text: Cow::Owned(text),
        })
    }
}

/// Finds and loads the Chalice projects under `folders`. Slow (reads and
/// parses every file), so it runs without the session lock.
pub fn load_projects(folders: &[PathBuf], outbox: &Outbox) -> Vec<Project> {
    let mut loaded = Vec::new();
    for folder in folders {
        let (roots, truncated) = workspace::discover_projects(folder);
        if truncated {
            outbox.warn(format!("{}: stopped looking for Chalice projects after many directories", folder.display()));
        }
        for root in roots {
            match Project::load(&root) {
                Ok(project) => loaded.push(project),
                Err(error) => outbox.warn(format!("cannot load project: {error}")),
            }
        }
    }
    loaded
}

/// Whether `project` analyses `path`: one of its Python modules, or a JSON
/// file in its `.chalice/` directory (config and policy files).
fn uses(project: &Project, path: &Path) -> bool {
    project.rel_path(path).is_some() || path.parent() == Some(&project.root.join(".chalice"))
}

fn set_overlay(project: &mut Project, path: &Path, document: &Document) {
    if document.kind() != DocumentKind::Python {
        return;
    }
    if let Some(rel) = project.rel_path(path) {
        project.set_text(&rel, Arc::from(document.text()), document.tree());
    }
}

/// A file's text, decoded lossily like the engine does; `None` when it
/// cannot be read.
fn read_text(path: &Path) -> Option<String> {
    let bytes = std::fs::read(path).ok()?;
    Some(match String::from_utf8(bytes) {
        Ok(text) => text,
        Err(error) => String::from_utf8_lossy(error.as_bytes()).into_owned(),
    })
}
