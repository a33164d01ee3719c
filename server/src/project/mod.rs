//! A Chalice project on disk: its Python sources (texts and lowered IR),
//! its config and policy files, and everything computed from them.
//!
//! The CLI loads a project once; the language server keeps one per project
//! root and replaces single files as they change.

use std::collections::BTreeMap;
use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use crate::analysis::{self, EvalState, FileFacts, IrLayout, LoweredVersion, ModuleInput, ModuleIr, ProjectFacts};
use crate::background::Pending;
use crate::chalice;
use crate::python::ParsedFile;

mod stages;
mod workspace;

pub use workspace::{discover_projects, Diagnostics, Project, Settings};

/// Why a project could not be loaded.
#[derive(Debug)]
pub enum LoadError {
    NotFound(PathBuf),
    NotAProject(PathBuf),
    Io(PathBuf, std::io::Error),
}

impl fmt::Display for LoadError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            LoadError::NotFound(p) => write!(f, "{}: no such file or directory", p.display()),
            LoadError::NotAProject(p) => {
                write!(f, "{}: not a Chalice project (no app.py) and not a .py file", p.display())
            }
            LoadError::Io(p, e) => write!(f, "{}: {e}", p.display()),
        }
    }
}

/// One Python source of the project.
pub struct SourceFile {
    pub text: Arc<str>,
    pub ir: ModuleIr,
    /// Set when the text is not valid UTF-8 on disk (it was decoded lossily).
    pub lossy: bool,
    /// Set when the content is not text at all (NUL bytes, mostly invalid
    /// UTF-8): it is not parsed, since tree-sitter's error recovery on
    /// megabytes of noise takes seconds and finds nothing.
    pub binary: bool,
    /// For app.py: the module as `chalice deploy` imports it, shared by the
    /// deploy emulation of every stage (see [`SourceFile::imported`]).
    imported: Option<chalice::PendingImport>,
    /// For app.py with syntax errors: its tree (the one it was read from),
    /// from which the deploy emulation works out the importable rest of the
    /// file (see `stages::repair_app`) without parsing it again.
    pub broken_tree: Option<tree_sitter::Tree>,
    /// For app.py with syntax errors: the rest of it, imported (see
    /// `stages::repair_app_in_background`).
    repaired: Option<Pending<(Option<stages::RepairedApp>, Option<chalice::ImportMemo>)>>,
    /// For a text an editor changed: what lowering its next version starts
    /// from (see [`Sources::set_text`]).
    next_lowering: NextLowering,
    /// For a text read from an editor's tree with syntax errors: that tree,
    /// until a fresh parse is found to read the text the same way (see
    /// [`Unverified`]). Until then this version is provisional.
    unverified: Option<tree_sitter::Tree>,
    /// Set when a newer text replaces this one (see [`Unverified`]).
    replaced: Arc<std::sync::atomic::AtomicBool>,
}

/// A version of an edited file read from the editor's tree although it has
/// syntax errors. tree-sitter's error recovery may read a broken text
/// differently after an edit than when parsing it from scratch, and what is
/// reported must not depend on the order of keystrokes; but parsing a large
/// file from scratch takes tens of milliseconds, and in practice the edited
/// tree reads the text exactly as a fresh parse does. So the editor's tree
/// is used at once, a fresh parse is compared with it afterwards, off the
/// keystroke's path, and only when they differ is the file read again from
/// the fresh tree ([`workspace::Project::settle`]).
pub struct Unverified {
    pub path: PathBuf,
    text: Arc<str>,
    tree: tree_sitter::Tree,
    /// Set once a newer text of the file replaced this one.
    replaced: Arc<std::sync::atomic::AtomicBool>,
}

/// A provisional version's check found a newer text of the file in its
/// place, and stopped: the newer one, if provisional, has its own.
#[derive(Debug, PartialEq, Eq)]
pub struct Replaced;

impl Unverified {
    /// A fresh parse of the text, when it reads the text differently from
    /// the editor's tree; `None` when the editor's tree stands. Stops as
    /// soon as a newer text replaces this one: while the user types in
    /// broken code, each keystroke's check would otherwise parse a version
    /// already gone, beside the work on the current one.
    pub fn fresh_parse_if_different(&self) -> Result<Option<tree_sitter::Tree>, Replaced> {
        let replaced = || self.replaced.load(std::sync::atomic::Ordering::Relaxed);
        let fresh = crate::python::parse_unless(&self.text, replaced).ok_or(Replaced)?;
        if replaced() {
            return Err(Replaced);
        }
        Ok((!crate::python::same_reading(&self.tree, &fresh)).then_some(fresh))
    }
}

/// Where an editor's tree of a text comes from.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum TreeOrigin {
    /// Edited along with the text: with syntax errors, it stands only until
    /// a fresh parse is compared with it (see [`Unverified`]).
    Edited,
    /// A parse from scratch: it stands as it is.
    Fresh,
}

/// What lowering the next version of an edited file starts from.
enum NextLowering {
    /// Lowering from scratch (a file read from disk).
    Nothing,
    /// This version's own IR, taken apart by this layout.
    Layout(IrLayout),
    /// A version with syntax errors, lowered whole: the last version that
    /// had none, carried on.
    Carried(Option<LoweredVersion>),
}

/// What lowering and importing one version of an edited file leave for
/// the next version: the top-level statements whose text is unchanged are
/// neither lowered nor converted for chalice's import again.
#[derive(Default)]
pub struct EditMemos {
    lowering: Option<LoweredVersion>,
    import: chalice::ImportMemo,
}

impl SourceFile {
    /// Decodes and lowers a file's bytes; `as_app` is the Python version to
    /// import it with when it is app.py.
    pub fn from_bytes(bytes: Vec<u8>, as_app: Option<(u8, u8)>) -> SourceFile {
        let (text, lossy) = match String::from_utf8(bytes) {
            Ok(s) => (s, false),
            Err(e) => (String::from_utf8_lossy(e.as_bytes()).into_owned(), true),
        };
        SourceFile::lowered(text.into(), None, lossy, as_app, None, TreeOrigin::Fresh)
    }

    /// Lowers a new version of an edited file from the editor's `tree` of
    /// it (see [`TreeOrigin`]), or parsing it when there is none, with what
    /// the previous version left (see [`Self::into_memos`]); see
    /// [`Self::from_bytes`] for `as_app`.
    pub fn from_edited_text(text: Arc<str>, tree: Option<&tree_sitter::Tree>, origin: TreeOrigin, as_app: Option<(u8, u8)>, memos: EditMemos) -> SourceFile {
        SourceFile::lowered(text, tree, false, as_app, Some(memos), origin)
    }

    /// What this version leaves for lowering and importing the next one.
    /// An import still running leaves nothing; it is not waited for.
    pub fn into_memos(self) -> EditMemos {
        // A version with syntax errors is imported by its repair, which
        // then holds the memo.
        let repaired = self.repaired.and_then(Pending::into_finished).and_then(|(_, memo)| memo);
        let import = repaired.or_else(|| self.imported.and_then(Pending::into_finished).and_then(|(_, memo)| memo));
        let lowering = match self.next_lowering {
            NextLowering::Nothing => None,
            NextLowering::Layout(layout) => Some(LoweredVersion { text: self.text, ir: self.ir, layout }),
            NextLowering::Carried(version) => version,
        };
        EditMemos { lowering, import: import.unwrap_or_default() }
    }

    fn lowered(
        text: Arc<str>,
        tree: Option<&tree_sitter::Tree>,
        lossy: bool,
        as_app: Option<(u8, u8)>,
        memos: Option<EditMemos>,
        origin: TreeOrigin,
    ) -> SourceFile {
        if looks_binary(&text) {
            return SourceFile {
                text,
                ir: ModuleIr::default(),
                lossy,
                binary: true,
                imported: None,
                broken_tree: None,
                repaired: None,
                next_lowering: NextLowering::Nothing,
                unverified: None,
                replaced: Arc::default(),
            };
        }
        // An edited text keeps its tree-sitter tree: the memos hold what
        // lowering and the import made of its top-level statements, which
        // are found in it. A module only lowered is read into a flat syntax
        // tree in a one-shot run, since reading and lowering that costs less
        // than lowering from tree-sitter's tree; the language server lowers
        // it from tree-sitter's tree, which leaves its long-lived values on
        // fewer pages (12 MB less resident with the 50,000-line benchmark
        // project open).
        let keep_tree = memos.is_some() || (as_app.is_none() && !crate::process::is_one_shot());
        // An editor's tree with syntax errors is used provisionally (see
        // [`Unverified`]). Cloning a tree only takes a reference to it.
        let unverified = tree.filter(|t| origin == TreeOrigin::Edited && t.root_node().has_error()).cloned();
        let parsed = match tree {
            Some(t) => ParsedFile::whole(t.clone(), keep_tree),
            None => ParsedFile::parse(&text, keep_tree),
        };
        let (previous_lowering, import_memo) = match memos {
            Some(EditMemos { lowering, import }) => (Some(lowering), Some(import)),
            None => (None, None),
        };
        let broken_tree = match &parsed {
            ParsedFile::Tree(tree) if as_app.is_some() && tree.root_node().has_error() => Some(tree.clone()),
            _ => None,
        };
        // The import of a text with syntax errors fails at once; the import
        // of the rest of it (the repair) is the one that converts, so it
        // gets the memo.
        let (import_memo, repair_memo) = if broken_tree.is_some() { (None, import_memo) } else { (import_memo, None) };
        // chalice's import walks the same trees a second way, on its own
        // thread: it runs while this one lowers the file and, often, while
        // the project's inference runs (only the deploy emulation waits).
        let imported = as_app.map(|python_version| chalice::import_app_in_background(text.clone(), parsed.clone(), python_version, import_memo));
        let repaired = as_app
            .zip(broken_tree.clone())
            .map(|(python_version, tree)| stages::repair_app_in_background(text.clone(), tree, python_version, repair_memo));
        let (ir, next_lowering) = match previous_lowering {
            Some(previous) => {
                let (ir, next) = analysis::lower_edited(&parsed, &text, previous);
                (ir, next.map_or_else(NextLowering::Carried, NextLowering::Layout))
            }
            None => (analysis::lower_parsed(&parsed, &text), NextLowering::Nothing),
        };
        SourceFile { text, ir, lossy, binary: false, imported, broken_tree, repaired, next_lowering, unverified, replaced: Arc::default() }
    }

    /// This version, marked replaced by a newer text (see [`Unverified`]).
    fn replaced(self) -> SourceFile {
        self.replaced.store(true, std::sync::atomic::Ordering::Relaxed);
        self
    }

    /// Whether this is the provisional version `checked` was taken from.
    pub(crate) fn is_version(&self, checked: &Unverified) -> bool {
        Arc::ptr_eq(&self.text, &checked.text) && self.unverified.is_some()
    }

    /// A fresh parse reads this version as its editor's tree does.
    pub(crate) fn verified(&mut self) {
        self.unverified = None;
    }

    /// For app.py, the module as `chalice deploy` imports it; waits for the
    /// import if it is still running.
    pub fn imported(&self) -> Option<&Arc<chalice::ImportedApp>> {
        self.imported.as_ref().map(|pending| &pending.get().0)
    }

    /// For app.py with syntax errors, the rest of it imported, when its
    /// broken blocks could be blanked; waits for the repair if it is still
    /// running.
    fn repaired(&self) -> Option<&stages::RepairedApp> {
        self.repaired.as_ref().and_then(|pending| pending.get().0.as_ref())
    }
}

/// NUL bytes, or more than one character in twenty replaced while decoding.
fn looks_binary(text: &str) -> bool {
    if text.contains('\0') {
        return true;
    }
    // Asked at every keystroke: a search for the replacement character
    // first (a byte search), and characters counted only when there is one.
    if !text.contains('\u{fffd}') {
        return false;
    }
    let replaced = text.chars().filter(|&c| c == '\u{fffd}').count();
    replaced * 20 > text.chars().count()
}

/// The Python side of a project: `app.py` and every module under
/// `chalicelib/`, keyed by path relative to the root (always `/`-separated).
pub struct Sources {
    pub root: PathBuf,
    /// `Some` when the project is a lone `.py` file analysed as `app.py`.
    pub single_file: Option<PathBuf>,
    pub files: BTreeMap<String, SourceFile>,
    /// Files of the project that could not be read, with the reason; the
    /// rest of the project is still analysed.
    pub unreadable: Vec<(String, String)>,
    /// The Python version app.py is imported with (see [`SourceFile`]).
    pub python_version: (u8, u8),
}

impl Sources {
    /// Loads a project from a directory (app.py + chalicelib) or a single
    /// `.py` file (treated as the app.py of a project with no config).
    pub fn load(path: &Path, python_version: (u8, u8)) -> Result<Sources, LoadError> {
        Sources::load_with(path, python_version, false).map(|(sources, _)| sources)
    }

    /// [`Self::load`], and [`Self::analyze`]'s facts of a directory's files
    /// worked out while they are read (`None` for a single file, or when a
    /// file could not be read): the inference runs on this thread, each
    /// module as soon as it is lowered, beside the threads that read the
    /// rest (see [`analysis::analyze_arriving`]). For one-shot commands: on
    /// the 50,000-line benchmark project, the inference (15 ms on one core)
    /// otherwise runs alone after the last file is read.
    pub fn load_analyzed(path: &Path, python_version: (u8, u8)) -> Result<(Sources, Option<ProjectFacts>), LoadError> {
        Sources::load_with(path, python_version, true)
    }

    fn load_with(path: &Path, python_version: (u8, u8), analyze: bool) -> Result<(Sources, Option<ProjectFacts>), LoadError> {
        let meta = std::fs::metadata(path).map_err(|e| match e.kind() {
            std::io::ErrorKind::NotFound => LoadError::NotFound(path.to_path_buf()),
            _ => LoadError::Io(path.to_path_buf(), e),
        })?;
        if meta.is_file() {
            if path.extension().and_then(|e| e.to_str()) != Some("py") {
                return Err(LoadError::NotAProject(path.to_path_buf()));
            }
            let root = path.parent().map(Path::to_path_buf).unwrap_or_default();
            let mut files = BTreeMap::new();
            files.insert("app.py".to_string(), read_source(path, Some(python_version))?);
            return Ok((Sources { root, single_file: Some(path.to_path_buf()), files, unreadable: Vec::new(), python_version }, None));
        }
        let app = path.join("app.py");
        // Anything named app.py counts (and then must be readable): a FIFO
        // or a dangling link is an error to report, not a missing file.
        let has_app = std::fs::symlink_metadata(&app).is_ok();
        let has_config = std::fs::symlink_metadata(path.join(".chalice").join("config.json")).is_ok();
        if !has_app && !has_config {
            return Err(LoadError::NotAProject(path.to_path_buf()));
        }
        let (loaded, facts) = read_files(path, has_app, python_version, analyze);
        let mut files = BTreeMap::new();
        let mut unreadable = Vec::new();
        for (rel, source) in loaded {
            match source {
                Ok(source) => {
                    files.insert(rel, source);
                }
                // app.py must be readable: chalice cannot do without it.
                Err(e) if rel == "app.py" => return Err(e),
                Err(LoadError::Io(_, e)) => unreadable.push((rel, e.to_string())),
                Err(e) => unreadable.push((rel, e.to_string())),
            }
        }
        Ok((Sources { root: path.to_path_buf(), single_file: None, files, unreadable, python_version }, facts))
    }

    /// The absolute path of a project-relative file.
    pub fn path_of(&self, rel: &str) -> PathBuf {
        match (&self.single_file, rel) {
            (Some(p), "app.py") => p.clone(),
            _ => self.root.join(rel),
        }
    }

    /// The project-relative key of an absolute path, if it is a Python file
    /// of this project (`app.py` or under `chalicelib/`).
    pub fn rel_path(&self, path: &Path) -> Option<String> {
        if let Some(single) = &self.single_file {
            return (single == path).then(|| "app.py".to_string());
        }
        let rel = path.strip_prefix(&self.root).ok()?;
        let rel = rel.to_str()?.replace('\\', "/");
        let is_ours = rel == "app.py" || (rel.starts_with("chalicelib/") && rel.ends_with(".py"));
        is_ours.then_some(rel)
    }

    /// The Python version to import `rel` with, if it is app.py.
    pub fn as_app(&self, rel: &str) -> Option<(u8, u8)> {
        (rel == "app.py").then_some(self.python_version)
    }

    /// Replaces (or adds) one file's text, lowering only that file, and of
    /// it only the top-level statements the edit changed. `tree` is the
    /// editor's tree of `text`, if it has one (see [`TreeOrigin`]).
    pub fn set_text(&mut self, rel: &str, text: Arc<str>, tree: Option<&tree_sitter::Tree>, origin: TreeOrigin) {
        let memos = self.files.remove(rel).map(SourceFile::replaced).map(SourceFile::into_memos).unwrap_or_default();
        self.files.insert(rel.to_string(), SourceFile::from_edited_text(text, tree, origin, self.as_app(rel), memos));
    }

    /// Whether a file's version is provisional (see [`Unverified`]).
    pub fn has_unverified(&self) -> bool {
        self.files.values().any(|file| file.unverified.is_some())
    }

    /// The provisional versions among the files (see [`Unverified`]).
    pub fn unverified(&self) -> impl Iterator<Item = Unverified> + '_ {
        self.files.iter().filter_map(|(rel, file)| {
            let tree = file.unverified.clone()?;
            Some(Unverified { path: self.path_of(rel), text: file.text.clone(), tree, replaced: file.replaced.clone() })
        })
    }

    pub fn remove(&mut self, rel: &str) {
        if let Some(file) = self.files.remove(rel) {
            file.replaced();
        }
    }

    /// Infers facts for every file together.
    pub fn analyze(&self) -> ProjectFacts {
        analysis::analyze(&self.module_inputs())
    }

    /// [`Self::analyze`] from the last analysis (see `analysis::analyze_again`).
    pub fn analyze_again(&self, previous: Option<(EvalState, ProjectFacts)>) -> (ProjectFacts, EvalState) {
        analysis::analyze_again(&self.module_inputs(), previous)
    }

    fn module_inputs(&self) -> Vec<ModuleInput<'_>> {
        self.files.iter().map(|(p, f)| ModuleInput { rel_path: p, ir: &f.ir, text: &f.text }).collect()
    }

    /// Facts per relative path, in path order.
    pub fn facts_by_path<'a>(&'a self, facts: &'a ProjectFacts) -> impl Iterator<Item = (&'a str, &'a SourceFile, &'a FileFacts)> {
        self.files.iter().zip(&facts.files).map(|((p, f), ff)| (p.as_str(), f, ff))
    }
}

/// What reading one file gave.
type Loaded = Result<SourceFile, LoadError>;

/// The most files whose facts are inferred while they are read. A larger
/// tree is inferred after the read, in groups of modules no import links
/// (`eval::parts`) on every core: the 1,000,000-line benchmark tree's 10,000
/// independent modules took 130 ms more, and 60 MB more memory, inferred
/// as one project on one thread while read.
const ANALYZED_WHILE_READ: usize = 2_000;

/// Reads, parses and lowers app.py (when `has_app`) and every module under
/// chalicelib/ on the pool's threads, in file order: app.py (usually the
/// largest file, and the only one imported for the deploy emulation too)
/// while chalicelib/ is walked, then the modules one after another. When
/// `analyze` (see [`Sources::load_analyzed`]), this thread meanwhile infers
/// the project's facts from each file as soon as it is read, for up to
/// [`ANALYZED_WHILE_READ`] files.
fn read_files(root: &Path, has_app: bool, python_version: (u8, u8), analyze: bool) -> (Vec<(String, Loaded)>, Option<ProjectFacts>) {
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::sync::OnceLock;
    let arrivals = Arrivals::default();
    let app: OnceLock<Loaded> = OnceLock::new();
    // Set once chalicelib/ is walked, and read by the pool's threads: they
    // outlive the scope, which only borrows them.
    let rels: OnceLock<Vec<String>> = OnceLock::new();
    let slots: OnceLock<Vec<OnceLock<Loaded>>> = OnceLock::new();
    // Files are handed out in order, so that the inference rarely waits.
    let next = AtomicUsize::new(0);
    let mut facts = None;
    rayon::in_place_scope(|scope| {
        if has_app {
            scope.spawn(|_| {
                let _told = arrivals.telling();
                let _ = app.set(read_source(&root.join("app.py"), Some(python_version)));
            });
        }
        let rels = rels.get_or_init(|| python_files_under(root, "chalicelib"));
        let slots = slots.get_or_init(|| rels.iter().map(|_| OnceLock::new()).collect());
        for _ in 0..rayon::current_num_threads() {
            scope.spawn(|_| loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                let Some(rel) = rels.get(i) else { return };
                let _told = arrivals.telling();
                let _ = slots[i].set(read_source(&root.join(rel), None));
            });
        }
        let paths: Vec<&str> = has_app.then_some("app.py").into_iter().chain(rels.iter().map(String::as_str)).collect();
        if !analyze || paths.len() > ANALYZED_WHILE_READ {
            return;
        }
        facts = analysis::analyze_arriving(&paths, |i| {
            let slot = match (has_app, i) {
                (true, 0) => &app,
                (true, i) => &slots[i - 1],
                (false, i) => &slots[i],
            };
            let file = arrivals.wait(slot)?.as_ref().ok()?;
            Some((&file.ir, &file.text))
        });
    });
    // Every reader is done: the scope waited for them.
    let mut loaded: Vec<(String, Loaded)> = Vec::new();
    if let Some(app) = app.into_inner() {
        loaded.push(("app.py".to_string(), app));
    }
    let (rels, slots) = (rels.into_inner().unwrap_or_default(), slots.into_inner().unwrap_or_default());
    loaded.extend(rels.into_iter().zip(slots).map(|(rel, slot)| (rel, slot.into_inner().expect("every file was read"))));
    (loaded, facts)
}

/// Files read by the pool's threads, waited for by the inference.
#[derive(Default)]
struct Arrivals {
    lock: std::sync::Mutex<()>,
    arrived: std::sync::Condvar,
    /// A reader panicked: what it was reading will never arrive.
    failed: std::sync::atomic::AtomicBool,
}

/// Wakes the inference when dropped, after a file was read or while its
/// reader unwinds.
struct Telling<'a>(&'a Arrivals);

impl Drop for Telling<'_> {
    fn drop(&mut self) {
        if std::thread::panicking() {
            self.0.failed.store(true, std::sync::atomic::Ordering::Relaxed);
        }
        let _locked = self.0.lock.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        self.0.arrived.notify_all();
    }
}

impl Arrivals {
    fn telling(&self) -> Telling<'_> {
        Telling(self)
    }

    /// What `slot` holds once it is set; `None` when a reader panicked
    /// (the scope then passes the panic on).
    fn wait<'s, T>(&self, slot: &'s std::sync::OnceLock<T>) -> Option<&'s T> {
        let mut locked = self.lock.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        loop {
            if let Some(value) = slot.get() {
                return Some(value);
            }
            if self.failed.load(std::sync::atomic::Ordering::Relaxed) {
                return None;
            }
            locked = self.arrived.wait(locked).unwrap_or_else(std::sync::PoisonError::into_inner);
        }
    }
}

fn read_source(path: &Path, as_app: Option<(u8, u8)>) -> Result<SourceFile, LoadError> {
    let bytes = crate::files::read(path).map_err(|e| LoadError::Io(path.to_path_buf(), e))?;
    Ok(SourceFile::from_bytes(bytes, as_app))
}

/// `path` made absolute, with `.` and `..` resolved and symbolic links
/// followed for every part that exists, so that where it leads is where a
/// write would land. Parts that do not exist yet are taken as written.
pub fn resolved_path(path: &Path) -> PathBuf {
    resolved_within(path, 0)
}

fn resolved_within(path: &Path, links_followed: usize) -> PathBuf {
    use std::path::Component;
    let absolute = if path.is_absolute() {
        path.to_path_buf()
    } else {
        std::env::current_dir().map(|cwd| cwd.join(path)).unwrap_or_else(|_| path.to_path_buf())
    };
    // Resolving part by part below costs a system call per part per part
    // (a millisecond for a policy file on some file systems, and every
    // fix asks). The same answer, sooner: a path that exists is what the
    // system resolves it to; so is a missing last part (not even a
    // dangling link) under a parent that exists, joined to it.
    if let Ok(real) = std::fs::canonicalize(&absolute) {
        return real;
    }
    let parts: Vec<std::path::Component> = absolute.components().collect();
    if let [parent @ .., Component::Normal(name)] = parts.as_slice() {
        if std::fs::symlink_metadata(&absolute).is_err() {
            if let Ok(real) = std::fs::canonicalize(parent.iter().collect::<PathBuf>()) {
                return real.join(name);
            }
        }
    }
    resolved_part_by_part(&absolute, links_followed)
}

/// [`resolved_within`] for an absolute path, resolving one part at a time.
fn resolved_part_by_part(absolute: &Path, links_followed: usize) -> PathBuf {
    use std::path::Component;
    let mut out = PathBuf::new();
    for component in absolute.components() {
        match component {
            Component::Prefix(_) | Component::RootDir => out.push(component),
            Component::CurDir => {}
            // `out` is canonical while it exists, so its parent is the real
            // parent, not the directory a symlink sits in.
            Component::ParentDir => {
                out.pop();
            }
            Component::Normal(name) => {
                out.push(name);
                if let Ok(real) = std::fs::canonicalize(&out) {
                    out = real;
                } else if let Ok(target) = std::fs::read_link(&out) {
                    // A link to something that does not exist (yet): where
                    // it points is where a write through it would land.
                    // Links are followed a bounded number of times, as the
                    // system does, so a loop ends.
                    if links_followed < 40 {
                        out.pop();
                        out = resolved_within(&out.join(target), links_followed + 1);
                    }
                }
            }
        }
    }
    out
}

/// Whether `path` lies inside `root` (see [`resolved_path`]): a policy file
/// named `../shared.json`, or reached through a symbolic link to elsewhere,
/// does not, and chalice-iam reads it but never edits it.
pub fn is_inside(root: &Path, path: &Path) -> bool {
    resolved_path(path).starts_with(resolved_path(root))
}

/// Every `.py` entry under `root/dir` that is not a directory, as
/// `/`-separated relative paths, sorted. Symlinked directories are not
/// followed (a link loop in chalicelib must not hang us); unreadable
/// directories are skipped. Nothing is filtered by `.gitignore` and the
/// like: chalice packages chalicelib whole.
///
/// The directories are read on every core (`ignore`'s parallel walker): a
/// tree of ten thousand files in hundreds of packages is otherwise read one
/// directory at a time before any parsing starts.
pub fn python_files_under(root: &Path, dir: &str) -> Vec<String> {
    let base = root.join(dir);
    if !std::fs::metadata(&base).is_ok_and(|m| m.is_dir()) {
        return Vec::new();
    }
    let found = std::sync::Mutex::new(Vec::new());
    ignore::WalkBuilder::new(&base)
        .standard_filters(false)
        .follow_links(false)
        .filter_entry(|e| {
            // Below the walk's root: skip caches and hidden directories.
            let is_dir = e.file_type().is_some_and(|t| t.is_dir());
            let name = e.file_name().to_string_lossy();
            e.depth() == 0 || !is_dir || (name != "__pycache__" && !name.starts_with('.'))
        })
        .build_parallel()
        .run(|| {
            let (found, base) = (&found, &base);
            Box::new(move |entry| {
                let Ok(entry) = entry else { return ignore::WalkState::Continue };
                let is_dir = entry.file_type().is_none_or(|t| t.is_dir());
                // Files, links, and also FIFOs and devices: those cannot be
                // read, which is reported rather than skipped in silence.
                if !is_dir && entry.file_name().to_str().is_some_and(|n| n.ends_with(".py")) {
                    if let Some(rel) = entry.path().strip_prefix(base).ok().and_then(Path::to_str) {
                        let rel = format!("{dir}/{}", rel.replace('\\', "/"));
                        found.lock().unwrap_or_else(std::sync::PoisonError::into_inner).push(rel);
                    }
                }
                ignore::WalkState::Continue
            })
        });
    let mut out = found.into_inner().unwrap_or_else(std::sync::PoisonError::into_inner);
    out.sort();
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_reader_that_panics_does_not_leave_the_inference_waiting() {
        let arrivals = Arrivals::default();
        let slot: std::sync::OnceLock<u32> = std::sync::OnceLock::new();
        let mut waited = Some(Some(0));
        let outcome = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            rayon::in_place_scope(|scope| {
                scope.spawn(|_| {
                    let _told = arrivals.telling();
                    panic!("a reader failed");
                });
                waited = Some(arrivals.wait(&slot).copied());
            });
        }));
        assert!(outcome.is_err(), "the scope passes the reader's panic on");
        assert_eq!(waited, Some(None), "the inference gave up");
    }

    #[test]
    fn facts_inferred_while_reading_are_those_inferred_after() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        std::fs::create_dir_all(root.join("chalicelib/aws")).unwrap();
        let files = [
            ("app.py", "from chalice import Chalice\nfrom chalicelib import db\nfrom chalicelib.aws.queue import send\napp = Chalice(app_name='a')\n@app.route('/')\ndef index():\n    send(db.table().scan())\n"),
            ("chalicelib/__init__.py", ""),
            ("chalicelib/db.py", "import boto3\nfrom chalicelib.aws import queue\ndef table():\n    return boto3.resource('dynamodb').Table('t')\ndef later():\n    queue.client().purge_queue(QueueUrl='u')\n"),
            ("chalicelib/aws/queue.py", "import boto3\nfrom chalicelib.db import table\ndef client():\n    return boto3.client('sqs')\ndef send(items):\n    client().send_message(QueueUrl='u', MessageBody=str(items))\n    table().put_item(Item={})\n"),
        ];
        for (rel, text) in files {
            std::fs::write(root.join(rel), text).unwrap();
        }
        let (sources, facts) = Sources::load_analyzed(root, (3, 12)).unwrap();
        let facts = facts.expect("every file was read");
        assert_eq!(facts, sources.analyze());
        assert_eq!(facts.files.iter().map(|f| f.calls.len()).sum::<usize>(), 4, "{facts:#?}");
        // A file that cannot be read: the modules are not those walked, and
        // the facts are left to be inferred from the files read.
        std::os::unix::fs::symlink(root.join("missing.py"), root.join("chalicelib/gone.py")).unwrap();
        let (sources, facts) = Sources::load_analyzed(root, (3, 12)).unwrap();
        assert!(facts.is_none());
        assert_eq!(sources.unreadable.len(), 1);
        assert_eq!(sources.files.len(), 4);
        // No app.py, but a config: chalicelib alone.
        std::fs::remove_file(root.join("chalicelib/gone.py")).unwrap();
        std::fs::remove_file(root.join("app.py")).unwrap();
        std::fs::create_dir_all(root.join(".chalice")).unwrap();
        std::fs::write(root.join(".chalice/config.json"), "{}").unwrap();
        let (sources, facts) = Sources::load_analyzed(root, (3, 12)).unwrap();
        assert_eq!(facts.expect("every file was read"), sources.analyze());
        // A large tree is inferred after the read.
        for i in 0..ANALYZED_WHILE_READ {
            std::fs::write(root.join(format!("chalicelib/m{i}.py")), "x = 1\n").unwrap();
        }
        let (sources, facts) = Sources::load_analyzed(root, (3, 12)).unwrap();
        assert!(facts.is_none());
        assert_eq!(sources.files.len(), ANALYZED_WHILE_READ + 3);
    }

    #[test]
    fn python_files_are_found_as_before_the_parallel_walk() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().join("proj");
        let lib = dir.path().join("real-lib");
        for d in ["a/b", ".hidden", "__pycache__", "a/.venv"] {
            std::fs::create_dir_all(lib.join(d)).unwrap();
        }
        std::fs::create_dir_all(&root).unwrap();
        for f in ["x.py", "a/y.py", "a/b/z.py", ".dot.py", "notes.txt", ".hidden/h.py", "__pycache__/c.py", "a/.venv/v.py"] {
            std::fs::write(lib.join(f), "pass\n").unwrap();
        }
        // chalicelib itself through a link is read; links to directories
        // inside it are not followed (a loop must not hang the walk).
        std::os::unix::fs::symlink(&lib, root.join("chalicelib")).unwrap();
        std::os::unix::fs::symlink(lib.join("a"), lib.join("a/b/loop")).unwrap();
        std::os::unix::fs::symlink(lib.join("a"), lib.join("linked_dir.py")).unwrap();
        std::os::unix::fs::symlink(lib.join("missing.py"), lib.join("dangling.py")).unwrap();
        let fifo = std::ffi::CString::new(lib.join("pipe.py").as_os_str().as_encoded_bytes()).unwrap();
        assert_eq!(unsafe { libc::mkfifo(fifo.as_ptr(), 0o644) }, 0);
        assert_eq!(
            python_files_under(&root, "chalicelib"),
            [
                "chalicelib/.dot.py",
                "chalicelib/a/b/z.py",
                "chalicelib/a/y.py",
                "chalicelib/dangling.py",
                "chalicelib/linked_dir.py",
                "chalicelib/pipe.py",
                "chalicelib/x.py",
            ]
        );
        assert!(python_files_under(&root, "missing").is_empty());
    }

    #[test]
    fn inside_resolves_dot_dot_and_symbolic_links() {
        let dir = tempfile::tempdir().unwrap();
        let base = dir.path().canonicalize().unwrap();
        let root = base.join("proj");
        std::fs::create_dir_all(root.join(".chalice")).unwrap();
        std::fs::create_dir_all(base.join("elsewhere")).unwrap();
        std::os::unix::fs::symlink(base.join("elsewhere"), root.join(".chalice/linked-dir")).unwrap();
        std::os::unix::fs::symlink(base.join("elsewhere/p.json"), root.join(".chalice/linked.json")).unwrap();
        std::os::unix::fs::symlink(root.join(".chalice"), base.join("alias")).unwrap();

        assert!(is_inside(&root, &root.join(".chalice/policy-dev.json")));
        assert!(is_inside(&root, &root.join(".chalice/../policy.json")));
        assert!(is_inside(&root, &root.join(".chalice/new/dir/p.json")));
        assert!(!is_inside(&root, &root.join(".chalice/../../outside.json")));
        assert!(!is_inside(&root, Path::new("/etc/passwd")));
        // Through a link to a directory outside, existing or not below it.
        assert!(!is_inside(&root, &root.join(".chalice/linked-dir/p.json")));
        // A dangling link is followed to where a write would land.
        assert!(!is_inside(&root, &root.join(".chalice/linked.json")));
        // `..` after a link goes to the link target's parent.
        assert!(!is_inside(&root, &root.join(".chalice/linked-dir/../elsewhere/p.json")));
        // A root named through a link is the same root.
        assert!(is_inside(&base.join("alias/.."), &root.join("app.py")));
        // A missing part followed by `..` stays lexical.
        assert!(is_inside(&root, &root.join("missing/../.chalice/p.json")));
        assert!(!is_inside(&root, &root.join("missing/../../x.json")));

        // The quick answers for existing paths and missing last parts are
        // those of resolving part by part.
        std::fs::write(root.join("file"), "").unwrap();
        std::os::unix::fs::symlink("nowhere", root.join(".chalice/dangling")).unwrap();
        for rel in [
            "", "app.py", ".chalice", ".chalice/policy-dev.json", ".chalice/../policy.json", ".chalice/new/dir/p.json",
            ".chalice/../../outside.json", ".chalice/linked-dir/p.json", ".chalice/linked.json", ".chalice/linked-dir/../elsewhere/p.json",
            "missing/../.chalice/p.json", "missing/../../x.json", "file", "file/below", ".chalice/dangling", ".chalice/dangling/x",
            ".chalice/./p.json", ".chalice/linked-dir/..", "./.chalice/../.chalice",
        ] {
            let path = root.join(rel);
            assert_eq!(resolved_path(&path), resolved_part_by_part(&path, 0), "{rel}");
        }
        assert_eq!(resolved_path(&base.join("alias/../proj")), resolved_part_by_part(&base.join("alias/../proj"), 0));
    }
}
