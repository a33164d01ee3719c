//! A whole Chalice project as the CLI and the language server use it:
//! Python sources (with editor overlays), config and policy files, the
//! analysis over them, and the diagnostics.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, OnceLock, PoisonError};

use crate::analysis::{Construct, EvalState, ProjectFacts, TextEdit, TextRange};
use crate::diagnostics::check::{self, CallMemo, CallMemoUse, CheckInput, FixMemo, StageView};
use crate::diagnostics::{codes, Diagnostic, Severity};
use crate::policy;
use crate::python::queries;

use super::{LoadError, Sources, TreeOrigin, Unverified};

/// User settings (CLI flags, LSP initializationOptions/configuration).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Settings {
    /// Check only this stage; `None` checks every stage in config.json.
    pub stage: Option<String>,
    /// The Python version chalice runs under (it changes what chalice's
    /// analyzer captures).
    pub python_version: (u8, u8),
    /// Per-code severity overrides; `None` turns a code off.
    pub severities: HashMap<String, Option<Severity>>,
}

impl Default for Settings {
    fn default() -> Self {
        Settings { stage: None, python_version: (3, 12), severities: HashMap::new() }
    }
}

pub struct Project {
    pub sources: Sources,
    pub settings: Settings,
    /// Editor texts of JSON files (config, policy files) that override disk.
    json_overlays: BTreeMap<PathBuf, String>,
    /// With [`Project::with_snapshot`]: each JSON file's text as first read.
    json_snapshot: Option<Mutex<HashMap<PathBuf, Option<String>>>>,
    facts: OnceLock<ProjectFacts>,
    /// The language server's last evaluation, and, once a change made its
    /// facts out of date, that evaluation with its facts: what analysing the
    /// next version starts from (`analysis::analyze_again`).
    evaluated: Mutex<Option<EvalState>>,
    previous: Mutex<Option<(EvalState, ProjectFacts)>>,
    /// The fixes of the last check, for the next one (`check::FixMemo`).
    fix_memo: FixMemo,
    /// Each call site's diagnostics in the last check, for the next one
    /// (`check::CallMemo`).
    call_memo: CallMemo,
    /// Numbers the stage views each check builds (see [`StagesRead`]).
    stage_generations: std::sync::atomic::AtomicU64,
    /// The language server's last check, for the next one (see
    /// [`Project::diagnostics`]).
    last_check: Mutex<Option<LastCheck>>,
    /// While the language server checks: every JSON file read, and what was
    /// read.
    json_reads: Mutex<Option<BTreeMap<PathBuf, Option<String>>>>,
    /// How many times the facts were evaluated again (`analyze_again`).
    evaluations: std::sync::atomic::AtomicUsize,
    /// How many checks gave the last one's diagnostics, moved.
    moved_checks: std::sync::atomic::AtomicUsize,
    /// How many checks used the last one's stage views, moved.
    reused_stage_views: std::sync::atomic::AtomicUsize,
}

/// What a check was computed from, and what it found. A keystroke that
/// changes nothing the check reads but places (a name typed that no boto3
/// call depends on, a comment, a string the analysis does not read) gets
/// the same diagnostics, moved with the text: see
/// [`Project::diagnostics`].
struct LastCheck {
    /// Each Python file's text, in the order of `sources.files`.
    texts: Vec<(String, Arc<str>)>,
    unreadable: Vec<(String, String)>,
    /// Every JSON file the check read (config.json, policy files), with
    /// what it read: `None` when missing or unreadable.
    json: BTreeMap<PathBuf, Option<String>>,
    /// app.py as chalice imports it.
    imported: Option<Arc<crate::chalice::ImportedApp>>,
    settings: Settings,
    /// [`Project::evaluations`] once its facts were evaluated: the next
    /// evaluation's report ([`EvalState::facts_moved_only`]) compares with
    /// this check's facts only if no other evaluation came between (a hover
    /// on a version never checked, say).
    evaluation: usize,
    /// Shared with the caller, who is done with them by the next check.
    diagnostics: Arc<Diagnostics>,
    /// The stage views the check was made against, for the next check's
    /// (see [`Project::stages_reused`]); `None` when it made none.
    stages: Option<StagesRead>,
}

/// The stage views a check built, the problems found building them, and
/// the actions the code needed then (from which the policy files' unused
/// actions and the fix creating a missing one were worked out).
struct StagesRead {
    /// Views used again keep their number; views built anew get the next.
    generation: u64,
    needed: BTreeSet<String>,
    views: Vec<StageView>,
    problems: Vec<Diagnostic>,
    /// The edits of Python files since (checks that moved the diagnostics
    /// before them), in order: applied to the ranges only when the views
    /// are used again, rather than at every keystroke.
    edits: Vec<FileTextEdit>,
}

/// An edit of a Python file of the project.
struct FileTextEdit {
    path: PathBuf,
    /// Its place in `sources.files`.
    module: usize,
    /// Whether the file is the project's app.py, where the handlers are.
    is_app: bool,
    edit: TextEdit,
}

/// Edits kept in a [`StagesRead`] before the views are dropped instead.
const MAX_STAGE_EDITS: usize = 256;

impl StagesRead {
    /// These views and problems with every range moved by the edits since,
    /// and then by `last`, and those edits (module index, edit): every range
    /// in an edited file (a handler's `def` line, a problem in app.py) must
    /// lie clear of each edit. `None` when one does not.
    fn moved(mut self, last: Option<FileTextEdit>) -> Option<(StagesRead, Vec<(usize, TextEdit)>)> {
        let mut edits = std::mem::take(&mut self.edits);
        edits.extend(last);
        let place = |mut range: TextRange, applies: &dyn Fn(&FileTextEdit) -> bool| {
            for e in edits.iter().filter(|e| applies(e)) {
                range = e.edit.clear_of(range).then(|| e.edit.map(range)).flatten()?;
            }
            Some(range)
        };
        for function in self.views.iter_mut().flat_map(|view| &mut view.functions) {
            function.range = place(function.range, &|e| e.is_app)?;
        }
        for d in &mut self.problems {
            d.range = place(d.range, &|e| *d.path == *e.path)?;
        }
        let edits = edits.iter().map(|e| (e.module, e.edit)).collect();
        Some((self, edits))
    }
}

/// The one file a keystroke edited (see [`Project::edit_since`]).
struct SingleEdit<'p> {
    rel: &'p str,
    /// Its place in `sources.files`.
    index: usize,
    file: &'p super::SourceFile,
    edit: TextEdit,
}

/// A project's diagnostics, by file.
pub type Diagnostics = BTreeMap<PathBuf, Vec<Diagnostic>>;

fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

/// Folders under `folder` (itself included) that are Chalice projects:
/// they have `app.py` or `.chalice/config.json`. Virtualenvs, `.git`,
/// `node_modules` and hidden folders are skipped; depth is bounded.
pub fn discover_projects(folder: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![(folder.to_path_buf(), 0)];
    while let Some((dir, depth)) = stack.pop() {
        if dir.join("app.py").is_file() || dir.join(".chalice").join("config.json").is_file() {
            out.push(dir.clone());
            continue; // a project's chalicelib is not another project
        }
        if depth >= 6 {
            continue;
        }
        let Ok(entries) = std::fs::read_dir(&dir) else { continue };
        for e in entries.flatten() {
            let name = e.file_name();
            let name = name.to_string_lossy();
            let skip = name.starts_with('.') || matches!(name.as_ref(), "node_modules" | "venv" | "__pycache__" | "target" | "site-packages");
            if !skip && e.file_type().is_ok_and(|t| t.is_dir()) {
                stack.push((e.path(), depth + 1));
            }
        }
    }
    out.sort();
    out
}

impl Project {
    pub fn load(root: &Path, settings: Settings) -> Result<Project, LoadError> {
        // A one-shot command infers the facts while the files are read: it
        // checks once, and with these sources.
        let (sources, facts) = match crate::process::is_one_shot() {
            true => Sources::load_analyzed(root, settings.python_version)?,
            false => (Sources::load(root, settings.python_version)?, None),
        };
        Ok(Project {
            sources,
            facts: facts.map(OnceLock::from).unwrap_or_default(),
            settings,
            json_overlays: BTreeMap::new(),
            json_snapshot: None,
            evaluated: Mutex::new(None),
            previous: Mutex::new(None),
            fix_memo: FixMemo::default(),
            call_memo: CallMemo::default(),
            stage_generations: std::sync::atomic::AtomicU64::new(0),
            last_check: Mutex::new(None),
            json_reads: Mutex::new(None),
            evaluations: std::sync::atomic::AtomicUsize::new(0),
            moved_checks: std::sync::atomic::AtomicUsize::new(0),
            reused_stage_views: std::sync::atomic::AtomicUsize::new(0),
        })
    }

    /// Reads each JSON file (config, policy files) from disk at most once:
    /// every later read sees the text of the first. For one-shot commands:
    /// `fix` then applies its edits to exactly the texts they were computed
    /// from, and can tell when a file changed before it writes.
    pub fn with_snapshot(mut self) -> Self {
        self.json_snapshot = Some(Mutex::new(HashMap::new()));
        self
    }

    pub fn root(&self) -> &Path {
        &self.sources.root
    }

    pub fn config_path(&self) -> Option<PathBuf> {
        if self.sources.single_file.is_some() {
            return None;
        }
        Some(self.sources.root.join(".chalice").join("config.json"))
    }

    /// Whether the language server should route `path` to this project: a
    /// Python file of it, or a JSON file under its `.chalice/`.
    pub fn contains(&self, path: &Path) -> bool {
        if self.sources.rel_path(path).is_some() {
            return true;
        }
        self.sources.single_file.is_none()
            && path.starts_with(self.sources.root.join(".chalice"))
            && path.extension().is_some_and(|e| e == "json")
    }

    /// Text of a JSON file of the project: the editor's if open, else disk.
    pub fn read_json(&self, path: &Path) -> Option<String> {
        let text = self.read_json_now(path);
        if let Some(reads) = lock(&self.json_reads).as_mut() {
            reads.insert(path.to_path_buf(), text.clone());
        }
        text
    }

    fn read_json_now(&self, path: &Path) -> Option<String> {
        if let Some(text) = self.json_overlays.get(path) {
            return Some(text.clone());
        }
        match &self.json_snapshot {
            Some(snapshot) => {
                let mut texts = snapshot.lock().unwrap_or_else(PoisonError::into_inner);
                texts.entry(path.to_path_buf()).or_insert_with(|| crate::files::read_to_string(path).ok()).clone()
            }
            None => crate::files::read_to_string(path).ok(),
        }
    }

    /// An open editor's text for `path` (Python or JSON).
    pub fn set_overlay(&mut self, path: &Path, text: Arc<str>, tree: Option<&tree_sitter::Tree>) {
        self.facts_out_of_date();
        if let Some(rel) = self.sources.rel_path(path) {
            // For app.py, chalice's import of the new text starts in the
            // background here; the analysis, when asked for, runs beside it.
            self.sources.set_text(&rel, text, tree, TreeOrigin::Edited);
        } else {
            self.forget_last_check();
            self.json_overlays.insert(path.to_path_buf(), text.to_string());
        }
    }

    /// The provisional versions of the project's files (see [`Unverified`]).
    pub fn unverified(&self) -> Vec<Unverified> {
        self.sources.unverified().collect()
    }

    /// Whether any file's version is provisional.
    pub fn has_unverified(&self) -> bool {
        self.sources.has_unverified()
    }

    /// Takes the outcome of comparing a provisional version with a fresh
    /// parse (`fresh`: the fresh tree when it reads the text differently).
    /// Returns whether the project's results may have changed: only when the
    /// version is still current and the fresh tree differs, in which case
    /// the file is read again from it.
    pub fn settle(&mut self, checked: &Unverified, fresh: Option<tree_sitter::Tree>) -> bool {
        let Some(rel) = self.sources.rel_path(&checked.path) else { return false };
        let Some(file) = self.sources.files.get_mut(&rel) else { return false };
        // A newer version came in the meantime: it has its own check.
        if !file.is_version(checked) {
            return false;
        }
        match fresh {
            None => {
                file.verified();
                false
            }
            Some(tree) => {
                let text = file.text.clone();
                // The last evaluation read the same text from the other
                // tree: evaluating again from it would find no module
                // changed and keep its facts.
                self.facts_out_of_date();
                *self.previous.get_mut().unwrap_or_else(PoisonError::into_inner) = None;
                self.forget_last_check();
                self.sources.set_text(&rel, text, Some(&tree), TreeOrigin::Fresh);
                true
            }
        }
    }

    /// The editor closed `path`: back to what is on disk.
    pub fn remove_overlay(&mut self, path: &Path) {
        self.json_overlays.remove(path);
        self.reload(path);
    }

    /// `path` changed (or appeared, or vanished) on disk.
    pub fn reload(&mut self, path: &Path) {
        self.facts_out_of_date();
        self.forget_last_check();
        if let Some(rel) = self.sources.rel_path(path) {
            match crate::files::read(path) {
                Ok(bytes) => {
                    let as_app = self.sources.as_app(&rel);
                    // The version it replaces stops its check, if it has one
                    // running (see `Unverified`), as when an editor's text does.
                    if let Some(old) = self.sources.files.insert(rel, super::SourceFile::from_bytes(bytes, as_app)) {
                        old.replaced();
                    }
                }
                Err(_) => self.sources.remove(&rel),
            }
        }
    }

    /// The analysis of every Python file, computed once per change.
    pub fn facts(&self) -> &ProjectFacts {
        self.facts.get_or_init(|| {
            if crate::process::is_one_shot() {
                return self.sources.analyze();
            }
            let previous = self.previous.lock().unwrap_or_else(PoisonError::into_inner).take();
            let (facts, state) = self.sources.analyze_again(previous);
            self.evaluations.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            *self.evaluated.lock().unwrap_or_else(PoisonError::into_inner) = Some(state);
            facts
        })
    }

    /// After a change reported by the editor or the file system (not a
    /// keystroke in Python code): the next check starts afresh. A check
    /// compares what it reads with what the last one read, but what it
    /// learns from the file system itself (whether a policy file exists,
    /// where a link leads) is only known to have changed this way.
    fn forget_last_check(&mut self) {
        *self.last_check.get_mut().unwrap_or_else(PoisonError::into_inner) = None;
    }

    /// After a change: the facts are computed again when next asked for,
    /// from the last evaluation.
    fn facts_out_of_date(&mut self) {
        let facts = self.facts.take();
        let state = self.evaluated.get_mut().unwrap_or_else(PoisonError::into_inner).take();
        if let Some(last) = state.zip(facts) {
            *self.previous.get_mut().unwrap_or_else(PoisonError::into_inner) = Some(last);
        }
    }

    fn app_module(&self) -> Option<usize> {
        self.sources.files.keys().position(|k| k == "app.py")
    }

    /// The stages to check, as chalice would deploy them, plus problems
    /// found while reading config.json and policy files.
    fn stages(&self) -> (Vec<StageView>, Vec<Diagnostic>) {
        super::stages::stage_views(self, &self.needed_by_code())
    }

    /// Every IAM action a boto3 call of the project needs.
    fn needed_by_code(&self) -> BTreeSet<&str> {
        self.facts().files.iter().flat_map(|f| &f.calls).flat_map(|c| c.actions.iter().map(String::as_str)).collect()
    }

    /// Every diagnostic of the project, grouped by file. Files of the
    /// project without findings map to an empty list (so editors clear them).
    ///
    /// The language server checks at every keystroke, and most keystrokes
    /// change nothing a check reads but where things are. So a check keeps
    /// what it read and found, and the next one, when one Python file
    /// changed by an edit that adds or removes no line, gives the same
    /// diagnostics moved with the text if (and only if) everything else it
    /// would read is what the last one read, moved: the analysis's facts
    /// (the edited function found what it found before,
    /// [`EvalState::facts_moved_only`]), chalice's import of app.py, every
    /// JSON file read, the set of files and the settings. A check is a
    /// function of those, and takes its ranges from them; the one range it
    /// works out from the text (a handler's `def` line) must be clear of
    /// the edit. The edit fuzzer compares every result with a fresh open.
    pub fn diagnostics(&self) -> Arc<Diagnostics> {
        self.diagnostics_then(|_| ()).0
    }

    /// [`Self::diagnostics`], and `then` of them when it could run while
    /// chalice's import of app.py was still being waited for: the last
    /// check's diagnostics moved by a keystroke are known before the import
    /// that decides whether they stand, and the language server converts
    /// them meanwhile. `Some` only when they are the diagnostics returned.
    pub fn diagnostics_then<R>(&self, then: impl FnOnce(&Diagnostics) -> R) -> (Arc<Diagnostics>, Option<R>) {
        // A one-shot command checks once: nothing to keep.
        if crate::process::is_one_shot() {
            return (Arc::new(self.check_all().0), None);
        }
        if let Some(moved) = self.last_check_moved(then) {
            return moved;
        }
        *lock(&self.json_reads) = Some(BTreeMap::new());
        let (diagnostics, stages) = self.check_all();
        let diagnostics = Arc::new(diagnostics);
        let json = lock(&self.json_reads).take().unwrap_or_default();
        *lock(&self.last_check) = Some(LastCheck {
            texts: self.sources.files.iter().map(|(rel, file)| (rel.clone(), file.text.clone())).collect(),
            unreadable: self.sources.unreadable.clone(),
            json,
            imported: self.sources.files.get("app.py").and_then(super::SourceFile::imported).cloned(),
            settings: self.settings.clone(),
            evaluation: self.evaluations.load(std::sync::atomic::Ordering::Relaxed),
            diagnostics: diagnostics.clone(),
            stages,
        });
        (diagnostics, None)
    }

    /// The one Python file edited since `last` was checked, and how, when
    /// nothing else a check reads from the sources or the settings changed
    /// and the edit adds or removes no line; `Some(None)` when nothing did.
    fn edit_since<'p>(&'p self, last: &LastCheck) -> Option<Option<SingleEdit<'p>>> {
        if last.settings != self.settings || last.unreadable != self.sources.unreadable || last.texts.len() != self.sources.files.len() {
            return None;
        }
        let mut edited = None;
        for (index, ((rel, old), (new_rel, file))) in last.texts.iter().zip(&self.sources.files).enumerate() {
            if rel != new_rel {
                return None;
            }
            if !(Arc::ptr_eq(old, &file.text) || **old == *file.text) && edited.replace((new_rel.as_str(), old, file, index)).is_some() {
                return None;
            }
        }
        let Some((rel, old, file, index)) = edited else { return Some(None) };
        if file.binary || file.lossy {
            return None;
        }
        let edit = TextEdit::between(old, &file.text);
        // Messages name lines, and a handler's line is found in the text: an
        // edit that adds or removes one is checked anew.
        let breaks = |s: &str| s.contains(['\n', '\r']);
        if breaks(&old[edit.start..edit.old_end]) || breaks(&file.text[edit.start..edit.new_end]) {
            return None;
        }
        Some(Some(SingleEdit { rel, index, file, edit }))
    }

    /// Whether every JSON file `last` read reads the same now.
    fn json_unchanged(&self, last: &LastCheck) -> bool {
        last.json.iter().all(|(path, text)| self.read_json_now(path) == *text)
    }

    /// When `edited` is app.py: chalice's import of it, when it is the
    /// last one moved by the edit, or `None`. `Some(None)` when another file
    /// was edited, whose text chalice does not import.
    fn import_moved(last: &LastCheck, edited: &SingleEdit) -> Option<Option<Arc<crate::chalice::ImportedApp>>> {
        if edited.rel != "app.py" {
            return Some(None);
        }
        match (&last.imported, edited.file.imported()) {
            (Some(was), Some(now)) => now.is_moved_from(was, &edited.edit).then(|| Some(now.clone())),
            (None, None) => Some(None),
            _ => None,
        }
    }

    /// The last check's diagnostics, moved by the one edit since, when that
    /// edit changed nothing else a check reads (see [`Self::diagnostics`]);
    /// the last check is then this one. With `then` of them (see
    /// [`Self::diagnostics_then`]) when it ran before the import was waited
    /// for.
    fn last_check_moved<R>(&self, then: impl FnOnce(&Diagnostics) -> R) -> Option<(Arc<Diagnostics>, Option<R>)> {
        let mut kept = lock(&self.last_check);
        let last = kept.as_mut()?;
        let edited = self.edit_since(last)?;
        let _ = self.facts();
        let evaluation = self.evaluations.load(std::sync::atomic::Ordering::Relaxed);
        let moved_only = lock(&self.evaluated).as_ref().is_some_and(EvalState::facts_moved_only);
        if evaluation != last.evaluation + 1 || !moved_only {
            return None;
        }
        if !self.json_unchanged(last) {
            return None;
        }
        let Some(edited) = edited else {
            last.evaluation = evaluation;
            self.moved_checks.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            return Some((last.diagnostics.clone(), None));
        };
        // The edited file's diagnostics, moved, and what the caller makes of
        // them, while chalice's import of app.py may still run. Should the
        // import not be the last one moved, this check is not the last one
        // moved either: the caller checks the project afresh, which replaces
        // the last check whole.
        let path = self.sources.path_of(edited.rel);
        let moved = match last.diagnostics.get(&path) {
            Some(list) => Some(moved_diagnostics(list, &path, &edited.edit)?),
            None => None,
        };
        if let Some(list) = moved {
            Arc::make_mut(&mut last.diagnostics).insert(path.clone(), list);
        }
        let made = then(&last.diagnostics);
        let imported = Self::import_moved(last, &edited)?;
        last.texts[edited.index].1 = edited.file.text.clone();
        if let Some(imported) = imported {
            last.imported = Some(imported);
        }
        if let Some(read) = &mut last.stages {
            read.edits.push(FileTextEdit { path, module: edited.index, is_app: edited.rel == "app.py", edit: edited.edit });
            if read.edits.len() > MAX_STAGE_EDITS {
                last.stages = None;
            }
        }
        last.evaluation = evaluation;
        self.moved_checks.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        Some((last.diagnostics.clone(), Some(made)))
    }

    /// The last check's stage views and the problems found building them,
    /// moved by the one edit since, when nothing they are built from
    /// changed: the JSON files, the settings, chalice's import of app.py
    /// (but for places), and the actions the code needs (policy files'
    /// unused actions, the missing file's fix). A keystroke that changes a
    /// boto3 call's facts usually changes none of these.
    fn stages_reused(&self, needed: &BTreeSet<&str>) -> Option<(StagesRead, Vec<(usize, TextEdit)>)> {
        let mut kept = lock(&self.last_check);
        let last = kept.as_mut()?;
        // Taken: this check's views replace them, used again or not.
        let read = last.stages.take().filter(|read| read.needed.iter().map(String::as_str).eq(needed.iter().copied()))?;
        // While app.py has syntax errors the views are built from the rest
        // of it, imported apart (`stages::RepairedApp`).
        if self.sources.files.get("app.py").is_some_and(|app| app.broken_tree.is_some()) {
            return None;
        }
        let edited = self.edit_since(last)?;
        if !self.json_unchanged(last) {
            return None;
        }
        let moved = match &edited {
            Some(edited) => {
                Self::import_moved(last, edited)?;
                let edit = FileTextEdit { path: self.sources.path_of(edited.rel), module: edited.index, is_app: edited.rel == "app.py", edit: edited.edit };
                read.moved(Some(edit))?
            }
            None => read.moved(None)?,
        };
        // The JSON files the views were built from count as read by this
        // check, as they would have been.
        if let Some(reads) = lock(&self.json_reads).as_mut() {
            reads.extend(last.json.iter().map(|(path, text)| (path.clone(), text.clone())));
        }
        self.reused_stage_views.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        Some(moved)
    }

    /// How many checks gave the last one's diagnostics, moved (see
    /// [`Self::diagnostics`]).
    pub fn moved_checks(&self) -> usize {
        self.moved_checks.load(std::sync::atomic::Ordering::Relaxed)
    }

    /// How many checks used the last one's stage views, moved (see
    /// [`Self::stages_reused`]).
    pub fn reused_stage_views(&self) -> usize {
        self.reused_stage_views.load(std::sync::atomic::Ordering::Relaxed)
    }

    /// How many call sites' diagnostics a check took from the last one
    /// (see `check::CallMemo`).
    pub fn calls_taken_from_last_check(&self) -> usize {
        self.call_memo.taken()
    }

    /// The project's diagnostics, and the stage views they were checked
    /// against (with what they were built from).
    fn check_all(&self) -> (Diagnostics, Option<StagesRead>) {
        // Every file has a list, empty or not; so has config.json. Comparing
        // paths is costly (component by component): the files come in path
        // order, nearly always, which the map's bulk build finds at once.
        let mut lists: Vec<(PathBuf, Vec<(usize, Diagnostic)>)> = self.sources.files.keys().map(|rel| (self.sources.path_of(rel), Vec::new())).collect();
        if let Some(c) = self.config_path() {
            if c.is_file() || self.json_overlays.contains_key(&c) {
                lists.push((c, Vec::new()));
            }
        }
        let mut out: BTreeMap<PathBuf, Vec<(usize, Diagnostic)>> = lists.into_iter().collect();
        let facts = self.facts();
        let mut all = Vec::new();
        for ((rel, src), ff) in self.sources.files.iter().zip(&facts.files) {
            let path = self.sources.path_of(rel);
            let consequence = if rel == "app.py" { "chalice cannot import app.py" } else { "this module cannot be imported" };
            for r in &ff.syntax_errors {
                all.push(plain(&path, *r, codes::SYNTAX_ERROR, format!("syntax error: {consequence} until it is fixed; the code around here is analysed as far as it can be")));
            }
            for u in &ff.unresolved {
                all.push(plain(&path, u.range, codes::UNRESOLVED_CALL, format!("this boto3 call is not checked: it {}", u.reason)));
            }
            if src.binary {
                all.push(plain(&path, TextRange::new(0, 0), codes::UNREADABLE_FILE, "the file does not look like Python source (binary content); it is not analysed".into()));
            } else if src.lossy {
                all.push(plain(&path, TextRange::new(0, 0), codes::UNREADABLE_FILE, "the file is not valid UTF-8; invalid bytes were replaced".into()));
            }
        }
        for (rel, why) in &self.sources.unreadable {
            let path = self.sources.path_of(rel);
            all.push(plain(&path, TextRange::new(0, 0), codes::UNREADABLE_FILE, format!("{} could not be read: {why}", rel)));
        }
        // A one-shot command checks once: nothing to keep or use again.
        let keep = !crate::process::is_one_shot();
        let needed = self.needed_by_code();
        let (read, edits) = keep.then(|| self.stages_reused(&needed)).flatten().unwrap_or_else(|| {
            let (views, problems) = super::stages::stage_views(self, &needed);
            let generation = self.stage_generations.fetch_add(1, std::sync::atomic::Ordering::Relaxed) + 1;
            let needed = needed.iter().map(|a| a.to_string()).collect();
            (StagesRead { generation, needed, views, problems, edits: Vec::new() }, Vec::new())
        });
        all.extend(read.problems.iter().cloned());
        let mut input = self.check_input(&read.views);
        input.call_memo = keep.then_some(CallMemoUse { memo: &self.call_memo, generation: read.generation, edits });
        all.extend(check::check(&input));
        // Resolving a path touches the file system; a large app has tens of
        // thousands of fixes editing the same two or three files.
        let mut inside = HashMap::new();
        // Call sites with the same gap share one fix's edits (`Fix::edits`):
        // they are checked once, known by their address. Every set of edits
        // was made before this loop, so no two share one.
        let mut inside_by_edits: HashMap<*const [crate::diagnostics::FileEdit], bool> = HashMap::new();
        // A file's diagnostics share its path (one `Arc`): they are gathered
        // by its address, and the path looked up once per address, not for
        // each diagnostic (the 50,000-line project's 1,500 took a millisecond).
        let mut by_address: HashMap<*const Path, (Arc<Path>, Vec<(usize, Diagnostic)>)> = HashMap::new();
        for (seq, mut d) in all.into_iter().enumerate() {
            let mut inside_project = |f: &crate::diagnostics::Fix| *inside_by_edits.entry(std::sync::Arc::as_ptr(&f.edits)).or_insert_with(|| self.edits_only_inside(f, &mut inside));
            if !d.fixes.iter().all(&mut inside_project) {
                d.fixes = d.fixes.iter().filter(|f| inside_project(f)).cloned().collect();
            }
            match self.severity_setting(d.code) {
                Some(None) => continue,
                Some(Some(s)) => d.severity = *s,
                None if codes::OFF_BY_DEFAULT.contains(&d.code) => continue,
                None => {}
            }
            by_address.entry(Arc::as_ptr(&d.path)).or_insert_with(|| (d.path.clone(), Vec::new())).1.push((seq, d));
        }
        for (path, ds) in by_address.into_values() {
            match out.get_mut(&*path) {
                Some(list) => list.extend(ds),
                None => {
                    out.insert(path.to_path_buf(), ds);
                }
            }
        }
        // In the order they were made where range and code are the same.
        let out = out
            .into_iter()
            .map(|(path, mut list)| {
                list.sort_by(|(i, a), (j, b)| (a.range, a.code, i).cmp(&(b.range, b.code, j)));
                (path, list.into_iter().map(|(_, d)| d).collect())
            })
            .collect();
        (out, keep.then_some(read))
    }

    /// The severity the settings give `code`, by its code or its name:
    /// `Some(None)` turns it off, `None` leaves its default.
    fn severity_setting(&self, code: &str) -> Option<&Option<Severity>> {
        let by_name = || codes::code_doc(code).and_then(|c| self.settings.severities.get(c.name));
        self.settings.severities.get(code).or_else(by_name)
    }

    fn check_input<'a>(&'a self, stages: &'a [StageView]) -> CheckInput<'a> {
        CheckInput {
            facts: self.facts(),
            files: self.sources.files.keys().map(|rel| (self.sources.path_of(rel).into(), rel.as_str())).collect(),
            app_module: self.app_module(),
            stages,
            may_also_need: matches!(self.severity_setting(codes::MAY_ALSO_NEED), Some(Some(_))),
            // A one-shot command checks once: nothing to keep.
            fix_memo: (!crate::process::is_one_shot()).then_some(&self.fix_memo),
            call_memo: None,
        }
    }

    /// One fix granting every missing action of every stage at once.
    pub fn fix_all(&self) -> Option<crate::diagnostics::Fix> {
        let (stages, _) = self.stages();
        check::fix_all(&self.check_input(&stages)).filter(|f| self.edits_only_inside(f, &mut HashMap::new()))
    }

    /// Whether every file `fix` edits or creates is inside the project.
    /// Fixes are built that way; this is the last line of defence (a policy
    /// file named `../shared.json` or reached through a symbolic link is the
    /// user's to change, not ours).
    /// `known` remembers the answer per path.
    fn edits_only_inside(&self, fix: &crate::diagnostics::Fix, known: &mut HashMap<PathBuf, bool>) -> bool {
        fix.edits.iter().all(|e| *known.entry(e.path().to_path_buf()).or_insert_with(|| super::is_inside(self.root(), e.path())))
    }

    /// Markdown describing the boto3 call at `offset` of `path`.
    pub fn hover(&self, path: &Path, offset: usize) -> Option<String> {
        let rel = self.sources.rel_path(path)?;
        let m = self.sources.files.keys().position(|k| *k == rel)?;
        let facts = &self.facts().files[m];
        let fact = facts.calls.iter().filter(|c| c.range.start <= offset && offset <= c.range.end).min_by_key(|c| c.range.end - c.range.start)?;
        let (stages, _) = self.stages();
        let mut md = format!("**{}** {}\n\n", fact.service, describe(&fact.construct));
        let ops = fact.operations.iter().map(|o| format!("`{o}`")).collect::<Vec<_>>().join(", ");
        let c = fact.conditional_operations.iter().map(|o| format!("`{o}`")).collect::<Vec<_>>().join(", ");
        if fact.operations.is_empty() {
            // An upload sends PutObject or the multipart operations: only the
            // size decides.
            md.push_str(&format!("API operations, depending on size or failure: {c}"));
        } else {
            md.push_str(&format!("API operation{}: {ops}", if fact.operations.len() == 1 { "" } else { "s" }));
            if !fact.conditional_operations.is_empty() {
                md.push_str(&format!(" (and, depending on size or failure, {c})"));
            }
        }
        md.push_str("\n\n");
        table_header(&mut md, &["IAM action"], &stages);
        let input = self.check_input(&stages);
        for a in &fact.actions {
            md.push_str(&format!("| `{a}` |"));
            for s in &stages {
                let granted = check::granted_to_call(&input, s, m, fact, a);
                md.push_str(match granted {
                    Some(true) => " granted |",
                    Some(false) => " **not granted** |",
                    None => " unknown |",
                });
            }
            md.push('\n');
        }
        if !fact.unmapped_operations.is_empty() {
            md.push_str(&format!("\nNo IAM action is known for {}.\n", fact.unmapped_operations.join(", ")));
        }
        if !fact.dependent_actions.is_empty() {
            // CIAM019 and CIAM020: shown here whatever their severity setting, and never
            // part of a policy or fix.
            md.push_str("\nMay also need (never added to a policy):\n\n");
            table_header(&mut md, &["IAM action", "why"], &stages);
            for d in &fact.dependent_actions {
                md.push_str(&format!("| `{}` | `{}` {} |", d.action, d.operation, d.reason));
                for s in &stages {
                    md.push_str(match check::granted_to_call(&input, s, m, fact, d.action) {
                        Some(true) => " granted |",
                        Some(false) => " not granted |",
                        None => " unknown |",
                    });
                }
                md.push('\n');
            }
        }
        Some(md)
    }

    /// Code lenses over app.py's handlers: the actions each one needs.
    pub fn lenses(&self, path: &Path) -> Vec<(TextRange, String)> {
        let Some(rel) = self.sources.rel_path(path) else { return Vec::new() };
        if rel != "app.py" {
            return Vec::new();
        }
        let Some(src) = self.sources.files.get("app.py") else { return Vec::new() };
        let tree = crate::python::parse(&src.text, None);
        let facts = self.facts();
        let app = self.app_module().unwrap_or(0);
        let mut out = Vec::new();
        for h in queries::decorated_handlers(&tree, &src.text) {
            let actions = check::actions_reachable_from(facts, app, &h.name);
            let title = if actions.is_empty() {
                "needs no AWS permissions".to_string()
            } else {
                format!("needs {}", actions.into_iter().collect::<Vec<_>>().join(", "))
            };
            out.push((h.name_range, title));
        }
        out
    }

    /// The policy document the whole project needs.
    pub fn needed_policy(&self) -> serde_json::Value {
        let facts = self.facts();
        policy::needed_policy(facts.files.iter().flat_map(|f| &f.calls).flat_map(|c| c.actions.iter().map(String::as_str)))
    }

    /// The policy one Lambda function needs (its `lambda_functions` name):
    /// the calls its handlers can reach, plus module-level code, which runs
    /// when any function starts.
    pub fn needed_policy_for_function(&self, name: &str) -> Result<serde_json::Value, String> {
        let app = self.sources.files.get("app.py").ok_or("the project has no app.py")?;
        let tree = crate::python::parse(&app.text, None);
        let graph = crate::chalice::app_graph(&app.text, &tree, self.settings.python_version);
        let Some(spec) = graph.functions.iter().find(|f| f.name == name) else {
            let names: Vec<&str> = graph.functions.iter().map(|f| f.name.as_str()).collect();
            return Err(format!("app.py defines no Lambda function named '{name}' (functions: {})", if names.is_empty() { "none".into() } else { names.join(", ") }));
        };
        let facts = self.facts();
        let app_index = self.app_module().unwrap_or(0);
        let mut actions: std::collections::BTreeSet<String> = std::collections::BTreeSet::new();
        for h in &spec.handlers {
            actions.extend(check::actions_reachable_from(facts, app_index, &h.python_name));
        }
        for f in &facts.files {
            for c in f.calls.iter().filter(|c| c.function.is_none()) {
                actions.extend(c.actions.iter().cloned());
            }
        }
        Ok(policy::needed_policy(actions.iter().map(String::as_str)))
    }

    pub fn policy_json(&self) -> String {
        policy::to_pretty(&self.needed_policy())
    }
}

/// `list`, the diagnostics of the file at `path` before `edit`, moved with
/// the text; `None` when one cannot be: a range holds part of the edit, a
/// fix edits the file (it was made for the old text), the edit touches a
/// handler's `def` line (found in the text, not moved with it), or two
/// diagnostics come to lie at one place (a check would have made them one).
fn moved_diagnostics(list: &[Diagnostic], path: &Path, edit: &TextEdit) -> Option<Vec<Diagnostic>> {
    let edits_this_file = |d: &Diagnostic| d.fixes.iter().flat_map(|f| f.edits.iter()).any(|e| e.path() == path);
    let mut moved = list
        .iter()
        .map(|d| {
            let clear = d.code != codes::EVENT_SOURCE_PERMISSIONS || edit.old_end < d.range.start || edit.start > d.range.end;
            (clear && !edits_this_file(d)).then_some(())?;
            Some((d.range, Diagnostic { range: edit.map(d.range)?, ..d.clone() }))
        })
        .collect::<Option<Vec<_>>>()?;
    moved.sort_by(|(_, a), (_, b)| (a.range, a.code).cmp(&(b.range, b.code)));
    let merged = moved.windows(2).any(|w| w[0].1.range == w[1].1.range && w[0].1.code == w[1].1.code && w[0].0 != w[1].0);
    (!merged).then(|| moved.into_iter().map(|(_, d)| d).collect())
}

fn plain(path: &Path, range: TextRange, code: &'static str, message: String) -> Diagnostic {
    Diagnostic {
        path: path.into(),
        range,
        severity: codes::code_doc(code).map(|c| c.default_severity).unwrap_or(Severity::Info),
        code,
        message: message.into(),
        fixes: Vec::new().into(),
    }
}

/// A Markdown table's header: the `leading` columns, then one per stage.
fn table_header(md: &mut String, leading: &[&str], stages: &[StageView]) {
    md.push('|');
    for column in leading.iter().copied().chain(stages.iter().map(|s| s.name.as_str())) {
        md.push_str(&format!(" {column} |"));
    }
    md.push_str("\n|");
    md.push_str(&"---|".repeat(leading.len() + stages.len()));
    md.push('\n');
}

fn describe(c: &Construct) -> String {
    match c {
        Construct::ClientMethod { method } => format!("client `{method}()`"),
        Construct::ClientInjected { method } => format!("client `{method}()` (added by boto3)"),
        Construct::Paginator { name } => format!("paginator `{name}`"),
        Construct::Waiter { name } => format!("waiter `{name}`"),
        Construct::Presigned { method } => format!("presigned URL for `{method}` (no request is sent; using the URL needs the permission)"),
        Construct::ResourceAction { resource, action } => format!("resource `{resource}.{action}()`"),
        Construct::ResourceLoad { resource, attribute: Some(a) } => format!("`{resource}.{a}` (reading it loads the resource)"),
        Construct::ResourceLoad { resource, attribute: None } => format!("`{resource}.load()`"),
        Construct::Collection { resource, collection } => format!("iterating the `{resource}.{collection}` collection"),
        Construct::BatchAction { resource, collection, action } => format!("batch action `{resource}.{collection}.{action}()`"),
        Construct::ResourceInjected { resource, method } => format!("`{resource}.{method}()` (added by boto3)"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::diagnostics::FileEdit;

    /// The turn-autogen-off fix extends the policy file as the editor has
    /// it, not as it is on disk: its edit must apply to the open text.
    #[test]
    fn the_autogen_fix_edits_the_open_text_of_the_policy_file() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().canonicalize().unwrap();
        let app = "import boto3\nfrom chalice import Chalice\napp = Chalice(app_name='x')\n\n@app.route('/')\ndef index():\n    return boto3.resource('dynamodb').Table('t').scan()\n";
        std::fs::write(root.join("app.py"), app).unwrap();
        std::fs::create_dir(root.join(".chalice")).unwrap();
        std::fs::write(root.join(".chalice/config.json"), r#"{"app_name": "x", "stages": {"dev": {}}}"#).unwrap();
        let policy = root.join(".chalice/policy-dev.json");
        std::fs::write(&policy, "{}").unwrap();
        let open = "{\n  \"Version\": \"2012-10-17\",\n  \"Statement\": [\n    {\"Sid\": \"Käse\", \"Effect\": \"Allow\", \"Action\": \"sqs:SendMessage\", \"Resource\": \"*\"}\n  ]\n}\n";
        let mut project = Project::load(&root, Settings::default()).unwrap();
        project.set_overlay(&policy, Arc::from(open), None);
        let diagnostics = project.diagnostics();
        let scan = diagnostics.values().flatten().find(|d| d.code == codes::RESOURCE_API_NOT_SEEN).unwrap();
        let edit = scan.fixes[0].edits.iter().find(|e| matches!(e, FileEdit::Replace { path, .. } if *path == policy)).unwrap();
        let FileEdit::Replace { range, new_text, .. } = edit else { unreachable!() };
        let mut edited = open.to_owned();
        edited.replace_range(range.start..range.end, new_text);
        let value: serde_json::Value = serde_json::from_str(&edited).unwrap_or_else(|e| panic!("{e}: {edited}"));
        let text = value.to_string();
        assert!(text.contains("\"Käse\"") && text.contains("sqs:SendMessage") && text.contains("dynamodb:Scan"), "{edited}");
    }

    /// A project checked again keeps the fixes of its last check (the
    /// language server does so at every keystroke): after each change,
    /// Python or JSON, it must report exactly what a fresh load of the same
    /// texts reports, fixes included.
    #[test]
    fn a_check_after_a_change_reports_what_a_fresh_project_reports() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().canonicalize().unwrap();
        let app = "import boto3\nfrom chalice import Chalice\napp = Chalice(app_name='x')\n\n@app.route('/')\ndef index():\n    return boto3.resource('dynamodb').Table('t').scan()\n";
        let config = root.join(".chalice/config.json");
        let prod = root.join(".chalice/policy-prod.json");
        let dev = root.join(".chalice/policy-dev.json");
        std::fs::write(root.join("app.py"), app).unwrap();
        std::fs::create_dir(root.join(".chalice")).unwrap();
        std::fs::write(&config, r#"{"app_name": "x", "stages": {"dev": {}, "prod": {"autogen_policy": false, "iam_policy_file": "policy-prod.json"}}}"#).unwrap();
        std::fs::write(&prod, r#"{"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "sqs:SendMessage", "Resource": "*"}]}"#).unwrap();
        let changes: Vec<(PathBuf, &str)> = vec![
            // The same gaps at shifted offsets, then new ones.
            (root.join("app.py"), "import boto3\nfrom chalice import Chalice\napp = Chalice(app_name='x')\n\n\n@app.route('/')\ndef index():\n    return boto3.resource('dynamodb').Table('t').scan()\n"),
            (root.join("app.py"), "import boto3\nfrom chalice import Chalice\napp = Chalice(app_name='x')\n\n@app.route('/')\ndef index():\n    boto3.client('s3').list_buckets()\n    return boto3.resource('dynamodb').Table('t').scan()\n"),
            // The file role's policy, the autogen fix's policy file, and
            // config.json.
            (prod.clone(), r#"{"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": ["sqs:SendMessage", "s3:ListAllMyBuckets"], "Resource": "*"}]}"#),
            (dev.clone(), r#"{"Version": "2012-10-17", "Statement": []}"#),
            (config.clone(), r#"{"app_name": "x", "stages": {"dev": {"api_gateway_stage": "v1"}, "prod": {"autogen_policy": false, "iam_policy_file": "policy-prod.json"}}}"#),
            (config.clone(), r#"{"app_name": "x", "stages": {"dev": {"autogen_policy": false, "iam_policy_file": "policy-prod.json"}, "prod": {"autogen_policy": false, "iam_policy_file": "policy-prod.json"}}}"#),
        ];
        let mut project = Project::load(&root, Settings::default()).unwrap();
        let mut overlays: Vec<(PathBuf, &str)> = Vec::new();
        assert!(project.diagnostics().values().flatten().any(|d| !d.fixes.is_empty()));
        for (path, text) in changes {
            project.set_overlay(&path, Arc::from(text), None);
            overlays.push((path, text));
            let mut fresh = Project::load(&root, Settings::default()).unwrap();
            for (path, text) in &overlays {
                fresh.set_overlay(path, Arc::from(*text), None);
            }
            assert_eq!(project.diagnostics(), fresh.diagnostics(), "after {}", overlays.last().unwrap().0.display());
        }
    }

    /// An edited tree with syntax errors stands for its text until a fresh
    /// parse is compared with it. One that reads the text differently (here
    /// a tree of another broken text, which no edit would give) makes the
    /// file read again from the fresh parse, with the results of a fresh
    /// load; one that reads it the same only ends the provisional state.
    /// Each step replaces `old` in app.py (or in a JSON file) with `new`:
    /// whether the last check's diagnostics are moved rather than worked out
    /// again, and that they are a fresh project's either way.
    #[test]
    fn a_keystroke_that_changes_only_places_moves_the_last_diagnostics() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().canonicalize().unwrap();
        let app_path = root.join("app.py");
        let config = root.join(".chalice/config.json");
        let mut app = String::from(
            "import boto3\nfrom chalice import Chalice\napp = Chalice(app_name='x')\ns3 = boto3.client('s3')\n\n\
             @app.route('/')\ndef index():\n    table = boto3.resource('dynamodb').Table('t')\n    table.scan()\n\n\
             @app.on_sqs_message(queue='q')\ndef on_message(event):\n    count = 1\n    # a comment\n    s3.get_object(Bucket='b', Key='k')\n",
        );
        std::fs::write(&app_path, &app).unwrap();
        std::fs::create_dir(root.join(".chalice")).unwrap();
        let mut config_text = String::from(r#"{"app_name": "x", "stages": {"dev": {}, "prod": {"autogen_policy": false, "iam_policy_file": "policy-prod.json"}}}"#);
        std::fs::write(&config, &config_text).unwrap();
        std::fs::write(root.join(".chalice/policy-prod.json"), r#"{"Version": "2012-10-17", "Statement": []}"#).unwrap();
        let steps: [(&Path, &str, &str, bool); 10] = [
            // The first edit of a module evaluates the project whole (see
            // `eval::again`).
            (&app_path, "# a comment", "# a comment!", false),
            // Nothing a check reads but places.
            (&app_path, "# a comment!", "# a longer comment", true),
            (&app_path, "count = 1", "counter = 1", true),
            (&app_path, "Bucket='b'", "Bucket='bb'", true),
            // What the analysis finds (`tablex` is no table).
            (&app_path, "    table.scan()", "    tablex.scan()", false),
            (&app_path, "    tablex.scan()", "    table.scan()", false),
            // A line more.
            (&app_path, "count", "\n    count", false),
            // What chalice's analyzer captures.
            (&app_path, "s3.get_object(", "s3.put_object(", false),
            // Back to a keystroke that changes only places.
            (&app_path, "# a longer comment", "# a comment", true),
            // config.json, open in the editor.
            (&config, r#""dev": {}"#, r#""dev": {"api_gateway_stage": "v1"}"#, false),
        ];
        let mut project = Project::load(&root, Settings::default()).unwrap();
        assert!(!project.diagnostics().is_empty());
        assert_eq!(project.moved_checks(), 0);
        for (path, old, new, moved) in steps {
            let text = if path == app_path { &mut app } else { &mut config_text };
            assert!(text.contains(old), "{old}");
            *text = text.replacen(old, new, 1);
            project.set_overlay(path, Arc::from(text.as_str()), None);
            let before = project.moved_checks();
            let diagnostics = project.diagnostics();
            assert_eq!(project.moved_checks() > before, moved, "{old} -> {new}");
            let mut fresh = Project::load(&root, Settings::default()).unwrap();
            fresh.set_overlay(&app_path, Arc::from(app.as_str()), None);
            fresh.set_overlay(&config, Arc::from(config_text.as_str()), None);
            assert_eq!(diagnostics, fresh.diagnostics(), "{old} -> {new}");
        }
        // A version evaluated but never checked (a hover on it) comes
        // between: the next check's evaluation compares with it, not with
        // the last check.
        for (old, new) in [("count = 1", "count = 2"), ("count = 2", "count = 3")] {
            app = app.replacen(old, new, 1);
            project.set_overlay(&app_path, Arc::from(app.as_str()), None);
            let _ = project.facts();
        }
        let before = project.moved_checks();
        let diagnostics = project.diagnostics();
        assert_eq!(project.moved_checks(), before);
        let mut fresh = Project::load(&root, Settings::default()).unwrap();
        fresh.set_overlay(&app_path, Arc::from(app.as_str()), None);
        fresh.set_overlay(&config, Arc::from(config_text.as_str()), None);
        assert_eq!(diagnostics, fresh.diagnostics());
    }

    #[test]
    fn a_keystroke_that_changes_facts_checks_against_the_last_stage_views_moved() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().canonicalize().unwrap();
        let app_path = root.join("app.py");
        // chalice's analyzer crashes on the import at the end (CIAM006, a
        // problem found building the stage views), after every edit below.
        let app = String::from(
            "from chalice import Chalice\napp = Chalice(app_name='x')\n\n\n\
             @app.route('/')\ndef index():\n    import boto3\n    table = boto3.resource('dynamodb').Table('t')\n    table.scan()\n    \
             boto3.resource('dynamodb').Table('u').scan()\n\n\nimport boto3 as b\ns3 = b.client('s3')\n",
        );
        std::fs::write(&app_path, &app).unwrap();
        std::fs::create_dir(root.join(".chalice")).unwrap();
        std::fs::write(root.join(".chalice/config.json"), r#"{"app_name": "x", "stages": {"dev": {}}}"#).unwrap();
        let steps = [
            // The first call's facts change, not the actions the code needs.
            ("    table = ", "    tablex = ", true),
            ("    tablex = ", "    table = ", true),
            // The actions the code needs.
            ("u').scan()", "u').query()", false),
            ("u').query()", "u').scan()", false),
            // The problem's own range.
            ("import boto3 as b", "import boto3 as bb", false),
        ];
        let mut project = Project::load(&root, Settings::default()).unwrap();
        let first = project.diagnostics();
        assert!(first[&app_path].iter().any(|d| d.code == codes::ANALYZER_CRASH), "{first:?}");
        assert!(!project.needed_by_code().is_empty());
        type_in_app(&mut project, &root, app, &steps);
    }

    /// Makes each edit (old text, new text, whether the check uses the last
    /// stage views) to app.py in turn, and requires what a fresh project
    /// reports on the edited text.
    fn type_in_app(project: &mut Project, root: &Path, mut app: String, steps: &[(&str, &str, bool)]) {
        let app_path = root.join("app.py");
        for &(old, new, reused) in steps {
            assert!(app.contains(old), "{old}");
            app = app.replacen(old, new, 1);
            project.set_overlay(&app_path, Arc::from(app.as_str()), None);
            let before = project.reused_stage_views();
            let diagnostics = project.diagnostics();
            assert_eq!(project.reused_stage_views() > before, reused, "{old} -> {new}");
            let mut fresh = Project::load(root, Settings::default()).unwrap();
            fresh.set_overlay(&app_path, Arc::from(app.as_str()), None);
            assert_eq!(diagnostics, fresh.diagnostics(), "{old} -> {new}");
        }
    }

    #[test]
    fn a_call_whose_facts_or_reach_changed_is_checked_anew() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().canonicalize().unwrap();
        let app_path = root.join("app.py");
        let app = String::from(
            "import boto3\nfrom chalice import Chalice\napp = Chalice(app_name='x')\nc = boto3.session.Session().client('dynamodb')\n\n\
             def helper():\n    return boto3.resource('dynamodb').Table('t').scan()\n\n\
             def reader():\n    return c.scan(TableName='t')\n\n\
             @app.route('/')\ndef index():\n    reader()\n    return helper()\n\n\
             @app.lambda_function()\ndef worker(event, context):\n    return helperx()\n",
        );
        std::fs::write(&app_path, &app).unwrap();
        std::fs::create_dir(root.join(".chalice")).unwrap();
        let config = r#"{"app_name": "x", "stages": {"dev": {"lambda_functions": {"worker": {"autogen_policy": false, "iam_policy_file": "policy-worker.json"}}}}}"#;
        std::fs::write(root.join(".chalice/config.json"), config).unwrap();
        std::fs::write(root.join(".chalice/policy-worker.json"), r#"{"Version": "2012-10-17", "Statement": []}"#).unwrap();
        let steps = [
            // `worker` now reaches `helper`, whose call is where it was,
            // with the same facts, but now also runs under worker's role.
            ("return helperx()", "return helper()", true),
            // `reader`'s call is where it was, needing the same action, but
            // made on a client chalice misses for another reason.
            ("c = boto3.session.Session().client('dynamodb')", "c = boto3.resource('dynamodb').meta.client", true),
        ];
        let mut project = Project::load(&root, Settings::default()).unwrap();
        let _ = project.diagnostics();
        type_in_app(&mut project, &root, app, &steps);
        // Every other call's diagnostics were taken from the last check.
        assert!(project.calls_taken_from_last_check() > 0);
    }

    #[test]
    fn a_provisional_version_that_a_fresh_parse_reads_differently_is_read_again() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().canonicalize().unwrap();
        let app_path = root.join("app.py");
        std::fs::write(&app_path, "import boto3\n").unwrap();
        let broken = "import boto3\nfrom chalice import Chalice\napp = Chalice(app_name='x')\n\n@app.route('/')\ndef index(:\n    return boto3.resource('dynamodb').Table('t').scan()\n\ndef other():\n    boto3.client('s3').list_buckets()\n";
        let elsewhere = "def index(\n    pass\n";
        let wrong_tree = crate::python::parse(elsewhere, None);
        assert!(wrong_tree.root_node().has_error());

        let mut project = Project::load(&root, Settings::default()).unwrap();
        project.set_overlay(&app_path, Arc::from(broken), Some(&wrong_tree));
        // The provisional version's diagnostics are published first, as the
        // language server does: the evaluation it leaves must not stand in
        // for the file read again.
        let provisional = project.diagnostics();
        let pending = project.unverified();
        assert_eq!(pending.len(), 1);
        let fresh = pending[0].fresh_parse_if_different().unwrap();
        assert!(fresh.is_some(), "a tree of another text reads this one differently");
        assert!(project.settle(&pending[0], fresh));
        assert!(project.unverified().is_empty());
        let mut reference = Project::load(&root, Settings::default()).unwrap();
        reference.set_overlay(&app_path, Arc::from(broken), None);
        assert_ne!(provisional, reference.diagnostics(), "the tree of another text is read otherwise");
        assert_eq!(project.diagnostics(), reference.diagnostics());

        // The editor's own tree of the text: it stands.
        let edited_tree = crate::python::parse(broken, None);
        project.set_overlay(&app_path, Arc::from(broken), Some(&edited_tree));
        let pending = project.unverified();
        assert_eq!(pending.len(), 1);
        let fresh = pending[0].fresh_parse_if_different().unwrap();
        assert!(fresh.is_none());
        assert!(!project.settle(&pending[0], fresh));
        assert!(project.unverified().is_empty());
        assert_eq!(project.diagnostics(), reference.diagnostics());

        // A check of a version that is no longer current changes nothing.
        project.set_overlay(&app_path, Arc::from(broken), Some(&wrong_tree));
        let stale = project.unverified().remove(0);
        project.set_overlay(&app_path, Arc::from(broken), Some(&edited_tree));
        // Its check stops at once, and settling it anyway changes nothing.
        assert_eq!(stale.fresh_parse_if_different().err(), Some(super::super::Replaced));
        assert!(!project.settle(&stale, Some(crate::python::parse(broken, None))));
        assert_eq!(project.unverified().len(), 1, "the current version still awaits its own check");
        let current = project.unverified().remove(0);
        assert!(matches!(current.fresh_parse_if_different(), Ok(None)));
    }
}
