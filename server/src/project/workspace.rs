//! A whole Chalice project as the CLI and the language server use it:
//! Python sources (with editor overlays), config and policy files, the
//! analysis over them, and the diagnostics.

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, OnceLock, PoisonError};

use crate::analysis::{Construct, EvalState, ProjectFacts, TextRange};
use crate::diagnostics::check::{self, CheckInput, FixMemo, StageView};
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
        Ok(Project {
            sources: Sources::load(root, settings.python_version)?,
            settings,
            json_overlays: BTreeMap::new(),
            json_snapshot: None,
            facts: OnceLock::new(),
            evaluated: Mutex::new(None),
            previous: Mutex::new(None),
            fix_memo: FixMemo::default(),
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
        if let Some(rel) = self.sources.rel_path(path) {
            match crate::files::read(path) {
                Ok(bytes) => {
                    let as_app = self.sources.as_app(&rel);
                    self.sources.files.insert(rel, super::SourceFile::from_bytes(bytes, as_app));
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
            *self.evaluated.lock().unwrap_or_else(PoisonError::into_inner) = Some(state);
            facts
        })
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
        super::stages::stage_views(self)
    }

    /// Every diagnostic of the project, grouped by file. Files of the
    /// project without findings map to an empty list (so editors clear them).
    pub fn diagnostics(&self) -> BTreeMap<PathBuf, Vec<Diagnostic>> {
        let mut out: BTreeMap<PathBuf, Vec<Diagnostic>> = BTreeMap::new();
        for rel in self.sources.files.keys() {
            out.insert(self.sources.path_of(rel), Vec::new());
        }
        if let Some(c) = self.config_path() {
            if c.is_file() || self.json_overlays.contains_key(&c) {
                out.insert(c, Vec::new());
            }
        }
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
        let (stages, problems) = self.stages();
        all.extend(problems);
        all.extend(check::check(&self.check_input(&stages)));
        // Resolving a path touches the file system; a large app has tens of
        // thousands of fixes editing the same two or three files.
        let mut inside = HashMap::new();
        // Call sites with the same gap share one fix's edits (`Fix::edits`):
        // they are checked once, known by their address. Every set of edits
        // was made before this loop, so no two share one.
        let mut inside_by_edits: HashMap<*const [crate::diagnostics::FileEdit], bool> = HashMap::new();
        for mut d in all {
            d.fixes.retain(|f| *inside_by_edits.entry(std::sync::Arc::as_ptr(&f.edits)).or_insert_with(|| self.edits_only_inside(f, &mut inside)));
            match self.severity_setting(d.code) {
                Some(None) => continue,
                Some(Some(s)) => d.severity = *s,
                None if codes::OFF_BY_DEFAULT.contains(&d.code) => continue,
                None => {}
            }
            match out.get_mut(&d.path) {
                Some(list) => list.push(d),
                None => {
                    out.insert(d.path.clone(), vec![d]);
                }
            }
        }
        for list in out.values_mut() {
            list.sort_by(|a, b| (a.range, a.code).cmp(&(b.range, b.code)));
        }
        out
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
            files: self.sources.files.keys().map(|rel| (self.sources.path_of(rel), rel.as_str())).collect(),
            app_module: self.app_module(),
            stages,
            may_also_need: matches!(self.severity_setting(codes::MAY_ALSO_NEED), Some(Some(_))),
            // A one-shot command checks once: nothing to keep.
            fix_memo: (!crate::process::is_one_shot()).then_some(&self.fix_memo),
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
        fix.edits.iter().all(|e| match e {
            crate::diagnostics::FileEdit::Create { path, .. } | crate::diagnostics::FileEdit::Replace { path, .. } => {
                *known.entry(path.clone()).or_insert_with(|| super::is_inside(self.root(), path))
            }
        })
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

fn plain(path: &Path, range: TextRange, code: &'static str, message: String) -> Diagnostic {
    Diagnostic {
        path: path.to_path_buf(),
        range,
        severity: codes::code_doc(code).map(|c| c.default_severity).unwrap_or(Severity::Info),
        code,
        message,
        fixes: Vec::new(),
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
        let fresh = pending[0].fresh_parse_if_different();
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
        let fresh = pending[0].fresh_parse_if_different();
        assert!(fresh.is_none());
        assert!(!project.settle(&pending[0], fresh));
        assert!(project.unverified().is_empty());
        assert_eq!(project.diagnostics(), reference.diagnostics());

        // A check of a version that is no longer current changes nothing.
        project.set_overlay(&app_path, Arc::from(broken), Some(&wrong_tree));
        let stale = project.unverified().remove(0);
        project.set_overlay(&app_path, Arc::from(broken), Some(&edited_tree));
        let fresh = stale.fresh_parse_if_different();
        assert!(!project.settle(&stale, fresh));
        assert_eq!(project.unverified().len(), 1, "the current version still awaits its own check");
    }
}
