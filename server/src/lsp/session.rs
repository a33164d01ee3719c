//! The server's state: open documents, workspace folders, settings, what
//! the client supports, and the loaded Chalice projects.
//!
//! This is the only module that calls the engine ([`crate::project`]); the
//! handler modules deal with LSP and call the methods here.

use std::borrow::Cow;
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use tokio::sync::Notify;
use tower_lsp_server::ls_types::{
    self as lsp, ClientCapabilities, Position, ResourceOperationKind, Uri,
};

use super::convert::{self, EditSupport, FileView, FixData};
use super::document::{Document, DocumentStore};
use super::line_index::{LineIndex, PositionEncoding};
use super::outbox::{DiagnosticList, FileDiagnostics, Outbox};
use super::settings::ClientSettings;
use super::watcher::{is_followed_file, FileEvent, FileEventKind};
use super::workspace;
use crate::project::{self, Project, Settings, Unverified};

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
    /// Per file: what was last published. Only files whose diagnostics (or
    /// open version) changed are published again.
    published: HashMap<PathBuf, Published>,
    /// The fixes of the diagnostics last computed, by the name their `data`
    /// carries (see [`convert::FixKeys::key`]), converted once per distinct set.
    fixes: HashMap<String, Vec<FixData>>,
}

impl LoadedProject {
    /// Work on a project that has been checked (lowering an edited file
    /// from its last version, checking again from the last check) is a
    /// keystroke's (see `process::KeystrokeWork`); its first check is not.
    fn keystroke_work(&self) -> Option<crate::process::KeystrokeWork> {
        (!self.published.is_empty()).then(crate::process::KeystrokeWork::start)
    }
}

/// A published diagnostic's message, fixes and byte range, as the engine
/// gave them.
type MadeFrom = (Arc<str>, Arc<[crate::diagnostics::Fix]>, crate::analysis::TextRange);

/// A file's last published diagnostics, and what each was converted from
/// beyond what it shows: its message and fixes as the engine shares them,
/// and the files the fixes edit. A diagnostic the engine gives again at the
/// same place, with the same message and fixes of the same files, converts
/// to the same one, which the next publish takes as it is.
struct Published {
    version: Option<i32>,
    diagnostics: Arc<DiagnosticList>,
    /// In the order of `diagnostics`: the engine's message and fixes (a
    /// moved diagnostic shares both with the one it was moved from, so the
    /// next publish compares addresses, not texts).
    made_from: Vec<MadeFrom>,
    /// See [`convert::fix_documents`].
    fix_documents: Arc<Vec<(PathBuf, Option<i32>, u64)>>,
}

impl Published {
    /// The index of the last published diagnostic that `d`, whose range is
    /// now `range`, converts to again, if any. `next` walks the list: both
    /// are in the engine's order, by range and code (see
    /// [`DiagnosticList::new`]).
    fn same_as(&self, next: &mut usize, d: &crate::diagnostics::Diagnostic, range: lsp::Range) -> Option<usize> {
        let list = &*self.diagnostics;
        let place = (range.start.line, range.start.character, range.end.line, range.end.character, Some(d.code));
        let order = super::outbox::order;
        while *next < list.len() && order(&list[*next]) < place {
            *next += 1;
        }
        let severity = Some(convert::severity(d.severity));
        (*next..list.len()).take_while(|&i| order(&list[i]) == place).find(|&i| list[i].severity == severity && self.made_from_same(i, d))
    }

    /// Whether diagnostic `i` was made from `d`'s message and fixes
    /// (compared by address first: a moved diagnostic shares both).
    fn made_from_same(&self, i: usize, d: &crate::diagnostics::Diagnostic) -> bool {
        self.made_from.get(i).is_some_and(|(message, fixes, _)| (Arc::ptr_eq(message, &d.message) || **message == *d.message) && *fixes == d.fixes)
    }

    /// Whether diagnostic `i` is what `d` converts to after `edit`, without
    /// converting `d`: made from the same message and fixes, with the same
    /// severity and code, at the place the edit moved it to, off the edited
    /// line (so at the same LSP range).
    fn moved_off_the_line(&self, i: usize, d: &crate::diagnostics::Diagnostic, edit: &super::document::LineEdit) -> bool {
        let (Some((_, _, range)), Some(same)) = (self.made_from.get(i), self.diagnostics.get(i)) else { return false };
        self.made_from_same(i, d)
            && edit.off_the_line(*range) == Some(d.range)
            && same.severity == Some(convert::severity(d.severity))
            && super::outbox::order(same).4 == Some(d.code)
    }
}

/// What publishing a project's diagnostics sends and keeps (see
/// `Session::plan_publish`).
struct PublishPlan {
    fix_sets: HashMap<String, Vec<FixData>>,
    fix_documents: Arc<Vec<(PathBuf, Option<i32>, u64)>>,
    /// Files whose diagnostics or version changed: path, URI, version, list
    /// and what each diagnostic was made from.
    changed: Vec<(PathBuf, Uri, Option<i32>, DiagnosticList, Vec<MadeFrom>)>,
    /// Files published unchanged, with what their diagnostics are now made from.
    kept: Vec<(PathBuf, Vec<MadeFrom>)>,
    #[cfg(test)]
    found_off_the_line: usize,
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
    /// Projects whose diagnostics are out of date. Handlers only mark them;
    /// the diagnostics task computes them when it gets to it, so a burst of
    /// changes costs one computation and intermediate states are never
    /// published.
    stale: BTreeSet<PathBuf>,
    diagnostics_due: Arc<Notify>,
    /// Open documents (project root, path) whose latest text the engine has
    /// not been given yet. Handing a text over lowers the whole file, so it
    /// waits until the engine is next asked something: a burst of keystrokes
    /// costs one lowering.
    pending_overlays: BTreeSet<(PathBuf, PathBuf)>,
    /// Projects being loaded in the background, and the paths that changed
    /// on disk meanwhile: a project read before such a change is read again
    /// when it arrives.
    loads_in_flight: usize,
    changed_during_loads: Vec<PathBuf>,
    /// Roots a background load is reading, or has read and not yet handed
    /// over (see [`Self::claim_for_loading`]).
    loading: BTreeSet<PathBuf>,
    /// How many published diagnostics were found in the last list after an
    /// edit within a line, without converting them.
    #[cfg(test)]
    pub(crate) found_off_the_line: usize,
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
            stale: BTreeSet::new(),
            diagnostics_due: Arc::new(Notify::new()),
            pending_overlays: BTreeSet::new(),
            loads_in_flight: 0,
            changed_during_loads: Vec::new(),
            loading: BTreeSet::new(),
            #[cfg(test)]
            found_off_the_line: 0,
        }
    }

    /// Signalled whenever a project's diagnostics become out of date.
    pub fn diagnostics_due(&self) -> Arc<Notify> {
        self.diagnostics_due.clone()
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
            self.pending_overlays.insert((root.clone(), path));
            self.mark_stale(&root);
        }
    }

    /// After an applied `didChange`: the document's new text replaces what the
    /// project had for it.
    pub fn document_changed(&mut self, uri: &Uri) {
        self.documents.touch(uri);
        let Some(path) = self.documents.get(uri).and_then(|d| d.path()).map(Path::to_path_buf) else { return };
        if let Some(root) = self.project_using(&path) {
            self.pending_overlays.insert((root.clone(), path));
            self.mark_stale(&root);
        }
    }

    pub fn close_document(&mut self, uri: &Uri) {
        let Some(document) = self.documents.close(uri) else { return };
        let Some(path) = document.path() else { return };
        if let Some(root) = self.project_using(path) {
            if self.documents.by_path(path).is_some() {
                // Still open under another URI: that text counts now.
                self.pending_overlays.insert((root.clone(), path.to_path_buf()));
            } else if let Some(loaded) = self.projects.get_mut(&root) {
                loaded.project.remove_overlay(path);
            }
            self.mark_stale(&root);
        }
    }

    // ---- files on disk -----------------------------------------------------

    /// Files created, changed or deleted on disk (from the client's
    /// `didChangeWatchedFiles` or our own watcher).
    pub fn files_changed(&mut self, events: &[FileEvent]) {
        if self.loads_in_flight > 0 {
            self.changed_during_loads.extend(events.iter().map(|e| e.path.clone()));
        }
        let mut reload = Vec::new();
        let mut affected = Vec::new();
        for event in events {
            let path = &event.path;
            // A project root appearing or disappearing.
            if let Some(root) = root_defined_by(path) {
                let loaded = self.projects.contains_key(&root);
                // Like project discovery, a project's subdirectories are its
                // own (an app.py under tests/ is not a new project).
                let inside_another = self.projects.keys().any(|r| root.starts_with(r) && *r != root);
                if !loaded && !inside_another && workspace::is_project_root(&root) && self.in_folders(&root) {
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
            self.mark_stale(root);
        }
    }

    fn in_folders(&self, path: &Path) -> bool {
        self.folders.iter().any(|f| path.starts_with(f))
    }

    // ---- projects ----------------------------------------------------------

    /// A background load (see [`load_projects`]) starts; its projects come
    /// back through [`Self::add_loaded_projects`].
    pub fn project_load_started(&mut self) {
        self.loads_in_flight += 1;
    }

    /// Test builds only: adds projects loaded in the background and ends
    /// that load (see [`Self::add_loaded_project`] and [`Self::finish_load`]).
    #[cfg(test)]
    pub fn add_loaded_projects(&mut self, loaded: Vec<Project>) {
        let roots: Vec<PathBuf> = loaded.iter().map(|p| p.root().to_path_buf()).collect();
        for project in loaded {
            self.add_loaded_project(project);
        }
        self.finish_load(&roots);
    }

    /// A background load is about to read the project at `root`: `false`
    /// when it is loaded already (a document opened in it meanwhile). From
    /// now until it arrives, a document opened in it waits for it rather
    /// than reading it a second time.
    pub fn claim_for_loading(&mut self, root: &Path) -> bool {
        if self.projects.contains_key(root) {
            return false;
        }
        self.loading.insert(root.to_path_buf());
        true
    }

    /// Adds a project loaded in the background, unless a document opened in
    /// the meantime already loaded the same root, or its folder was removed.
    /// A project whose files changed on disk, or whose settings changed,
    /// while it was being read is read again.
    pub fn add_loaded_project(&mut self, project: Project) {
        let root = project.root().to_path_buf();
        self.loading.remove(&root);
        if self.projects.contains_key(&root) || !self.in_folders(&root) {
            return;
        }
        let outdated = project.settings != self.engine_settings()
            || self.changed_during_loads.iter().any(|p| p.starts_with(&root) || root.starts_with(p));
        if outdated {
            self.reload_project(&root);
            return;
        }
        self.projects.insert(root.clone(), LoadedProject { project, published: HashMap::new(), fixes: HashMap::new() });
        self.overlay_all_open_documents(&root);
        self.mark_stale(&root);
    }

    /// A background load ended, having found the projects at `roots`. Once
    /// no load runs, a document that waited for a project no load brought
    /// (one that failed to read) has it read now.
    pub fn finish_load(&mut self, roots: &[PathBuf]) {
        let names: Vec<String> = roots.iter().map(|r| r.display().to_string()).collect();
        self.outbox.info(format!("loaded {} Chalice project(s): {}", names.len(), names.join(", ")));
        self.loads_in_flight = self.loads_in_flight.saturating_sub(1);
        if self.loads_in_flight > 0 {
            return;
        }
        self.changed_during_loads.clear();
        if std::mem::take(&mut self.loading).is_empty() {
            return;
        }
        let waiting: BTreeSet<PathBuf> =
            self.documents.iter().filter_map(Document::path).filter(|p| self.project_using(p).is_none()).map(Path::to_path_buf).collect();
        for path in waiting {
            if let Some(root) = self.project_for(&path) {
                self.pending_overlays.insert((root.clone(), path));
                self.mark_stale(&root);
            }
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
        for (path, Published { diagnostics, .. }) in loaded.published {
            if !diagnostics.is_empty() {
                if let Some(uri) = self.uri_of(&path) {
                    self.outbox.publish(FileDiagnostics { uri, diagnostics: Arc::default(), version: None });
                }
            }
        }
    }

    /// Loads `root` again (settings changed, a directory vanished, a new root
    /// appeared), keeping open documents' texts, and publishes.
    fn reload_project(&mut self, root: &Path) {
        match Project::load(root, self.engine_settings()) {
            Ok(project) => {
                let (published, fixes) = self.projects.remove(root).map(|l| (l.published, l.fixes)).unwrap_or_default();
                self.projects.insert(root.to_path_buf(), LoadedProject { project, published, fixes });
                self.overlay_all_open_documents(root);
                self.mark_stale(root);
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
        if self.loading.contains(&root) {
            return None; // on its way: it is given the open documents when it arrives
        }
        match Project::load(&root, self.engine_settings()) {
            Ok(project) => {
                self.outbox.info(format!("loaded Chalice project {}", root.display()));
                self.projects.insert(root.clone(), LoadedProject { project, published: HashMap::new(), fixes: HashMap::new() });
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
        let paths: BTreeSet<&Path> = self.documents.iter().filter_map(Document::path).collect();
        for path in paths {
            // Of several documents for one file, the latest one's text.
            let Some(document) = self.documents.by_path(path) else { continue };
            if loaded.project.contains(path) {
                loaded.project.set_overlay(path, Arc::from(document.text()), document.tree());
            }
        }
        self.pending_overlays.retain(|(pending_root, _)| pending_root != root);
    }

    /// Gives the engine the latest text of every document changed since it
    /// was last asked anything.
    fn apply_pending_overlays(&mut self) {
        for (root, path) in std::mem::take(&mut self.pending_overlays) {
            let (Some(loaded), Some(document)) = (self.projects.get_mut(&root), self.documents.by_path(&path)) else {
                continue;
            };
            let _keystroke = loaded.keystroke_work();
            loaded.project.set_overlay(&path, Arc::from(document.text()), document.tree());
        }
    }

    // ---- diagnostics -------------------------------------------------------

    fn mark_stale(&mut self, root: &Path) {
        self.stale.insert(root.to_path_buf());
        self.diagnostics_due.notify_one();
    }

    /// Test builds only: an open document holding this text makes computing
    /// diagnostics panic, to show that the diagnostics task survives it.
    #[cfg(test)]
    pub const TEST_PANIC_TEXT: &'static str = "# chalice-iam-test-panic-in-diagnostics";

    /// Computes and queues the diagnostics of every stale project.
    pub fn publish_stale(&mut self) {
        #[cfg(test)]
        if self.documents.iter().any(|d| d.text().contains(Self::TEST_PANIC_TEXT)) {
            self.stale.clear();
            panic!("test panic while computing diagnostics");
        }
        self.apply_pending_overlays();
        for root in std::mem::take(&mut self.stale) {
            self.publish(&root);
        }
    }

    /// The provisional versions of open documents, by project root: each is
    /// to be compared with a fresh parse (see `project::Unverified`), off
    /// the session lock.
    pub fn unverified(&self) -> Vec<(PathBuf, Unverified)> {
        self.projects.iter().flat_map(|(root, loaded)| loaded.project.unverified().into_iter().map(move |u| (root.clone(), u))).collect()
    }

    /// Whether an open document's version is provisional.
    pub fn has_unverified(&self) -> bool {
        self.projects.values().any(|loaded| loaded.project.has_unverified())
    }

    /// Takes the outcome of comparing a provisional version with a fresh
    /// parse; when the file is read again, its project's diagnostics are
    /// due again.
    pub fn settle(&mut self, root: &Path, checked: &Unverified, fresh: Option<tree_sitter::Tree>) {
        let changed = self.projects.get_mut(root).is_some_and(|loaded| loaded.project.settle(checked, fresh));
        if changed {
            self.mark_stale(root);
        }
    }

    /// How many checks of the open projects gave the last check's
    /// diagnostics, moved (`Project::diagnostics`).
    #[cfg(test)]
    pub fn moved_checks(&self) -> usize {
        self.projects.values().map(|loaded| loaded.project.moved_checks()).sum()
    }

    /// Compares every provisional version with a fresh parse now, and
    /// publishes what changed: what the background check does, in one go.
    /// Returns how many versions were compared, and how many of them a
    /// fresh parse read differently.
    #[cfg(test)]
    pub fn settle_now(&mut self) -> (usize, usize) {
        let (mut compared, mut differed) = (0, 0);
        for (root, checked) in self.unverified() {
            let fresh = checked.fresh_parse_if_different().expect("every version listed is current");
            compared += 1;
            differed += usize::from(fresh.is_some());
            self.settle(&root, &checked, fresh);
        }
        self.publish_stale();
        (compared, differed)
    }

    /// Queues the project's diagnostics for every file whose diagnostics or
    /// open-document version changed since the last time.
    fn publish(&mut self, root: &Path) {
        let Some(loaded) = self.projects.get(root) else { return };
        let _keystroke = loaded.keystroke_work();
        // The last check's diagnostics moved by a keystroke are converted
        // while chalice's import of the new text, which decides whether
        // they stand, is still waited for.
        let (by_file, planned) = loaded.project.diagnostics_then(|by_file| self.plan_publish(loaded, by_file));
        let plan = planned.unwrap_or_else(|| self.plan_publish(loaded, &by_file));
        #[cfg(test)]
        {
            self.found_off_the_line += plan.found_off_the_line;
        }
        let loaded = self.projects.get_mut(root).expect("looked up above");
        loaded.fixes = plan.fix_sets;
        for (path, made_from) in plan.kept {
            if let Some(published) = loaded.published.get_mut(&path) {
                published.made_from = made_from;
                published.fix_documents = plan.fix_documents.clone();
            }
        }
        for (path, uri, version, diagnostics, made_from) in plan.changed {
            let diagnostics = Arc::new(diagnostics);
            self.outbox.publish(FileDiagnostics { uri, diagnostics: diagnostics.clone(), version });
            loaded.published.insert(path, Published { version, diagnostics, made_from, fix_documents: plan.fix_documents.clone() });
        }
    }

    /// What publishing `by_file` (a project's diagnostics) sends and keeps:
    /// each file's diagnostics converted, those found unchanged, the fixes.
    fn plan_publish(&self, loaded: &LoadedProject, by_file: &crate::project::Diagnostics) -> PublishPlan {
        // Read each file the fixes edit once, however many fixes edit it.
        let fixes = by_file.values().flatten().flat_map(|d| d.fixes.iter());
        let edited = self.views(&loaded.project, convert::edited_files(fixes));
        let fix_documents = Arc::new(convert::fix_documents(&edited));
        let project_root = loaded.project.root();
        let mut fix_sets: HashMap<String, Vec<FixData>> = HashMap::new();
        let mut fix_keys = convert::FixKeys::new(project_root, &edited);
        let mut changed = Vec::new();
        let mut kept = Vec::new();
        #[cfg(test)]
        let mut found_total = 0;
        for (path, diagnostics) in by_file.iter() {
            // Most files of a large project have no findings: they need no
            // view of their text (whose line index would be built for
            // nothing), only their URI and version.
            let (uri, version, converted, texts) = if diagnostics.is_empty() {
                let Some(uri) = self.uri_of(path) else { continue };
                (uri, self.documents.by_path(path).map(Document::version), Vec::new(), Vec::new())
            } else {
                let Some(view) = self.view(&loaded.project, path) else { continue };
                let mut last = loaded.published.get(path).filter(|p| p.fix_documents == fix_documents).map(|p| (p, 0));
                // After one edit within a line, the diagnostics off that
                // line are found in the last list at the same index, without
                // converting their ranges (most of a file's, at a keystroke).
                let line_edit = last
                    .as_ref()
                    .filter(|(p, _)| p.made_from.len() == diagnostics.len())
                    .and_then(|(p, _)| self.documents.by_path(path)?.line_edit_since(p.version));
                let mut texts = Vec::with_capacity(diagnostics.len());
                #[cfg(test)]
                let mut found_off_the_line = 0;
                let converted: Vec<Arc<lsp::Diagnostic>> = diagnostics
                    .iter()
                    .enumerate()
                    .map(|(k, d)| {
                        let moved = line_edit.as_ref().and_then(|edit| last.as_ref().map(|(p, _)| *p).filter(|p| p.moved_off_the_line(k, d, edit)).map(|p| (p, k)));
                        #[cfg(test)]
                        {
                            found_off_the_line += usize::from(moved.is_some());
                        }
                        // Converted only when not found off the line.
                        let mut range = None;
                        let found = moved.or_else(|| {
                            let r = *range.insert(view.range(d.range, self.encoding));
                            last.as_mut().and_then(|(p, next)| Some((*p, p.same_as(next, d, r)?)))
                        });
                        if let Some((p, i)) = found {
                            let same = &p.diagnostics[i];
                            if let Some(key) = convert::fix_key_of(same) {
                                if !fix_sets.contains_key(key) {
                                    fix_sets.insert(key.to_owned(), loaded.fixes.get(key).cloned().unwrap_or_default());
                                }
                            }
                            texts.push(Some(p.diagnostics.text(i).clone()));
                            return same.clone();
                        }
                        let range = range.unwrap_or_else(|| view.range(d.range, self.encoding));
                        // Many diagnostics share their fixes: each distinct
                        // set is converted once, and named in `data`.
                        let fix = (!d.fixes.is_empty()).then(|| fix_keys.key(&d.fixes)).filter(|key| {
                            let converted = fix_sets.entry(key.clone()).or_insert_with(|| {
                                d.fixes.iter().filter_map(|fix| convert::fix_data(fix, &edited, self.encoding)).collect()
                            });
                            !converted.is_empty()
                        });
                        texts.push(None);
                        Arc::new(convert::diagnostic(d, range, fix))
                    })
                    .collect();
                #[cfg(test)]
                {
                    found_total += found_off_the_line;
                }
                (view.uri, view.version, converted, texts)
            };
            let made_from: Vec<MadeFrom> = diagnostics.iter().map(|d| (d.message.clone(), d.fixes.clone(), d.range)).collect();
            let before = loaded.published.get(path);
            let unchanged = before.is_some_and(|p| p.version == version && **p.diagnostics == converted[..]);
            if unchanged {
                kept.push((path.clone(), made_from));
            } else {
                let list = DiagnosticList::new(converted, texts, before.map(|p| &*p.diagnostics));
                changed.push((path.clone(), uri, version, list, made_from));
            }
        }
        // Files the engine no longer reports on (a policy file no longer
        // used, a deleted module) are cleared.
        for (path, published) in &loaded.published {
            if !by_file.contains_key(path) && !published.diagnostics.is_empty() {
                if let Some(uri) = self.uri_of(path) {
                    let version = self.documents.by_path(path).map(Document::version);
                    changed.push((path.clone(), uri, version, DiagnosticList::default(), Vec::new()));
                }
            }
        }
        PublishPlan {
            fix_sets,
            fix_documents,
            changed,
            kept,
            #[cfg(test)]
            found_off_the_line: found_total,
        }
    }

    // ---- requests ----------------------------------------------------------

    /// The markdown hover for a position in an open document.
    pub fn hover(&mut self, uri: &Uri, position: Position) -> Option<String> {
        self.load_project_awaited_by(uri);
        self.apply_pending_overlays();
        let (loaded, path) = self.project_of_document(uri)?;
        let view = self.view(&loaded.project, &path)?;
        loaded.project.hover(&path, view.offset(position, self.encoding))
    }

    /// Code lenses of an open document: their ranges, titles, and the root
    /// of the project (the argument of the lens command).
    pub fn lenses(&mut self, uri: &Uri) -> Vec<(lsp::Range, String, PathBuf)> {
        self.load_project_awaited_by(uri);
        self.apply_pending_overlays();
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
    pub fn fix_all(&mut self, uri: &Uri) -> Option<FixData> {
        self.load_project_awaited_by(uri);
        self.apply_pending_overlays();
        let (loaded, _) = self.project_of_document(uri)?;
        let fix = loaded.project.fix_all()?;
        let edited = self.views(&loaded.project, convert::edited_files([&fix]));
        convert::fix_data(&fix, &edited, self.encoding)
    }

    /// The `data` of the diagnostic this server last published for `uri`
    /// that `sent` stands for, for clients that send diagnostics back without
    /// it: LSP lets a client drop `data` unless it declares
    /// `publishDiagnostics.dataSupport` (Neovim before 0.10 and Emacs 29 do
    /// not). Matched by code and message; among equals, the one at the same
    /// range, else on the nearest line (Neovim 0.7 sends byte columns).
    pub fn published_data(&self, uri: &Uri, sent: &lsp::Diagnostic) -> Option<serde_json::Value> {
        let path = match self.documents.get(uri).and_then(|d| d.path()) {
            Some(path) => path.to_path_buf(),
            None => super::document::file_path(uri)?,
        };
        let root = self.project_using(&path)?;
        let published = &self.projects.get(&root)?.published.get(&path)?.diagnostics;
        published
            .iter()
            .filter(|d| d.code == sent.code && d.message == sent.message)
            .min_by_key(|d| (d.range != sent.range, d.range.start.line.abs_diff(sent.range.start.line)))?
            .data
            .clone()
    }

    /// The fixes named `key` (see [`convert::fix_key`]) among those of the
    /// diagnostics last published for the project of `uri`.
    pub fn fixes_named(&self, uri: &Uri, key: &str) -> Option<Vec<FixData>> {
        let path = match self.documents.get(uri).and_then(|d| d.path()) {
            Some(path) => path.to_path_buf(),
            None => super::document::file_path(uri)?,
        };
        let root = self.project_using(&path)?;
        self.projects.get(&root)?.fixes.get(key).cloned()
    }

    /// The IAM policy document the project's code needs, pretty-printed.
    pub fn policy_json(&mut self, root: &Path) -> Option<String> {
        self.apply_pending_overlays();
        Some(self.projects.get(root)?.project.policy_json())
    }

    /// The project a command argument names: a root path or `file:` URI;
    /// without one, the only project there is. One a background load is
    /// still reading is read now (see [`Self::load_project_awaited_by`]).
    pub fn project_named(&mut self, name: Option<&str>) -> Option<PathBuf> {
        match name {
            Some(name) => {
                let path = name.parse::<Uri>().ok().and_then(|u| super::document::file_path(&u)).unwrap_or(name.into());
                self.read_now_if_loading(&path);
                self.projects.contains_key(&path).then_some(path)
            }
            None if self.projects.len() == 1 => self.projects.keys().next().cloned(),
            None => None,
        }
    }

    /// A request about an open document whose project a background load is
    /// still reading cannot wait for it: the project is read now, and the
    /// load's copy is dropped when it arrives.
    fn load_project_awaited_by(&mut self, uri: &Uri) {
        let Some(path) = self.documents.get(uri).and_then(Document::path).map(Path::to_path_buf) else { return };
        if self.project_using(&path).is_some() {
            return;
        }
        if let Some(root) = workspace::enclosing_project_root(&path) {
            self.read_now_if_loading(&root);
        }
    }

    /// Reads now a project the background load is still reading; the
    /// load's copy is dropped when it arrives.
    fn read_now_if_loading(&mut self, root: &Path) {
        if self.loading.remove(root) {
            self.reload_project(root);
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

    fn views<'a>(&'a self, project: &'a Project, paths: BTreeSet<&Path>) -> HashMap<PathBuf, FileView<'a>> {
        paths.into_iter().filter_map(|path| Some((path.to_path_buf(), self.view(project, path)?))).collect()
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

/// Test builds only: see [`load_projects`].
#[cfg(test)]
pub const TEST_PANIC_FOLDER: &str = "chalice-iam-test-panic";

/// Finds and loads the Chalice projects under `folders`, handing each to
/// `deliver` as soon as it is read; a root `claim` refuses (a document
/// opened meanwhile loaded it) is not read again. Returns every root found.
/// Slow (reads and parses every file), so it runs without the session lock.
pub fn load_projects(
    folders: &[PathBuf],
    settings: &Settings,
    outbox: &Outbox,
    claim: &mut dyn FnMut(&Path) -> bool,
    deliver: &mut dyn FnMut(Project),
) -> Vec<PathBuf> {
    let mut found = Vec::new();
    for folder in folders {
        // Test builds only: a folder of this name makes loading panic.
        #[cfg(test)]
        if folder.ends_with(TEST_PANIC_FOLDER) {
            panic!("test panic while loading projects");
        }
        for root in project::discover_projects(folder) {
            found.push(root.clone());
            if !claim(&root) {
                continue;
            }
            match Project::load(&root, settings.clone()) {
                Ok(project) => deliver(project),
                Err(error) => outbox.warn(format!("cannot load project: {error}")),
            }
        }
    }
    found
}

/// Test builds only: [`load_projects`] collected.
#[cfg(test)]
pub fn load_all(folders: &[PathBuf], settings: &Settings, outbox: &Outbox) -> Vec<Project> {
    let mut loaded = Vec::new();
    load_projects(folders, settings, outbox, &mut |_| true, &mut |project| loaded.push(project));
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

#[cfg(test)]
mod tests {
    use tower_lsp_server::ls_types::{Range, TextDocumentContentChangeEvent};

    use super::*;
    use crate::lsp::outbox::{OutboxQueue, Outgoing};

    const APP: &str = "import boto3\n\ndef handler():\n    return boto3.resource('dynamodb').Table('t').scan()\n";

    fn session_with_project() -> (Session, OutboxQueue, tempfile::TempDir, Uri) {
        session_with_files(APP, None)
    }

    /// A session with a loaded project of `app` (and `config`, when given,
    /// as .chalice/config.json), and the URI of its app.py.
    fn session_with_files(app: &str, config: Option<&str>) -> (Session, OutboxQueue, tempfile::TempDir, Uri) {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().canonicalize().unwrap();
        std::fs::write(root.join("app.py"), app).unwrap();
        if let Some(config) = config {
            std::fs::create_dir(root.join(".chalice")).unwrap();
            std::fs::write(root.join(".chalice/config.json"), config).unwrap();
        }
        let (outbox, queue) = Outbox::new();
        let mut session = Session::new(outbox.clone());
        session.set_folders(vec![root.clone()]);
        session.add_loaded_projects(load_all(std::slice::from_ref(&root), &Settings::default(), &outbox));
        let uri = convert::file_uri(&root.join("app.py")).unwrap();
        (session, queue, dir, uri)
    }

    /// (version, messages) of every app.py publish queued so far.
    fn published(queue: &mut OutboxQueue, uri: &Uri) -> Vec<(Option<i32>, Vec<String>)> {
        let mut found = Vec::new();
        while let Ok(message) = queue.try_recv() {
            if let Outgoing::Diagnostics(file) = message {
                if file.uri == *uri {
                    found.push((file.version, file.diagnostics.iter().map(|d| d.message.clone()).collect()));
                }
            }
        }
        found
    }

    fn replace(session: &mut Session, uri: &Uri, version: i32, old: &str, new: &str) {
        let text = session.documents.get(uri).unwrap().text().to_owned();
        let start = text.find(old).unwrap();
        let index = LineIndex::new(&text);
        let range = Range::new(
            index.position(&text, start, PositionEncoding::Utf8),
            index.position(&text, start + old.len(), PositionEncoding::Utf8),
        );
        let change = TextDocumentContentChangeEvent { range: Some(range), range_length: None, text: new.to_owned() };
        session.documents.get_mut(uri).unwrap().apply_changes(version, &[change], PositionEncoding::Utf8);
        session.document_changed(uri);
    }

    #[test]
    fn a_burst_of_changes_is_computed_and_published_once() {
        let (mut session, mut queue, _dir, uri) = session_with_project();
        session.publish_stale();
        let on_disk = published(&mut queue, &uri);
        assert_eq!(on_disk.len(), 1);
        assert_eq!(on_disk[0].0, None);

        session.open_document(Document::new(uri.clone(), "python", APP.to_owned(), 1));
        replace(&mut session, &uri, 2, "scan", "query");
        replace(&mut session, &uri, 3, "query", "get_item");
        replace(&mut session, &uri, 4, "get_item", "put_item");
        // Nothing is computed until the diagnostics task runs...
        assert_eq!(published(&mut queue, &uri), []);
        session.publish_stale();
        // ...and then once, for the latest text.
        let after = published(&mut queue, &uri);
        assert_eq!(after.len(), 1, "{after:?}");
        assert_eq!(after[0].0, Some(4));
        assert!(after[0].1[0].starts_with("dynamodb:PutItem"), "{after:?}");
        // Nothing changed since: nothing more to send.
        session.publish_stale();
        assert_eq!(published(&mut queue, &uri), []);
    }

    /// The last list published for `uri` in `queue`, if any.
    fn last_list(queue: &mut OutboxQueue, uri: &Uri) -> Option<Arc<DiagnosticList>> {
        let mut last = None;
        while let Ok(message) = queue.try_recv() {
            if let Outgoing::Diagnostics(file) = message {
                if file.uri == *uri {
                    last = Some(file.diagnostics);
                }
            }
        }
        last
    }

    /// Each keystroke's publish takes the diagnostics it gave before as they
    /// were converted, when the engine gives them again at the same place
    /// with the same fixes: what it publishes, texts included, is what a
    /// session opening that text afresh publishes. The keystrokes change a
    /// message at the same place (`get_item` to `put_item`), the client
    /// call whose grant every fix keeps, move diagnostics along a line and
    /// down the file, and change the config.json the fixes edit.
    #[test]
    fn each_publish_is_what_a_fresh_session_publishes() {
        let app = "import boto3\n\n# café 日本\ndef handler():\n    t = boto3.resource('dynamodb').Table('t')\n    t.get_item(Key={})\n    return t.scan()\n\ndef other():\n    return boto3.resource('s3').Bucket('b').delete()\n\ndef third():\n    return boto3.client('sqs').list_queues()\n";
        let config = r#"{ "version": "2.0", "app_name": "a", "stages": { "dev": {} } }"#;
        let project = |text: &str, config: &str| {
            let (mut session, queue, dir, uri) = session_with_files(text, Some(config));
            session.open_document(Document::new(uri.clone(), "python", text.to_owned(), 1));
            (session, queue, dir, uri)
        };
        let (mut session, mut queue, dir, uri) = project(app, config);
        session.publish_stale();
        let steps: [(&str, &str); 9] = [
            ("get_item", "put_item"),
            // A call chalice sees: what its role grants, and so the policy
            // file every fix seeds, changes.
            ("list_queues", "purge_queue"),
            ("# café", "# cafés"),
            ("    t = ", "    tt = "),
            ("    tt = ", "    t = "),
            ("import boto3\n", "import boto3\n\n"),
            ("put_item", "get_item"),
            ("delete()", "delete( )"),
            ("\"dev\": {}", "\"dev\": { \"autogen_policy\": false }"),
        ];
        let mut compared = 0;
        for (i, (old, new)) in steps.into_iter().enumerate() {
            let config_now = if new.contains("autogen_policy") {
                let path = dir.path().canonicalize().unwrap().join(".chalice/config.json");
                let text = std::fs::read_to_string(&path).unwrap().replace(old, new);
                std::fs::write(&path, &text).unwrap();
                session.files_changed(&[FileEvent { path, kind: FileEventKind::Changed }]);
                text
            } else {
                replace(&mut session, &uri, 2 + i as i32, old, new);
                config.to_string()
            };
            session.publish_stale();
            let text = session.documents.get(&uri).unwrap().text().to_owned();
            let (mut fresh, mut fresh_queue, _fresh_dir, fresh_uri) = project(&text, &config_now);
            fresh.publish_stale();
            let (Some(ours), Some(theirs)) = (last_list(&mut queue, &uri), last_list(&mut fresh_queue, &fresh_uri)) else { continue };
            assert_eq!(**ours, **theirs, "step {i}: {old:?} -> {new:?}");
            for j in 0..ours.len() {
                assert_eq!(**ours.text(j), serde_json::to_string(&theirs[j]).unwrap(), "step {i}, diagnostic {j}");
            }
            compared += 1;
        }
        assert!(compared >= 8, "compared {compared} publishes");
    }

    #[test]
    fn data_dropped_by_the_client_is_found_again_among_the_published_diagnostics() {
        // With a config.json, so that the diagnostic carries a fix.
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().canonicalize().unwrap();
        std::fs::write(root.join("app.py"), APP).unwrap();
        std::fs::create_dir(root.join(".chalice")).unwrap();
        let config = r#"{ "version": "2.0", "app_name": "a", "stages": { "dev": {} } }"#;
        std::fs::write(root.join(".chalice/config.json"), config).unwrap();
        let (outbox, mut queue) = Outbox::new();
        let mut session = Session::new(outbox.clone());
        session.set_folders(vec![root.clone()]);
        session.add_loaded_projects(load_all(std::slice::from_ref(&root), &Settings::default(), &outbox));
        let uri = convert::file_uri(&root.join("app.py")).unwrap();
        session.publish_stale();
        let mut published = None;
        while let Ok(message) = queue.try_recv() {
            if let Outgoing::Diagnostics(file) = message {
                if file.uri == uri {
                    published = Some(file.diagnostics[0].clone());
                }
            }
        }
        let published = published.expect("app.py published");
        assert!(published.data.is_some());

        // As a client without dataSupport sends it back: no data, and the
        // range in other columns.
        let mut sent = (*published).clone();
        sent.data = None;
        sent.range.end.character += 7;
        assert_eq!(session.published_data(&uri, &sent), published.data);

        sent.message.push_str(" (edited)");
        assert_eq!(session.published_data(&uri, &sent), None);
        let elsewhere = convert::file_uri(Path::new("/nowhere/app.py")).unwrap();
        assert_eq!(session.published_data(&elsewhere, &published), None);
    }

    #[test]
    fn requests_see_changes_not_yet_published() {
        let (mut session, _queue, dir, uri) = session_with_project();
        session.open_document(Document::new(uri.clone(), "python", APP.to_owned(), 1));
        replace(&mut session, &uri, 2, "scan", "query");
        let root = dir.path().canonicalize().unwrap();
        let policy = session.policy_json(&root).unwrap();
        assert!(policy.contains("dynamodb:Query") && !policy.contains("dynamodb:Scan"), "{policy}");
    }

    #[test]
    fn closing_brings_back_the_disk_text() {
        let (mut session, _queue, dir, uri) = session_with_project();
        let root = dir.path().canonicalize().unwrap();
        session.open_document(Document::new(uri.clone(), "python", APP.replace("scan", "query"), 1));
        assert!(session.policy_json(&root).unwrap().contains("dynamodb:Query"));
        replace(&mut session, &uri, 2, "query", "get_item");
        session.close_document(&uri);
        let policy = session.policy_json(&root).unwrap();
        assert!(policy.contains("dynamodb:Scan") && !policy.contains("GetItem"), "{policy}");
    }

    #[test]
    fn clearing_an_open_document_carries_its_version() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().canonicalize().unwrap();
        let config = r#"{"stages": {"dev": {"autogen_policy": false, "iam_policy_file": "p.json"}}}"#;
        let policy = r#"{"Statement": [{"Effect": "Allow", "Action": "s3:NoSuchAction", "Resource": "*"}]}"#;
        std::fs::write(root.join("app.py"), APP).unwrap();
        std::fs::create_dir(root.join(".chalice")).unwrap();
        std::fs::write(root.join(".chalice/config.json"), config).unwrap();
        std::fs::write(root.join(".chalice/p.json"), policy).unwrap();
        let (outbox, mut queue) = Outbox::new();
        let mut session = Session::new(outbox.clone());
        session.set_folders(vec![root.clone()]);
        session.add_loaded_projects(load_all(std::slice::from_ref(&root), &Settings::default(), &outbox));
        let policy_uri = convert::file_uri(&root.join(".chalice/p.json")).unwrap();
        let config_uri = convert::file_uri(&root.join(".chalice/config.json")).unwrap();
        session.open_document(Document::new(policy_uri.clone(), "json", policy.to_owned(), 3));
        session.open_document(Document::new(config_uri.clone(), "json", config.to_owned(), 1));
        session.publish_stale();
        let before = published(&mut queue, &policy_uri);
        assert_eq!(before.len(), 1, "{before:?}");
        assert_eq!(before[0].0, Some(3));
        assert!(before[0].1[0].contains("s3:NoSuchAction"), "{before:?}");

        // Autogen back on: the policy file is no longer read, and its
        // diagnostics are cleared for the version the editor has.
        replace(&mut session, &config_uri, 2, "false", "true");
        session.publish_stale();
        assert_eq!(published(&mut queue, &policy_uri), [(Some(3), Vec::<String>::new())]);
    }

    /// A document opened while a background load reads its project does
    /// not read it a second time: it gets the project, with its open text,
    /// when the load hands it over, unless a request about it comes first.
    /// One the load fails to bring is read once no load runs; and a load
    /// does not read again a project a document opened before it already
    /// loaded.
    #[test]
    fn a_document_opened_during_a_background_load_waits_for_its_project() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().canonicalize().unwrap();
        std::fs::write(root.join("app.py"), APP).unwrap();
        let uri = convert::file_uri(&root.join("app.py")).unwrap();
        let open = |session: &mut Session| {
            let text = APP.replace("scan()", "query()");
            session.open_document(Document::new(uri.clone(), "python", text, 1));
        };
        let (outbox, mut queue) = Outbox::new();

        let mut session = Session::new(outbox.clone());
        session.set_folders(vec![root.clone()]);
        session.project_load_started();
        assert!(session.claim_for_loading(&root));
        open(&mut session);
        assert!(session.projects.is_empty(), "the open read the project the load is reading");
        session.add_loaded_project(Project::load(&root, Settings::default()).unwrap());
        session.finish_load(std::slice::from_ref(&root));
        session.publish_stale();
        let first = published(&mut queue, &uri);
        assert!(matches!(first.as_slice(), [(Some(1), m)] if m.iter().any(|m| m.starts_with("dynamodb:Query"))), "{first:?}");

        // A request about the document while the load still reads its
        // project: the project is read for it at once.
        let mut session = Session::new(outbox.clone());
        session.set_folders(vec![root.clone()]);
        session.project_load_started();
        assert!(session.claim_for_loading(&root));
        open(&mut session);
        let line = "    return boto3.resource('dynamodb').Table('t').query()";
        let at = Position::new(3, line.find("query").unwrap() as u32 + 1);
        let hover = session.hover(&uri, at);
        assert!(hover.as_deref().is_some_and(|h| h.contains("dynamodb:Query")), "{hover:?}");
        session.add_loaded_project(Project::load(&root, Settings::default()).unwrap());
        session.finish_load(std::slice::from_ref(&root));
        session.publish_stale();
        assert_eq!(published(&mut queue, &uri).len(), 1);
        // So is a project a command names.
        let mut session = Session::new(outbox.clone());
        session.set_folders(vec![root.clone()]);
        session.project_load_started();
        assert!(session.claim_for_loading(&root));
        assert_eq!(session.project_named(root.to_str()), Some(root.clone()));

        // The load ends without the project (it could not read it).
        let mut session = Session::new(outbox.clone());
        session.set_folders(vec![root.clone()]);
        session.project_load_started();
        assert!(session.claim_for_loading(&root));
        open(&mut session);
        session.finish_load(&[]);
        assert!(session.projects.contains_key(&root));
        session.publish_stale();
        assert_eq!(published(&mut queue, &uri).len(), 1);

        // The document opened first: the load leaves the project alone.
        let mut session = Session::new(outbox.clone());
        session.set_folders(vec![root.clone()]);
        session.project_load_started();
        open(&mut session);
        assert!(session.projects.contains_key(&root));
        assert!(!session.claim_for_loading(&root));
    }

    /// A file that changes on disk while its project is read in the
    /// background is not lost when the project arrives; nor is a settings
    /// change.
    #[test]
    fn changes_during_a_background_load_are_not_lost() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().canonicalize().unwrap();
        std::fs::write(root.join("app.py"), "from chalicelib import db\n").unwrap();
        std::fs::create_dir(root.join("chalicelib")).unwrap();
        let db = root.join("chalicelib/db.py");
        std::fs::write(&db, "import boto3\n\ndef scan():\n    return boto3.resource('dynamodb').Table('t').scan()\n").unwrap();
        let (outbox, _queue) = Outbox::new();
        let mut session = Session::new(outbox.clone());
        session.set_folders(vec![root.clone()]);
        session.project_load_started();
        let loaded = load_all(std::slice::from_ref(&root), &Settings::default(), &outbox);
        // While the load was running: db.py changes, and the client says so.
        std::fs::write(&db, "import boto3\n\ndef scan():\n    return boto3.resource('dynamodb').Table('t').query()\n").unwrap();
        session.files_changed(&[FileEvent { path: db.clone(), kind: FileEventKind::Changed }]);
        session.add_loaded_projects(loaded);
        let policy = session.policy_json(&root).unwrap();
        assert!(policy.contains("dynamodb:Query") && !policy.contains("dynamodb:Scan"), "{policy}");

        // Settings changing during a load: the project is read with the new ones.
        let mut session = Session::new(outbox.clone());
        session.set_folders(vec![root.clone()]);
        session.project_load_started();
        let loaded = load_all(std::slice::from_ref(&root), &Settings::default(), &outbox);
        session.set_configured_settings(ClientSettings { stage: Some("prod".into()), ..ClientSettings::default() });
        session.add_loaded_projects(loaded);
        assert_eq!(session.projects[&root].project.settings.stage.as_deref(), Some("prod"));
    }
}
