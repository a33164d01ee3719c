//! What `chalice deploy` (chalice 1.34.0) does with a project's IAM policy,
//! emulated without running chalice: its config lookup ([`config`]), the
//! Lambda functions it creates ([`appgraph`]), their roles ([`roles`]), its
//! source analyzer ([`analyzer`]) and policy builder ([`policy`]), and the
//! statements its build steps add ([`emulate_deploy`]).
//!
//! Everything is plain data with byte offsets into app.py or config.json.

pub mod analyzer;
pub mod appgraph;
pub mod config;
pub mod policy;
mod pyast;
pub mod roles;
mod symtable;

use std::path::PathBuf;

use serde::Serialize;

pub use analyzer::{
    emulate_autogen, emulate_autogen_tree, AnalyzerCrash, AutogenEmulation, CapturedCall, ClientCalls, CrashKind,
    CHALICE_VIEW_DECORATORS, DEFAULT_PYTHON_VERSION,
};
pub use appgraph::{AppGraph, AppGraphError, AppGraphNote, EventSourceKind, HandlerKind, HandlerSite, LambdaFunctionSpec};
pub use config::{ChaliceConfig, ConfigError, ConfigErrorKind, ConfigWarning, Layer, ScopedSettings, Setting, API_HANDLER, DEFAULT_STAGE};
pub use policy::{build_policy_from_api_calls, BuiltPolicy, PolicyBuildCrash, PolicyDocument, PolicyStatement, StatementOrigin, StatementResource};
pub use roles::{resolve_roles, role_for_function, FunctionRole, RoleKind};

use crate::analysis::{TextEdit, TextRange};
use crate::background::Pending;
use crate::python::ParsedFile;

/// The stack of the threads that run chalice's emulation (reserved, not
/// committed: only the pages a deep recursion touches cost memory).
const LARGE_STACK: usize = 256 << 20;

/// Conversion, symbol tables and the analyzer recurse once per nesting
/// level of app.py, as chalice's own visitors do. Running them on a private
/// thread with a large stack keeps adversarial nesting (thousands of
/// brackets) from overflowing the caller's thread; the depth limits in
/// `pyast` and `analyzer` then decide, like Python's recursion limit does.
pub(crate) fn on_large_stack<T: Send>(f: impl FnOnce() -> T + Send) -> T {
    let job = std::sync::Mutex::new(Some(f));
    let run = || job.lock().ok().and_then(|mut j| j.take()).map(|f| f());
    let spawned = std::thread::scope(|scope| {
        std::thread::Builder::new()
            .name("chalice-emulation".into())
            .stack_size(LARGE_STACK)
            .spawn_scoped(scope, run)
            .map(|handle| handle.join())
    });
    match spawned {
        Ok(Ok(Some(v))) => v,
        // The thread panicked: propagate it as if it had happened here.
        Ok(Err(panic)) => std::panic::resume_unwind(panic),
        // No thread could be started (or the job vanished): run inline.
        _ => match job.lock().ok().and_then(|mut j| j.take()) {
            Some(f) => f(),
            None => unreachable!("the job runs exactly once"),
        },
    }
}

/// Test builds only: versions of `app` as an editor makes them, each from
/// the one before, for the tests of what an import keeps from the last
/// version: a line added above, a definition renamed and back, `helper`
/// (a definition) added before the first one, definitions repeated at the
/// end, CRLF line ends, `from __future__ import annotations`, and `app`.
#[cfg(test)]
pub(crate) fn edited_versions(app: &str, helper: &str) -> Vec<String> {
    let first_def = app.find("\ndef ").map_or(0, |i| i + 1);
    vec![
        app.to_string(),
        format!("# a new first line\n\n{app}"),
        app.replacen("def ", "def renamed_", 1),
        app.to_string(),
        format!("{}{helper}\n\n{}", &app[..first_def], &app[first_def..]),
        format!("{app}\n\n{}", &app[first_def..]),
        app.replace('\n', "\r\n"),
        format!("from __future__ import annotations\n{app}"),
    ]
}

/// The static app graph of app.py (empty with a note when app.py does not
/// parse: chalice could not import it either).
pub fn app_graph(source: &str, tree: &tree_sitter::Tree, python_version: (u8, u8)) -> AppGraph {
    on_large_stack(|| app_graph_inline(source, tree, python_version))
}

fn app_graph_inline(source: &str, tree: &tree_sitter::Tree, python_version: (u8, u8)) -> AppGraph {
    match pyast::convert(source, tree, pyast::ParseOptions { python_version }) {
        Ok(ast) => appgraph::build_app_graph(&ast, source),
        Err(p) => AppGraph {
            functions: Vec::new(),
            errors: vec![AppGraphError { message: format!("app.py does not parse: {}", p.message), range: p.range }],
            notes: Vec::new(),
        },
    }
}

/// `AppPolicyGenerator.generate_policy`'s first half
/// (`policy_from_source_code`): the analyzer plus the policy builder.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AppPolicy {
    pub analysis: AutogenEmulation,
    pub built: BuiltPolicy,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum AppPolicyFailure {
    Analyzer(AnalyzerCrash),
    PolicyBuilder(PolicyBuildCrash),
}

/// `policy_from_source_code(source)`: what `chalice gen-policy` prints.
pub fn policy_from_source_code(source: &str, python_version: (u8, u8)) -> Result<AppPolicy, AppPolicyFailure> {
    let tree = crate::python::parse(source, None);
    policy_from_tree(source, &tree, python_version)
}

fn policy_from_tree(source: &str, tree: &tree_sitter::Tree, python_version: (u8, u8)) -> Result<AppPolicy, AppPolicyFailure> {
    let analysis = emulate_autogen_tree(source, tree, python_version).map_err(AppPolicyFailure::Analyzer)?;
    let built = build_policy_from_api_calls(&analysis.client_calls).map_err(AppPolicyFailure::PolicyBuilder)?;
    Ok(AppPolicy { analysis, built })
}

/// `policy_from_tree` for a module already converted (on a large stack).
fn policy_from_ast(source: &str, ast: &pyast::PyAst, python_version: (u8, u8), memo: Option<&mut analyzer::AnalyzerMemo>) -> Result<AppPolicy, AppPolicyFailure> {
    let analysis = analyzer::emulate_ast(source, ast, python_version, memo).map_err(AppPolicyFailure::Analyzer)?;
    let built = build_policy_from_api_calls(&analysis.client_calls).map_err(AppPolicyFailure::PolicyBuilder)?;
    Ok(AppPolicy { analysis, built })
}

/// The analyzer's result for one app.py text and Python version, shared by
/// the deploy emulations of every stage (it does not depend on config).
pub type AppPolicyCache = std::sync::OnceLock<Result<AppPolicy, AppPolicyFailure>>;

/// Where `chalice deploy` stops.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum FailureOrigin {
    /// Reading or interpreting config.json.
    ConfigJson,
    /// Importing or validating app.py, or analysing it.
    AppPy,
    /// A file-based role's policy file.
    PolicyFile(PathBuf),
}

/// `chalice deploy` would raise instead of producing a policy.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DeployFailure {
    pub origin: FailureOrigin,
    /// The Python exception chalice raises (`KeyError`, `RuntimeError`...).
    pub exception: String,
    pub message: String,
    /// Byte range in the file named by `origin` (app.py or config.json).
    pub range: Option<TextRange>,
}

impl DeployFailure {
    fn config(e: ConfigError) -> DeployFailure {
        let exception = match e.kind {
            ConfigErrorKind::Missing | ConfigErrorKind::InvalidJson => "RuntimeError",
            ConfigErrorKind::Unreadable => "UnicodeDecodeError",
            ConfigErrorKind::WrongType => "AttributeError",
            ConfigErrorKind::UnknownVersion => "UnknownConfigFileVersion",
        };
        DeployFailure { origin: FailureOrigin::ConfigJson, exception: exception.into(), message: e.message, range: e.span }
    }

    fn app(exception: &str, message: String, range: Option<TextRange>) -> DeployFailure {
        DeployFailure { origin: FailureOrigin::AppPy, exception: exception.into(), message, range }
    }
}

pub struct DeployInputs<'a> {
    pub config: &'a ChaliceConfig,
    /// The text of `<project>/app.py`.
    pub app_source: &'a str,
    pub stage: &'a str,
    /// The Python version chalice runs under (comprehension semantics).
    pub python_version: (u8, u8),
    /// `chalice deploy --autogen-policy` (`Some(true)`) or
    /// `--no-autogen-policy` (`Some(false)`).
    pub cli_autogen_policy: Option<bool>,
    /// Shared by the emulations of several stages of the same app.py text.
    pub app_policy_cache: Option<&'a AppPolicyCache>,
    /// `app_source` already imported by [`import_app`] (with the same Python
    /// version); `None` imports it here.
    pub imported: Option<&'a ImportedApp>,
}

/// app.py as `chalice deploy` imports it, for one text and Python version:
/// the app graph and the analyzer's policy, or why the import fails. None of
/// it depends on config.json, so a project computes it once per app.py text,
/// from the same parse as its own analysis and alongside it, and every
/// stage's emulation shares it.
#[derive(Debug, Clone, PartialEq)]
pub struct ImportedApp {
    python_version: (u8, u8),
    /// An app graph with errors is a failure: deploying stops there, before
    /// the analyzer would run.
    outcome: Result<(AppGraph, Result<AppPolicy, AppPolicyFailure>), DeployFailure>,
}

/// Where a deploy emulation gets the analyzer's policy from.
enum PolicySource<'a> {
    Prepared(&'a Result<AppPolicy, AppPolicyFailure>),
    Module(pyast::PyAst),
}

/// Imports app.py as parsed, on a large stack (see [`on_large_stack`]).
pub fn import_app(source: &str, parsed: &ParsedFile, python_version: (u8, u8)) -> ImportedApp {
    on_large_stack(|| import_app_inline(source, parsed, python_version))
}

fn import_app_inline(source: &str, parsed: &ParsedFile, python_version: (u8, u8)) -> ImportedApp {
    import_app_with_memo_inline(source, parsed.clone(), python_version, None).0
}

fn import_converted(source: &str, converted: Result<pyast::PyAst, pyast::SyntaxProblem>, python_version: (u8, u8), analysis: Option<&mut analyzer::AnalyzerMemo>) -> ImportedApp {
    let outcome = converted.map_err(import_failure).and_then(|ast| {
        let graph = appgraph::build_app_graph(&ast, source);
        if let Some(e) = graph.errors.first() {
            return Err(graph_failure(e));
        }
        let policy = policy_from_ast(source, &ast, python_version, analysis);
        crate::process::release(ast);
        Ok((graph, policy))
    });
    ImportedApp { python_version, outcome }
}

/// What the import of one version of app.py leaves for the import of the
/// next: its top-level statements as converted, the symbol tables of its
/// top-level definitions and the analyzer's visits of its views, so that an
/// edit costs the conversion, the tables and, mostly, the visits of the
/// statements it changed (see `pyast::ConversionMemo`,
/// `symtable::SymtableMemo` and `analyzer::AnalyzerMemo`).
#[derive(Default)]
pub struct ImportMemo {
    conversion: pyast::ConversionMemo,
    analysis: analyzer::AnalyzerMemo,
}

/// [`import_app`] started on its own thread (with the large stack) and
/// waited for when first needed. The import takes as long as lowering the
/// file and inferring the whole project together, and nothing but the
/// deploy emulation needs it: the caller gets on with those meanwhile.
///
/// With a `memo` (an editor's text, parsed as one tree), the statements the
/// last import converted are reused, and the import leaves a memo for the
/// next one.
pub fn import_app_in_background(source: std::sync::Arc<str>, parsed: ParsedFile, python_version: (u8, u8), memo: Option<ImportMemo>) -> PendingImport {
    // Copies of a parse share its trees (a reference count): cheap, and
    // kept in case no thread can be started.
    let (text, copy) = (source.clone(), parsed.clone());
    let job = move || {
        let (imported, memo) = import_app_with_memo_inline(&text, copy, python_version, memo);
        (std::sync::Arc::new(imported), memo)
    };
    Pending::start("chalice-import", LARGE_STACK, job, move || (std::sync::Arc::new(import_app(&source, &parsed, python_version)), None))
}

/// [`import_app`] that, given a `memo` and a text parsed as one tree,
/// converts only the top-level statements the memo does not hold, and
/// returns the memo for the next version.
pub fn import_app_with_memo(source: &str, parsed: &ParsedFile, python_version: (u8, u8), memo: Option<ImportMemo>) -> (ImportedApp, Option<ImportMemo>) {
    on_large_stack(|| import_app_with_memo_inline(source, parsed.clone(), python_version, memo))
}

/// Takes the parse by value: once converted, this import's share of the
/// trees is let go (a large app.py's are hundreds of megabytes), while the
/// analysis after the conversion runs.
fn import_app_with_memo_inline(source: &str, parsed: ParsedFile, python_version: (u8, u8), memo: Option<ImportMemo>) -> (ImportedApp, Option<ImportMemo>) {
    // From what the last version's import left, the import is a
    // keystroke's work (see `process::KeystrokeWork`); a first one is not.
    let _keystroke = memo.as_ref().is_some_and(|m| !m.conversion.is_empty()).then(crate::process::KeystrokeWork::start);
    let options = pyast::ParseOptions { python_version };
    let (converted, memo) = match (memo, &parsed) {
        (Some(ImportMemo { conversion, analysis }), ParsedFile::Tree(tree)) => {
            let (converted, conversion) = pyast::convert_with_memo(source, tree, options, conversion);
            (converted, Some(ImportMemo { conversion, analysis }))
        }
        (_, ParsedFile::Syntax(trees)) => (pyast::convert_syntax(source, trees, options), None),
        (_, ParsedFile::Tree(tree)) => (pyast::convert(source, tree, options), None),
    };
    drop(parsed);
    let mut memo = memo;
    let imported = import_converted(source, converted, python_version, memo.as_mut().map(|m| &mut m.analysis));
    (imported, memo)
}

/// An import started by [`import_app_in_background`], and the memo it
/// leaves.
/// The import is shared: the language server keeps the last one checked.
pub type PendingImport = Pending<(std::sync::Arc<ImportedApp>, Option<ImportMemo>)>;

impl ImportedApp {
    /// The Python version the import was emulated for.
    pub fn python_version(&self) -> (u8, u8) {
        self.python_version
    }

    /// Whether this import is `was`, the import of the text before `edit`,
    /// with every range in app.py moved by the edit: what comparing
    /// [`Self::moved`] with it tells, without making the moved copy. The
    /// language server asks it at every keystroke: when it holds, the edit
    /// changed nothing chalice sees but places. (Every struct is taken apart
    /// whole, so that a field added to one cannot be left out here.)
    pub fn is_moved_from(&self, was: &ImportedApp, edit: &TextEdit) -> bool {
        let same = |old: TextRange, new: TextRange| edit.map(old) == Some(new);
        let failure = |a: &DeployFailure, b: &DeployFailure| {
            let DeployFailure { origin, exception, message, range } = a;
            let ranges = match (origin, range, b.range) {
                (FailureOrigin::AppPy, Some(old), Some(new)) => same(*old, new),
                (_, old, new) => *old == new,
            };
            *origin == b.origin && *exception == b.exception && *message == b.message && ranges
        };
        let graph = |a: &AppGraph, b: &AppGraph| {
            let AppGraph { functions, errors, notes } = a;
            let function = |f: &appgraph::LambdaFunctionSpec, g: &appgraph::LambdaFunctionSpec| {
                let appgraph::LambdaFunctionSpec { name, kind, handlers, event_source } = f;
                let handler = |h: &appgraph::HandlerSite, i: &appgraph::HandlerSite| {
                    let appgraph::HandlerSite { python_name, kind, def_range, decorator_range } = h;
                    *python_name == i.python_name && *kind == i.kind && same(*def_range, i.def_range) && same(*decorator_range, i.decorator_range)
                };
                *name == g.name && *kind == g.kind && *event_source == g.event_source && all_pairs(handlers, &g.handlers, handler)
            };
            let error = |e: &AppGraphError, f: &AppGraphError| {
                let AppGraphError { message, range } = e;
                *message == f.message && same(*range, f.range)
            };
            let note = |n: &appgraph::AppGraphNote, o: &appgraph::AppGraphNote| {
                let appgraph::AppGraphNote { message, range } = n;
                *message == o.message && same(*range, o.range)
            };
            all_pairs(functions, &b.functions, function) && all_pairs(errors, &b.errors, error) && all_pairs(notes, &b.notes, note)
        };
        let policy = |a: &Result<AppPolicy, AppPolicyFailure>, b: &Result<AppPolicy, AppPolicyFailure>| match (a, b) {
            (Ok(p), Ok(q)) => {
                let AppPolicy { analysis, built } = p;
                let AutogenEmulation { client_calls, captured } = analysis;
                let call = |c: &analyzer::CapturedCall, d: &analyzer::CapturedCall| {
                    let analyzer::CapturedCall { client, method, range } = c;
                    *client == d.client && *method == d.method && same(*range, d.range)
                };
                *client_calls == q.analysis.client_calls && all_pairs(captured, &q.analysis.captured, call) && *built == q.built
            }
            (Err(AppPolicyFailure::Analyzer(c)), Err(AppPolicyFailure::Analyzer(d))) => {
                let AnalyzerCrash { kind, exception, message, range } = c;
                *kind == d.kind && *exception == d.exception && *message == d.message && same(*range, d.range)
            }
            (Err(f @ AppPolicyFailure::PolicyBuilder(_)), Err(g)) => f == g,
            _ => false,
        };
        self.python_version == was.python_version
            && match (&was.outcome, &self.outcome) {
                (Err(a), Err(b)) => failure(a, b),
                (Ok((graph_a, policy_a)), Ok((graph_b, policy_b))) => graph(graph_a, graph_b) && policy(policy_a, policy_b),
                _ => false,
            }
    }

    /// This import with every range in app.py moved by `edit`
    /// ([`TextEdit::map`]); `None` when a range holds only part of it. What
    /// [`Self::is_moved_from`] is tested against.
    #[cfg(test)]
    fn moved(&self, edit: &TextEdit) -> Option<ImportedApp> {
        let failure = |f: &DeployFailure| -> Option<DeployFailure> {
            let range = match (&f.origin, f.range) {
                (FailureOrigin::AppPy, Some(r)) => Some(edit.map(r)?),
                (_, range) => range,
            };
            Some(DeployFailure { range, ..f.clone() })
        };
        let outcome = match &self.outcome {
            Err(f) => Err(failure(f)?),
            Ok((graph, policy)) => {
                let mut graph = graph.clone();
                for h in graph.functions.iter_mut().flat_map(|f| &mut f.handlers) {
                    h.def_range = edit.map(h.def_range)?;
                    h.decorator_range = edit.map(h.decorator_range)?;
                }
                for e in &mut graph.errors {
                    e.range = edit.map(e.range)?;
                }
                for n in &mut graph.notes {
                    n.range = edit.map(n.range)?;
                }
                let policy = match policy {
                    Ok(p) => {
                        let mut p = p.clone();
                        for c in &mut p.analysis.captured {
                            c.range = edit.map(c.range)?;
                        }
                        Ok(p)
                    }
                    Err(AppPolicyFailure::Analyzer(c)) => Err(AppPolicyFailure::Analyzer(AnalyzerCrash { range: edit.map(c.range)?, ..c.clone() })),
                    Err(f @ AppPolicyFailure::PolicyBuilder(_)) => Err(f.clone()),
                };
                Ok((graph, policy))
            }
        };
        Some(ImportedApp { python_version: self.python_version, outcome })
    }
}

/// Whether `a` and `b` have as many items, and `same` holds for each pair.
fn all_pairs<T>(a: &[T], b: &[T], same: impl Fn(&T, &T) -> bool) -> bool {
    a.len() == b.len() && a.iter().zip(b).all(|(x, y)| same(x, y))
}

/// `import app`: the module as chalice's tools see it, or the SyntaxError.
fn import_ast(source: &str, tree: &tree_sitter::Tree, python_version: (u8, u8)) -> Result<pyast::PyAst, DeployFailure> {
    pyast::convert(source, tree, pyast::ParseOptions { python_version }).map_err(import_failure)
}

fn import_failure(p: pyast::SyntaxProblem) -> DeployFailure {
    DeployFailure::app("SyntaxError", format!("app.py cannot be imported: {}", p.message), Some(p.range))
}

fn graph_failure(e: &AppGraphError) -> DeployFailure {
    let exception = if e.message.starts_with("ExperimentalFeatureError") { "ExperimentalFeatureError" } else { "ValueError" };
    DeployFailure::app(exception, e.message.clone(), Some(e.range))
}

/// A file-based role's policy as chalice loads it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct FilePolicy {
    pub function: String,
    pub path: PathBuf,
    #[serde(skip)]
    pub document: serde_json::Value,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct DeployEmulation {
    pub graph: AppGraph,
    pub roles: Vec<FunctionRole>,
    /// The document of the shared autogenerated role. When the app defines
    /// no Lambda function at all, this is the document such a role would get
    /// (chalice creates none); when functions exist but none uses autogen,
    /// it is `None`.
    pub autogen_document: Option<PolicyDocument>,
    /// The app defines no Lambda function (see `autogen_document`).
    pub no_functions: bool,
    /// The analyzer's view, when it ran.
    pub analysis: Option<AutogenEmulation>,
    /// What chalice prints while building the policy.
    pub warnings: Vec<String>,
    pub file_policies: Vec<FilePolicy>,
}

impl DeployEmulation {
    pub fn role_of(&self, function: &str) -> Option<&FunctionRole> {
        self.roles.iter().find(|r| r.function == function)
    }

    /// The document chalice attaches to `function`'s role: the autogen
    /// document, the policy file's JSON, or `None` for a pre-created role.
    pub fn document_for(&self, function: &str) -> Option<serde_json::Value> {
        match &self.role_of(function)?.role {
            RoleKind::Autogen => self.autogen_document.as_ref().map(|d| d.to_json()),
            RoleKind::FileBased { .. } => self.file_policies.iter().find(|f| f.function == function).map(|f| f.document.clone()),
            RoleKind::PreCreated { .. } => None,
        }
    }
}

/// `chalice deploy`'s path from config.json and app.py to the policies it
/// attaches: config lookup, app import checks, validation, the app graph,
/// and the build steps `PolicyGenerator`, `LambdaEventSourcePolicyInjector`
/// and `WebsocketPolicyInjector`. Packaging, swagger and AWS calls are not
/// part of it.
pub fn emulate_deploy(inputs: &DeployInputs) -> Result<DeployEmulation, DeployFailure> {
    // Only importing app.py here walks its tree, as deep as it nests; with
    // the import done, nothing recurses (and the language server runs this
    // for every stage at every keystroke: a thread started for it cost more
    // than the emulation).
    if inputs.imported.is_some() {
        emulate_deploy_inline(inputs)
    } else {
        on_large_stack(|| emulate_deploy_inline(inputs))
    }
}

fn emulate_deploy_inline(inputs: &DeployInputs) -> Result<DeployEmulation, DeployFailure> {
    let DeployInputs { config, app_source, stage, python_version, cli_autogen_policy, app_policy_cache, imported } = *inputs;
    // create_config_obj computes the api_handler-scoped environment, which
    // walks the same containers as a role lookup.
    let handler_settings = config.scope(stage, API_HANDLER, cli_autogen_policy).map_err(DeployFailure::config)?;

    // Importing app.py: done once per text by `import_app` when the caller
    // has it, else here.
    let (graph, policy_source) = match imported {
        Some(app) => {
            let (graph, policy) = app.outcome.as_ref().map_err(Clone::clone)?;
            (graph.clone(), PolicySource::Prepared(policy))
        }
        None => {
            let tree = crate::python::parse(app_source, None);
            let ast = import_ast(app_source, &tree, python_version)?;
            let graph = appgraph::build_app_graph(&ast, app_source);
            if let Some(e) = graph.errors.first() {
                return Err(graph_failure(e));
            }
            (graph, PolicySource::Module(ast))
        }
    };

    // validate_configuration: the role check looks only at the api_handler
    // scope.
    if !handler_settings.manages_role() && !handler_settings.iam_role_arn.truthy() {
        return Err(DeployFailure {
            origin: FailureOrigin::ConfigJson,
            exception: "ValueError".into(),
            message: "When 'manage_iam_role' is set to false, you must provide an 'iam_role_arn' in config.json.".into(),
            range: handler_settings.manage_iam_role.key_span,
        });
    }

    // ApplicationGraphBuilder.build: per-function settings and VPC checks.
    let roles = resolve_roles(config, &graph, stage, cli_autogen_policy).map_err(DeployFailure::config)?;
    for r in &roles {
        if let Some(e) = r.settings.vpc_error() {
            return Err(DeployFailure { origin: FailureOrigin::ConfigJson, exception: "ChaliceBuildError".into(), ..DeployFailure::config(e) });
        }
    }

    // The build stage, in dependency order.
    let mut app_policy: Option<AppPolicy> = None;
    let mut file_policies: Vec<FilePolicy> = Vec::new();
    let no_functions = graph.functions.is_empty();
    let generate = |app_policy: &mut Option<AppPolicy>| -> Result<(), DeployFailure> {
        if app_policy.is_none() {
            // The analyzer runs on the module already converted for the
            // import above, and its result does not depend on the stage.
            let compute = || match &policy_source {
                PolicySource::Prepared(policy) => (*policy).clone(),
                PolicySource::Module(ast) => policy_from_ast(app_source, ast, python_version, None),
            };
            let policy = match app_policy_cache {
                Some(cache) => cache.get_or_init(compute).clone(),
                None => compute(),
            };
            *app_policy = Some(policy.map_err(|f| match f {
                AppPolicyFailure::Analyzer(c) => {
                    DeployFailure::app(c.kind.python_name(), format!("{}: {}", c.exception, c.message), Some(c.range))
                }
                AppPolicyFailure::PolicyBuilder(c) => DeployFailure::app("UnknownServiceError", c.message, None),
            })?);
        }
        Ok(())
    };
    // Functions sharing a policy file: it is read and parsed once.
    let mut documents: std::collections::HashMap<&std::path::Path, serde_json::Value> = std::collections::HashMap::new();
    for r in &roles {
        match &r.role {
            RoleKind::Autogen => generate(&mut app_policy)?,
            RoleKind::FileBased { policy_file } => {
                let document = match documents.get(policy_file.as_path()) {
                    Some(document) => document.clone(),
                    None => {
                        let document = load_policy_file(policy_file)?;
                        documents.insert(policy_file, document.clone());
                        document
                    }
                };
                file_policies.push(FilePolicy { function: r.function.clone(), path: policy_file.clone(), document });
            }
            RoleKind::PreCreated { .. } => {}
        }
    }
    if no_functions {
        generate(&mut app_policy)?;
    }

    let autogen_document = app_policy.as_ref().map(|p| {
        let mut statements = p.built.document.statements.clone();
        // AppPolicyGenerator.generate_policy (api_handler scope).
        statements.push(policy::cloudwatch_logs_statement());
        if handler_settings.has_vpc() {
            statements.push(policy::vpc_attach_statement(None));
        }
        if handler_settings.xray_enabled() {
            statements.push(policy::xray_statement());
        }
        // PolicyGenerator: the role's VPC_NEEDED trait.
        if let Some(r) = roles.iter().find(|r| r.role == RoleKind::Autogen && r.settings.has_vpc()) {
            statements.push(policy::vpc_attach_statement(Some(r.function.clone())));
        }
        statements.extend(injected_statements(&graph, &roles));
        PolicyDocument { statements }
    });

    Ok(DeployEmulation {
        graph,
        roles,
        autogen_document,
        no_functions,
        warnings: app_policy.as_ref().map(|p| p.built.warnings.clone()).unwrap_or_default(),
        analysis: app_policy.map(|p| p.analysis),
        file_policies,
    })
}

/// `LambdaEventSourcePolicyInjector` then `WebsocketPolicyInjector`.
fn injected_statements(graph: &AppGraph, roles: &[FunctionRole]) -> Vec<PolicyStatement> {
    let is_autogen = |name: &str| roles.iter().any(|r| r.function == name && r.role == RoleKind::Autogen);
    let mut out = Vec::new();
    let mut injected: Vec<EventSourceKind> = Vec::new();
    for f in &graph.functions {
        let Some(kind) = f.event_source else { continue };
        if kind == EventSourceKind::Websocket || injected.contains(&kind) || !is_autogen(&f.name) {
            continue;
        }
        injected.push(kind);
        out.push(match kind {
            EventSourceKind::Sqs => policy::sqs_event_source_statement(f.name.clone()),
            EventSourceKind::Kinesis => policy::kinesis_event_source_statement(f.name.clone()),
            _ => policy::dynamodb_stream_event_source_statement(f.name.clone()),
        });
    }
    // Only the first websocket function (connect, message, disconnect)
    // counts: chalice sets its "done" flag after it whether or not it
    // injected anything.
    if let Some(first) = graph.functions.iter().find(|f| f.event_source == Some(EventSourceKind::Websocket)) {
        if is_autogen(&first.name) {
            out.push(policy::websocket_statement(first.name.clone()));
        }
    }
    out
}

/// `PolicyGenerator._read_document_from_file`: an unreadable file is a
/// `RuntimeError`, invalid JSON is `json.loads`'s own `ValueError`.
fn load_policy_file(path: &std::path::Path) -> Result<serde_json::Value, DeployFailure> {
    let origin = FailureOrigin::PolicyFile(path.to_path_buf());
    let text = match crate::files::read(path) {
        Ok(bytes) => String::from_utf8(bytes).map_err(|_| DeployFailure {
            origin: origin.clone(),
            exception: "UnicodeDecodeError".into(),
            message: format!("IAM policy file {} is not valid UTF-8", path.display()),
            range: None,
        })?,
        Err(e) => {
            return Err(DeployFailure {
                origin,
                exception: "RuntimeError".into(),
                message: format!("Unable to load IAM policy file {}: {e}", path.display()),
                range: None,
            })
        }
    };
    let parsed = crate::json::parse(&text).map_err(|e| DeployFailure {
        origin: origin.clone(),
        exception: "JSONDecodeError".into(),
        message: format!("IAM policy file {} is not valid JSON: {}", path.display(), e.message),
        range: Some(e.span),
    })?;
    Ok(to_serde(&parsed))
}

/// Our span-keeping JSON as `serde_json` (for printing the file's policy
/// the way chalice sends it: same keys, last duplicate wins).
pub(crate) fn to_serde(v: &crate::json::JsonValue) -> serde_json::Value {
    use crate::json::JsonKind;
    match &v.kind {
        JsonKind::Null => serde_json::Value::Null,
        JsonKind::Bool(b) => serde_json::Value::Bool(*b),
        JsonKind::Number { text, value } => serde_json::from_str::<serde_json::Number>(text)
            .map(serde_json::Value::Number)
            .unwrap_or_else(|_| serde_json::Number::from_f64(*value).map(serde_json::Value::Number).unwrap_or(serde_json::Value::Null)),
        JsonKind::String(s) => serde_json::Value::String(s.clone()),
        JsonKind::Array(a) => serde_json::Value::Array(a.iter().map(to_serde).collect()),
        JsonKind::Object(members) => {
            let mut map = serde_json::Map::new();
            for m in members {
                // Python dicts keep the first position of a repeated key
                // with the last value; serde_json's preserve_order map does
                // the same on insert.
                map.insert(m.key.clone(), to_serde(&m.value));
            }
            serde_json::Value::Object(map)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use expect_test::{expect, Expect};
    use std::path::Path;

    fn check(config: &str, app: &str, files: &[(&str, &str)], expected: Expect) {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(dir.path().join(".chalice")).unwrap();
        for (name, text) in files {
            std::fs::write(dir.path().join(".chalice").join(name), text).unwrap();
        }
        let cfg = ChaliceConfig::from_text(dir.path(), Some(dir.path().join(".chalice/config.json")), config.into()).unwrap();
        let inputs = DeployInputs { config: &cfg, app_source: app, stage: "dev", python_version: (3, 11), cli_autogen_policy: None, app_policy_cache: None, imported: None };
        let out = match emulate_deploy(&inputs) {
            Ok(d) => {
                let mut s = String::new();
                match &d.autogen_document {
                    Some(doc) => {
                        for st in &doc.statements {
                            s.push_str(&format!("{}\n", st.actions.join(" ")));
                        }
                    }
                    None => s.push_str("(no autogen role)\n"),
                }
                for r in &d.roles {
                    if let RoleKind::FileBased { .. } = r.role {
                        s.push_str(&format!("{}: {}\n", r.function, d.document_for(&r.function).unwrap()));
                    }
                }
                s
            }
            Err(f) => format!("failure {}: {}\n", f.exception, f.message.replace(&dir.path().display().to_string(), "<p>")),
        };
        expected.assert_eq(&out);
    }

    const APP: &str = "import boto3\nfrom chalice import Chalice\napp = Chalice(app_name='x')\napp.experimental_feature_flags.update(['WEBSOCKETS'])\nddb = boto3.client('dynamodb')\n@app.route('/')\ndef index():\n    return ddb.scan()\n@app.on_sqs_message(queue='q')\ndef consume(event):\n    pass\n@app.on_kinesis_record(stream='s')\ndef kin(event):\n    pass\n@app.on_ws_message()\ndef msg(event):\n    pass\n";

    /// Imports each version of app.py in turn with the memo the previous
    /// import left, and requires what a fresh import finds: the same app
    /// graph, policy or failure, at the same places. Returns how many view
    /// visits the imports took from the last version's.
    fn check_imports_with_memo(versions: &[String]) -> usize {
        let mut memo = Some(ImportMemo::default());
        let mut taken = 0;
        for (i, text) in versions.iter().enumerate() {
            let before = memo.as_ref().map_or(0, |m| m.analysis.views_taken);
            let tree = crate::python::parse(text, None);
            let source: std::sync::Arc<str> = text.as_str().into();
            let pending = import_app_in_background(source, ParsedFile::Tree(tree.clone()), (3, 12), memo.take());
            let fresh = import_app(text, &ParsedFile::Tree(tree), (3, 12));
            assert_eq!(format!("{:#?}", pending.get().0), format!("{fresh:#?}"), "version {i}:\n{text}");
            memo = pending.into_finished().and_then(|(_, memo)| memo).or_else(|| Some(ImportMemo::default()));
            taken += memo.as_ref().map_or(0, |m| m.analysis.views_taken.saturating_sub(before));
        }
        taken
    }

    #[test]
    fn edited_versions_import_as_fresh_ones() {
        let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../examples");
        let hashed = pyast::LOOKED_UP_BY_HASH.load(std::sync::atomic::Ordering::Relaxed);
        for example in ["thread-resource", "thread-client", "media-library"] {
            let app = std::fs::read_to_string(root.join(example).join("app.py")).unwrap();
            let mut versions = edited_versions(&app, "def helper():\n    return boto3.client('sqs').send_message(QueueUrl='q', MessageBody='b')\n");
            // Helpers moved from its end to its start, and back: statements
            // found neither by index from the start nor from the end.
            let helpers: String = (0..20).map(|i| format!("def helper_{i}():\n    return boto3.client('s3').list_buckets()\n\n")).collect();
            versions.extend([
                app.replacen("def ", "def (", 1),
                app.clone(),
                format!("{APP}\n{app}"),
                format!("{app}\n{helpers}"),
                format!("{helpers}\n{app}"),
                format!("{app}\n{helpers}"),
                app.clone(),
                String::new(),
                app.clone(),
            ]);
            check_imports_with_memo(&versions);
        }
        assert!(pyast::LOOKED_UP_BY_HASH.load(std::sync::atomic::Ordering::Relaxed) > hashed, "no statement was looked up by hash");
    }

    /// Views whose last visit can stand for this one's, and views that look
    /// like it but cannot: a view called as a helper by a later view (and,
    /// after an edit, by an earlier one; the helper call's visit reads what
    /// the view's own visit left, `h`), views reading module-level clients
    /// and names that edits rename, a view named `top` (whose body the
    /// module-level visit walks), two views with the same text, one whose
    /// visit raises. Random keystrokes (most of them breaking the syntax for
    /// a while) and edits of module-level names: every import with the
    /// memo is what a fresh import finds, and some views were taken.
    #[test]
    fn views_taken_from_the_last_version_are_what_a_fresh_import_finds() {
        let app = "import boto3\nfrom chalice import Chalice\napp = Chalice(app_name='x')\ns3 = boto3.client('s3')\nddb = boto3.client('dynamodb')\nNAME = 'sqs'\n\n\
            def helper():\n    return boto3.client('sns')\n\n\
            @app.route('/a')\ndef a():\n    s3.list_buckets()\n    c = boto3.client(NAME)\n    c.send_message()\n    return [x for x in ddb.scan()]\n\n\
            @app.route('/b')\ndef b():\n    helper().publish()\n    return a()\n\n\
            @app.route('/c')\ndef c():\n    client = ddb\n    client.get_item()\n    return {x.put_item() for x in [ddb]}\n\n\
            @app.route('/d')\ndef top():\n    s3.get_object()\n\n\
            @app.route('/e')\ndef e():\n    s3.put_object()\n\n\
            @app.route('/e')\ndef e():\n    s3.put_object()\n\n\
            @app.route('/g')\ndef g():\n    ddb.query()\n\n\
            @app.route('/h')\ndef h():\n    k.delete_item()\n    k = ddb\n\n\
            @app.route('/i')\ndef i():\n    return h()\n";
        // A statement the conversion rejects starts its memo afresh, and the
        // next conversion numbers nodes from the start again: an unchanged
        // view can then have the node id another view had.
        let g = "@app.route('/g')\ndef g():\n    ddb.query()\n\n";
        let moved_up = app.replacen(g, "", 1).replacen("NAME = 'sqs'\n", &format!("NAME = 'sqs'\n\n\n{g}"), 1);
        let mut versions = vec![app.to_string(), format!("{app}\nprint 'x'\n"), moved_up, app.to_string()];
        for (from, to) in [
            ("s3 = boto3.client('s3')", "s3x = boto3.client('s3')"),
            ("NAME = 'sqs'", "NAME = 'sns'"),
            ("def helper():", "def helperx():"),
            ("    return a()", "    return 1"),
            ("    return h()", "    return 1"),
            ("@app.route('/a')\ndef a():", "@app.route('/b')\ndef b():\n    return a()\n\n\n@app.route('/a')\ndef a():"),
            ("    ddb.query()", "    ddb.query()\n    undefined.x()"),
            ("ddb = boto3.client('dynamodb')", "import boto3 as ddb"),
        ] {
            versions.push(app.replacen(from, to, 1));
            versions.push(app.to_string());
        }
        let mut rng = crate::lsp::test_support::Rng::new(3);
        let mut text = app.to_string();
        for _ in 0..400 {
            let places: Vec<usize> = (0..=text.len()).filter(|&i| text.is_char_boundary(i)).collect();
            let at = *rng.pick(&places);
            if rng.chance(50) && at < text.len() {
                let next = places.iter().copied().find(|&i| i > at).unwrap_or(text.len());
                text.replace_range(at..next, "");
            } else {
                let typed: &&str = rng.pick(&["x", "s", " ", "(", ")", ".", "_", "\n", "3"]);
                text.insert_str(at, typed);
            }
            versions.push(text.clone());
            if rng.chance(12) {
                text = app.to_string();
                versions.push(text.clone());
            }
        }
        let taken = check_imports_with_memo(&versions);
        assert!(taken > 100, "{taken} views taken from the last version");
    }

    /// Every keystroke (a letter typed or deleted) at every fifth place of
    /// the examples and of apps chalice fails on: the import of the edited
    /// text is the last one moved exactly when comparing a moved copy says so.
    #[test]
    fn an_import_is_moved_from_the_last_exactly_when_its_moved_copy_equals_it() {
        let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../examples");
        let mut apps: Vec<String> = ["thread-resource", "thread-client", "media-library"].iter().map(|e| std::fs::read_to_string(root.join(e).join("app.py")).unwrap()).collect();
        // chalice's analyzer raises; chalice's import fails.
        apps.push("from chalice import Chalice\napp = Chalice(app_name='x')\n\n@app.route('/')\ndef index():\n    import boto3\n    return boto3.client('s3').list_buckets()\n\nimport boto3 as b\nimport boto3 as b\n".into());
        apps.push("from chalice import Chalice\napp = Chalice(app_name='x')\n\n@app.on_sqs_message()\ndef first(event):\n    pass\n\n@app.on_sqs_message()\ndef second(event):\n    pass\n".into());
        let (mut moved, mut not_moved) = (0, 0);
        for app in &apps {
            let import = |text: &str| import_app(text, &ParsedFile::Tree(crate::python::parse(text, None)), (3, 12));
            let was = import(app);
            for at in (0..app.len()).step_by(5).filter(|&i| app.is_char_boundary(i)) {
                let typed = format!("{}x{}", &app[..at], &app[at..]);
                let next = app.char_indices().nth(app[..at].chars().count() + 1).map_or(app.len(), |(i, _)| i);
                let deleted = format!("{}{}", &app[..at], &app[next..]);
                for text in [typed, deleted] {
                    let now = import(&text);
                    let edit = TextEdit::between(app, &text);
                    let expected = was.moved(&edit).as_ref() == Some(&now);
                    assert_eq!(now.is_moved_from(&was, &edit), expected, "edit {edit:?} of:\n{app}");
                    if expected {
                        moved += 1;
                    } else {
                        not_moved += 1;
                    }
                }
            }
        }
        assert!(moved > 100 && not_moved > 100, "{moved} moved, {not_moved} not");
    }

    #[test]
    fn injections_vpc_twice_and_xray() {
        check(
            r#"{"app_name": "x", "xray": true, "subnet_ids": ["s"], "security_group_ids": ["g"]}"#,
            APP,
            &[],
            expect![[r#"
                dynamodb:Scan
                logs:CreateLogGroup logs:CreateLogStream logs:PutLogEvents
                ec2:CreateNetworkInterface ec2:DescribeNetworkInterfaces ec2:DetachNetworkInterface ec2:DeleteNetworkInterface
                xray:PutTraceSegments xray:PutTelemetryRecords
                ec2:CreateNetworkInterface ec2:DescribeNetworkInterfaces ec2:DetachNetworkInterface ec2:DeleteNetworkInterface
                sqs:ReceiveMessage sqs:DeleteMessage sqs:GetQueueAttributes
                kinesis:GetRecords kinesis:GetShardIterator kinesis:DescribeStream kinesis:ListStreams
                execute-api:ManageConnections
            "#]],
        );
    }

    #[test]
    fn file_based_functions_get_no_injection() {
        check(
            r#"{"app_name": "x", "lambda_functions": {"consume": {"autogen_policy": false, "iam_policy_file": "c.json"}}}"#,
            APP,
            &[("c.json", r#"{"Version": "2012-10-17", "Statement": []}"#)],
            expect![[r#"
                dynamodb:Scan
                logs:CreateLogGroup logs:CreateLogStream logs:PutLogEvents
                kinesis:GetRecords kinesis:GetShardIterator kinesis:DescribeStream kinesis:ListStreams
                execute-api:ManageConnections
                consume: {"Version":"2012-10-17","Statement":[]}
            "#]],
        );
    }

    #[test]
    fn missing_policy_file_and_manage_role_validation() {
        check(
            r#"{"autogen_policy": false}"#,
            APP,
            &[],
            expect![[r#"
                failure RuntimeError: Unable to load IAM policy file <p>/.chalice/policy-dev.json: No such file or directory (os error 2)
            "#]],
        );
        check(
            r#"{"manage_iam_role": false}"#,
            APP,
            &[],
            expect![[r#"
                failure ValueError: When 'manage_iam_role' is set to false, you must provide an 'iam_role_arn' in config.json.
            "#]],
        );
    }

    #[test]
    fn analyzer_crash_only_matters_with_an_autogen_role() {
        let app = "import boto3 as b\nfrom chalice import Chalice\napp = Chalice(app_name='x')\n@app.route('/')\ndef index():\n    pass\n";
        check(
            "{}",
            app,
            &[],
            expect![[r#"
                failure KeyError: 'boto3': `import boto3 as b` binds boto3 under another name and app.py has no plain `import boto3` in this scope; chalice's analyzer looks up the name `boto3` and fails
            "#]],
        );
        check(
            r#"{"autogen_policy": false}"#,
            app,
            &[("policy-dev.json", "{}")],
            expect![[r#"
                (no autogen role)
                api_handler: {}
            "#]],
        );
    }

    #[test]
    fn websocket_flag_is_set_by_the_first_handler_even_without_injection() {
        let app = "from chalice import Chalice\napp = Chalice(app_name='x')\napp.experimental_feature_flags.add('WEBSOCKETS')\n@app.on_ws_connect()\ndef c(e): pass\n@app.on_ws_message()\ndef m(e): pass\n";
        check(
            r#"{"lambda_functions": {"websocket_connect": {"autogen_policy": false}}}"#,
            app,
            &[("policy-dev.json", "{}")],
            expect![[r#"
                logs:CreateLogGroup logs:CreateLogStream logs:PutLogEvents
                websocket_connect: {}
            "#]],
        );
        let _ = Path::new("");
    }
}
