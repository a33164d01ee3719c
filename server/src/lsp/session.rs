//! The server's state: open documents, workspace folders, settings, what
//! the client supports, and the loaded Chalice projects.
//!
//! This is the only module that calls the engine ([`crate::project`]); the
//! handler modules deal with LSP and call the methods here.

use std::borrow::Cow;
use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use tower_lsp_server::ls_types::{
    self as lsp, ClientCapabilities, Position, PublishDiagnosticsParams, ResourceOperationKind, Uri,
};

use super::convert::{self, EditSupport, FileView, FixData};
use super::document::{Document, DocumentStore};
use super::line_index::{LineIndex, PositionEncoding};
use super::outbox::Outbox;
use super::settings::ClientSettings;
use super::watcher::{is_followed_file, FileEvent, FileEventKind};
use super::workspace;
use crate::project::{self, Project, Settings};

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

/// A loaded project and what the client was last sent for its files.
struct LoadedProject {
    project: Project,
    /// Per file: the version and diagnostics last published. Only files
    /// whose diagnostics (or open version) changed are published again.
    published: HashMap<PathBuf, (Option<i32>, Vec<lsp::Diagnostic>)>,
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
    projects: BTreeMap<PathBuf, LoadedProject>,
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

    // ---- settings ----------------------------------------------------------

    /// The engine settings from every layer the client gave.
    pub fn engine_settings(&self) -> Settings {
        let merged = self.configured_settings.over(&self.initial_settings);
        let defaults = Settings::default();
        Settings {
            stage: merged.stage,
            python_version: merged.python_version.unwrap_or(defaults.python_version),
            severities: merged.severities.into_iter().collect(),
        }
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

    /// New settings from the client: every project is checked again with them.
    pub fn set_configured_settings(&mut self, settings: ClientSettings) {
        let before = self.engine_settings();
        self.configured_settings = settings;
        if self.engine_settings() != before {
            let roots: Vec<PathBuf> = self.projects.keys().cloned().collect();
            for root in roots {
                self.reload_project(&root);
            }
        }
    }

    // ---- documents ---------------------------------------------------------

    pub fn open_document(&mut self, document: Document) {
        let path = document.path().map(Path::to_path_buf);
        self.documents.open(document);
        let Some(path) = path else { return };
        if let Some(root) = self.project_for(&path) {
            self.overlay_open_document(&root, &path);
            self.publish(&root);
        }
    }

    /// After an applied `didChange`: the document's new text replaces what the
    /// project had for it.
    pub fn document_changed(&mut self, uri: &Uri) {
        let Some(path) = self.documents.get(uri).and_then(|d| d.path()).map(Path::to_path_buf) else { return };
        if let Some(root) = self.project_using(&path) {
            self.overlay_open_document(&root, &path);
            self.publish(&root);
        }
    }

    pub fn close_document(&mut self, uri: &Uri) {
        let Some(document) = self.documents.close(uri) else { return };
        let Some(path) = document.path() else { return };
        if let Some(root) = self.project_using(path) {
            if let Some(loaded) = self.projects.get_mut(&root) {
                loaded.project.remove_overlay(path);
            }
            self.publish(&root);
        }
    }

    // ---- files on disk -----------------------------------------------------

    /// Files created, changed or deleted on disk (from the client's
    /// `didChangeWatchedFiles` or our own watcher).
    pub fn files_changed(&mut self, events: &[FileEvent]) {
        let mut reload = Vec::new();
        let mut affected = Vec::new();
        for event in events {
            let path = &event.path;
            // A project root appearing or disappearing.
            if let Some(root) = root_defined_by(path) {
                let loaded = self.projects.contains_key(&root);
                if !loaded && workspace::is_project_root(&root) && self.in_folders(&root) {
                    reload.push(root);
                    continue;
                }
                if loaded && !workspace::is_project_root(&root) {
                    self.drop_project(&root);
                    continue;
                }
            }
            if event.kind == FileEventKind::Deleted && !is_followed_file(path) {
                // Possibly a directory: projects inside it are gone, projects
                // around it lose whatever it held.
                let inside: Vec<PathBuf> = self.projects.keys().filter(|r| r.starts_with(path)).cloned().collect();
                inside.iter().for_each(|root| self.drop_project(root));
                reload.extend(self.projects.keys().filter(|r| path.starts_with(r)).cloned());
                continue;
            }
            if self.documents.by_path(path).is_some() {
                continue; // the open document's text wins over the disk's
            }
            for (root, loaded) in &mut self.projects {
                if loaded.project.contains(path) {
                    loaded.project.reload(path);
                    affected.push(root.clone());
                }
            }
        }
        reload.sort();
        reload.dedup();
        for root in &reload {
            self.reload_project(root);
        }
        affected.sort();
        affected.dedup();
        for root in affected.iter().filter(|r| !reload.contains(r)) {
            self.publish(root);
        }
    }

    fn in_folders(&self, path: &Path) -> bool {
        self.folders.iter().any(|f| path.starts_with(f))
    }

    // ---- projects ----------------------------------------------------------

    /// Adds projects loaded in the background, unless a document opened in
    /// the meantime already loaded the same root.
    pub fn add_loaded_projects(&mut self, loaded: Vec<Project>) {
        let roots: Vec<String> = loaded.iter().map(|p| p.root().display().to_string()).collect();
        self.outbox.info(format!("loaded {} Chalice project(s): {}", roots.len(), roots.join(", ")));
        for project in loaded {
            let root = project.root().to_path_buf();
            if self.projects.contains_key(&root) {
                continue;
            }
            self.projects.insert(root.clone(), LoadedProject { project, published: HashMap::new() });
            self.overlay_all_open_documents(&root);
            self.publish(&root);
        }
    }

    /// Projects whose roots are under `folder` and no other folder are forgotten.
    pub fn remove_folder(&mut self, folder: &Path) {
        self.folders.retain(|f| f != folder);
        let gone: Vec<PathBuf> =
            self.projects.keys().filter(|r| r.starts_with(folder) && !self.in_folders(r)).cloned().collect();
        for root in gone {
            self.drop_project(&root);
        }
    }

    /// Forgets a project and clears what was published for it.
    fn drop_project(&mut self, root: &Path) {
        let Some(loaded) = self.projects.remove(root) else { return };
        self.outbox.info(format!("{}: no longer a loaded Chalice project", root.display()));
        for (path, (_, diagnostics)) in loaded.published {
            if !diagnostics.is_empty() {
                if let Some(uri) = self.uri_of(&path) {
                    self.outbox.publish(PublishDiagnosticsParams { uri, diagnostics: Vec::new(), version: None });
                }
            }
        }
    }

    /// Loads `root` again (settings changed, a directory vanished, a new root
    /// appeared), keeping open documents' texts, and publishes.
    fn reload_project(&mut self, root: &Path) {
        match Project::load(root, self.engine_settings()) {
            Ok(project) => {
                let published = self.projects.remove(root).map(|l| l.published).unwrap_or_default();
                self.projects.insert(root.to_path_buf(), LoadedProject { project, published });
                self.overlay_all_open_documents(root);
                self.publish(root);
            }
            Err(error) => {
                self.outbox.warn(format!("cannot load project: {error}"));
                self.drop_project(root);
            }
        }
    }

    /// The loaded project that uses `path`; the deepest one if they nest.
    fn project_using(&self, path: &Path) -> Option<PathBuf> {
        self.projects.iter().rev().find(|(_, l)| l.project.contains(path)).map(|(root, _)| root.clone())
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
        match Project::load(&root, self.engine_settings()) {
            Ok(project) => {
                self.outbox.info(format!("loaded Chalice project {}", root.display()));
                self.projects.insert(root.clone(), LoadedProject { project, published: HashMap::new() });
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
        let Some(loaded) = self.projects.get_mut(root) else { return };
        for document in self.documents.iter() {
            if let Some(path) = document.path() {
                if loaded.project.contains(path) {
                    loaded.project.set_overlay(path, Arc::from(document.text()), document.tree());
                }
            }
        }
    }

    fn overlay_open_document(&mut self, root: &Path, path: &Path) {
        let (Some(loaded), Some(document)) = (self.projects.get_mut(root), self.documents.by_path(path)) else {
            return;
        };
        loaded.project.set_overlay(path, Arc::from(document.text()), document.tree());
    }

    // ---- diagnostics -------------------------------------------------------

    /// Queues the project's diagnostics for every file whose diagnostics or
    /// open-document version changed since the last time.
    fn publish(&mut self, root: &Path) {
        let Some(loaded) = self.projects.get(root) else { return };
        let by_file = loaded.project.diagnostics();
        let mut changed = Vec::new();
        for (path, diagnostics) in &by_file {
            let Some(view) = self.view(&loaded.project, path) else { continue };
            let converted: Vec<lsp::Diagnostic> = diagnostics
                .iter()
                .map(|d| {
                    let fixes: Vec<FixData> = d
                        .fixes
                        .iter()
                        .filter_map(|fix| convert::fix_data(fix, &mut |p| self.view(&loaded.project, p), self.encoding))
                        .collect();
                    convert::diagnostic(d, &view, self.encoding, fixes)
                })
                .collect();
            let unchanged = loaded.published.get(path).is_some_and(|(v, d)| *v == view.version && *d == converted);
            if !unchanged {
                changed.push((path.clone(), view.uri, view.version, converted));
            }
        }
        // Files the engine no longer reports on (a policy file no longer
        // used, a deleted module) are cleared.
        let dropped: Vec<PathBuf> = loaded
            .published
            .iter()
            .filter(|(path, (_, diagnostics))| !by_file.contains_key(*path) && !diagnostics.is_empty())
            .map(|(path, _)| path.clone())
            .collect();

        let loaded = self.projects.get_mut(root).expect("looked up above");
        for path in dropped {
            loaded.published.remove(&path);
            if let Some(uri) = convert::file_uri(&path) {
                changed.push((path, uri, None, Vec::new()));
            }
        }
        for (path, uri, version, diagnostics) in changed {
            self.outbox.publish(PublishDiagnosticsParams { uri, diagnostics: diagnostics.clone(), version });
            loaded.published.insert(path, (version, diagnostics));
        }
    }

    // ---- requests ----------------------------------------------------------

    /// The markdown hover for a position in an open document.
    pub fn hover(&self, uri: &Uri, position: Position) -> Option<String> {
        let (loaded, path) = self.project_of_document(uri)?;
        let view = self.view(&loaded.project, &path)?;
        loaded.project.hover(&path, view.offset(position, self.encoding))
    }

    /// Code lenses of an open document: their ranges, titles, and the root
    /// of the project (the argument of the lens command).
    pub fn lenses(&self, uri: &Uri) -> Vec<(lsp::Range, String, PathBuf)> {
        let Some((loaded, path)) = self.project_of_document(uri) else { return Vec::new() };
        let Some(view) = self.view(&loaded.project, &path) else { return Vec::new() };
        let root = loaded.project.root().to_path_buf();
        loaded
            .project
            .lenses(&path)
            .into_iter()
            .map(|(range, title)| (view.range(range, self.encoding), title, root.clone()))
            .collect()
    }

    /// The fix granting every missing action of the document's project.
    pub fn fix_all(&self, uri: &Uri) -> Option<FixData> {
        let (loaded, _) = self.project_of_document(uri)?;
        let fix = loaded.project.fix_all()?;
        convert::fix_data(&fix, &mut |p| self.view(&loaded.project, p), self.encoding)
    }

    /// The IAM policy document the project's code needs, pretty-printed.
    pub fn policy_json(&self, root: &Path) -> Option<String> {
        Some(self.projects.get(root)?.project.policy_json())
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

    fn project_of_document(&self, uri: &Uri) -> Option<(&LoadedProject, PathBuf)> {
        let path = self.documents.get(uri)?.path()?.to_path_buf();
        let root = self.project_using(&path)?;
        Some((self.projects.get(&root)?, path))
    }

    // ---- texts for conversions ---------------------------------------------

    /// A file's text exactly as the engine used it, for converting its byte
    /// offsets: the open document's, else the project's copy (Python sources
    /// are kept in memory; JSON files are read from disk). A file that cannot
    /// be read gets an empty text, so positions clamp to its start. `None`
    /// only for a path no URI can be made of (not absolute).
    fn view<'a>(&'a self, project: &'a Project, path: &Path) -> Option<FileView<'a>> {
        if let Some(document) = self.documents.by_path(path) {
            return Some(FileView {
                uri: document.uri().clone(),
                version: Some(document.version()),
                text: Cow::Borrowed(document.text()),
                line_index: Cow::Borrowed(document.line_index()),
            });
        }
        let source = project.sources.rel_path(path).and_then(|rel| project.sources.files.get(&rel));
        let text: Cow<'a, str> = match source {
            Some(source) => Cow::Borrowed(&source.text),
            None => Cow::Owned(project.read_json(path).unwrap_or_default()),
        };
        Some(FileView {
            uri: convert::file_uri(path)?,
            version: None,
            line_index: Cow::Owned(LineIndex::new(&text)),
            text,
        })
    }

    /// The URI the client knows a file by: an open document's own URI (which
    /// may be spelled differently from ours), else the file's `file:` URI.
    fn uri_of(&self, path: &Path) -> Option<Uri> {
        match self.documents.by_path(path) {
            Some(document) => Some(document.uri().clone()),
            None => convert::file_uri(path),
        }
    }
}

/// Finds and loads the Chalice projects under `folders`. Slow (reads and
/// parses every file), so it runs without the session lock.
pub fn load_projects(folders: &[PathBuf], settings: &Settings, outbox: &Outbox) -> Vec<Project> {
    let mut loaded = Vec::new();
    for folder in folders {
        for root in project::discover_projects(folder) {
            match Project::load(&root, settings.clone()) {
                Ok(project) => loaded.push(project),
                Err(error) => outbox.warn(format!("cannot load project: {error}")),
            }
        }
    }
    loaded
}

/// The directory a file makes a project root: `app.py`'s directory, or
/// the one holding `.chalice/config.json`.
fn root_defined_by(path: &Path) -> Option<PathBuf> {
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
