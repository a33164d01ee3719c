//! chalice 1.34.0's `chalice/analyzer.py` (`get_client_calls_for_app`),
//! reproduced over the tree-sitter tree of `app.py`.
//!
//! The structure follows chalice's classes on purpose: `Infer` is
//! `SymbolTableTypeInfer` (one per `ParsedCode`: an AST root plus a
//! two-level `ChainedSymbolTable`), the binder and the per-symbol state are
//! shared, and `visit_*` methods mirror chalice's. Matching chalice exactly
//! means reproducing its blind spots and its crashes too, so nothing here is
//! "improved": a `KeyError` chalice raises is an [`AnalyzerCrash`], and a
//! call chalice does not type is simply absent from the result.

use std::collections::{BTreeMap, BTreeSet};
use std::rc::Rc;

use serde::Serialize;

use super::pyast::{self, CompKind, Kind, NodeId, ParseOptions, PyAst};
use super::symtable::{self, SymTables, TableId};
use crate::analysis::TextRange;

/// Symbol and type maps are hashed on every name the passes meet; FxHash
/// is several times cheaper than the default SipHash on short keys
/// (nothing here needs protection from adversarial collisions).
type HashMap<K, V> = rustc_hash::FxHashMap<K, V>;
type HashSet<T> = rustc_hash::FxHashSet<T>;

/// The decorator attribute names `AppViewTypeInfer._is_chalice_view`
/// accepts. `on_cw_event`, `on_kinesis_record` and `on_dynamodb_record` are
/// missing in chalice, so their handlers are never analysed.
pub const CHALICE_VIEW_DECORATORS: [&str; 10] = [
    "route",
    "authorizer",
    "lambda_function",
    "schedule",
    "on_s3_event",
    "on_sns_message",
    "on_sqs_message",
    "on_ws_connect",
    "on_ws_message",
    "on_ws_disconnect",
];

/// Python's version matters: 3.12 inlines list/set/dict comprehensions
/// (PEP 709), which changes what the analyzer sees inside functions.
pub const DEFAULT_PYTHON_VERSION: (u8, u8) = (3, 12);

/// What chalice's analyzer captured: client name → methods called on it.
pub type ClientCalls = BTreeMap<String, BTreeSet<String>>;

/// A call chalice's analyzer typed as `Boto3ClientMethodCallType`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CapturedCall {
    pub client: String,
    pub method: String,
    /// The node chalice typed (usually the call expression).
    pub range: TextRange,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AutogenEmulation {
    /// Exactly `get_client_calls_for_app(source)`.
    pub client_calls: ClientCalls,
    /// Where each captured call is, in source order (for diagnostics).
    pub captured: Vec<CapturedCall>,
}

/// The Python exception chalice's analyzer would raise.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum CrashKind {
    /// `ast.parse` / `symtable.symtable` reject the source.
    SyntaxError,
    /// A name looked up in a symbol table that does not have it.
    KeyError,
    /// `Unknown symbol name: <f>` for a nested function called by name.
    ValueError,
    /// Python's recursion limit; approximated (see `MAX_PYTHON_FRAMES`).
    RecursionError,
    /// app.py is not valid UTF-8 (`open(...).read()` fails).
    UnicodeDecodeError,
}

impl CrashKind {
    pub fn python_name(self) -> &'static str {
        match self {
            CrashKind::SyntaxError => "SyntaxError",
            CrashKind::KeyError => "KeyError",
            CrashKind::ValueError => "ValueError",
            CrashKind::RecursionError => "RecursionError",
            CrashKind::UnicodeDecodeError => "UnicodeDecodeError",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AnalyzerCrash {
    pub kind: CrashKind,
    /// The exception text chalice would show, e.g. `'boto3'`.
    pub exception: String,
    /// What in the source causes it, in words.
    pub message: String,
    pub range: TextRange,
}

/// Runs chalice's analyzer on `source` as Python `python_version` would.
pub fn emulate_autogen(source: &str, python_version: (u8, u8)) -> Result<AutogenEmulation, AnalyzerCrash> {
    let tree = crate::python::parse(source, None);
    emulate_autogen_tree(source, &tree, python_version)
}

/// Same as [`emulate_autogen`] over an already parsed tree.
pub fn emulate_autogen_tree(
    source: &str,
    tree: &tree_sitter::Tree,
    python_version: (u8, u8),
) -> Result<AutogenEmulation, AnalyzerCrash> {
    super::on_large_stack(|| emulate_inline(source, tree, python_version))
}

fn emulate_inline(source: &str, tree: &tree_sitter::Tree, python_version: (u8, u8)) -> Result<AutogenEmulation, AnalyzerCrash> {
    bom_crash(source)?;
    let ast = convert_for_analyzer(source, tree, python_version)?;
    emulate_ast(source, &ast, python_version, None)
}

/// chalice reads app.py as text without stripping a UTF-8 BOM and hands
/// it to `ast.parse`, which rejects it (importing the app still works).
fn bom_crash(source: &str) -> Result<(), AnalyzerCrash> {
    if source.starts_with('\u{feff}') {
        return Err(AnalyzerCrash {
            kind: CrashKind::SyntaxError,
            exception: "invalid non-printable character U+FEFF".into(),
            message: "app.py starts with a UTF-8 byte order mark; chalice passes it to `ast.parse`, which rejects it".into(),
            range: TextRange::new(0, 3),
        });
    }
    Ok(())
}

/// `ast.parse` as the analyzer sees it: a conversion failure is the crash
/// chalice would show.
fn convert_for_analyzer(source: &str, tree: &tree_sitter::Tree, python_version: (u8, u8)) -> Result<PyAst, AnalyzerCrash> {
    pyast::convert(source, tree, ParseOptions { python_version }).map_err(|p| AnalyzerCrash {
        kind: if p.too_deep { CrashKind::RecursionError } else { CrashKind::SyntaxError },
        exception: p.message.clone(),
        message: if p.too_deep {
            format!("{}: chalice's parser and visitors hit Python's recursion limit near here (approximated)", p.message)
        } else {
            format!("{}: `ast.parse` rejects app.py, so the analyzer never runs", p.message)
        },
        range: p.range,
    })
}

/// What the analysis of one version of app.py leaves for the next: the
/// symbol tables of its top-level definitions (`symtable::SymtableMemo`)
/// and the visits of its views (`ViewMemo`).
#[derive(Default)]
pub(crate) struct AnalyzerMemo {
    pub(crate) symtables: symtable::SymtableMemo,
    views: ViewMemo,
    /// How many view visits the runs with this memo took from the last
    /// version's.
    #[cfg(test)]
    pub(crate) views_taken: usize,
}

/// The last run's visits of top-level views, by the view's `def` node: a
/// top-level statement whose text is unchanged keeps its segment and node
/// ids (see `pyast::ConversionMemo`), which is checked.
///
/// A view's visit reads the module's table (its symbols, and the types and
/// nodes the module-level visit left in it: nothing writes them once the
/// views are being visited), the view's own table, and its own nodes' types
/// and statement texts. The last two are written only by visits of the view
/// itself: its own, or a helper call into it (chalice's analyzer follows a
/// call to any module-level function, a view included). So a view's last
/// visit stands for this one when its statement is unchanged, the module
/// state after the module-level visit is the same, and neither then nor
/// now did any helper call enter it before its own visit, nor did its own
/// visit follow a helper call (that would read another function's state).
/// A helper call entering a view taken this way after its turn is found
/// at the end, and the analysis runs again without taking any.
#[derive(Default)]
struct ViewMemo {
    python_version: (u8, u8),
    module: Option<ModuleState>,
    views: HashMap<NodeId, ViewVisit>,
}

/// What a view's visit captured and how much work it counted (towards
/// [`MAX_WORK`]).
struct ViewVisit {
    /// The segment the view's statement was converted into: a node id
    /// names the same node only in a module holding this same segment (a
    /// conversion that starts afresh numbers nodes from the start again).
    segment: std::sync::Arc<Vec<pyast::Node>>,
    captured: Vec<(NodeId, String, String)>,
    work: usize,
}

/// What a view's visit reads of the module: the module table's symbols
/// (flags and scope), the types the module-level visit gave its names (as
/// their debug text) and the names it registered a `def` for.
struct ModuleState {
    symbols: HashMap<String, (u32, u8)>,
    types: HashMap<String, String>,
    defs: HashSet<String>,
}

/// The analyzer over a module already converted for importing it (the
/// deploy path builds the app graph from the same conversion). Needs a
/// large stack: see `on_large_stack`.
/// With a `memo`, the symbol tables of unchanged top-level definitions
/// are taken from the last version's (see `symtable::SymtableMemo`), and
/// so are the visits of unchanged views where they stand for this one's
/// (see [`ViewMemo`]).
pub(crate) fn emulate_ast(source: &str, ast: &PyAst, python_version: (u8, u8), memo: Option<&mut AnalyzerMemo>) -> Result<AutogenEmulation, AnalyzerCrash> {
    bom_crash(source)?;
    let mut memo = memo;
    let tables = symtable::build_with_memo(ast, python_version, memo.as_deref_mut().map(|m| &mut m.symtables)).map_err(|e| AnalyzerCrash {
        kind: CrashKind::SyntaxError,
        exception: e.message.clone(),
        message: format!("{}: `symtable.symtable` rejects app.py", e.message),
        range: e.range,
    })?;
    // Taken: this run leaves its own (none when it fails).
    let last = memo.as_deref_mut().map(|m| std::mem::take(&mut m.views)).filter(|last| last.python_version == python_version);
    let recording = memo.is_some();
    let mut emu = Emulator::new(ast, &tables, source, last, recording);
    let mut outcome = emu.app_view_type_infer();
    if !emu.reused.is_empty() && (outcome.is_err() || emu.reused.iter().any(|t| emu.entered.contains(t))) {
        // A view taken from the last run was entered by a helper call, or
        // the run failed: the failure must be the one a full run meets.
        emu = Emulator::new(ast, &tables, source, None, recording);
        outcome = emu.app_view_type_infer();
    }
    outcome.map_err(|c| emu.describe(c))?;
    if let Some(memo) = memo {
        // A view a helper call entered at any point is visited again next
        // time: taking it would have this run's analysis run again.
        let entered = &emu.entered;
        let views = std::mem::take(&mut emu.next).into_iter().filter(|(_, (table, _))| !entered.contains(table)).map(|(id, (_, visit))| (id, visit)).collect();
        memo.views = ViewMemo { python_version, module: emu.module_state.take(), views };
        #[cfg(test)]
        {
            memo.views_taken += emu.reused.len();
        }
    }
    let mut client_calls = ClientCalls::new();
    for c in &emu.captured {
        client_calls.entry(c.client.clone()).or_default().insert(c.method.clone());
    }
    let mut captured = std::mem::take(&mut emu.captured);
    captured.sort_by(|a, b| (a.range, &a.client, &a.method).cmp(&(b.range, &b.client, &b.method)));
    Ok(AutogenEmulation { client_calls, captured })
}

/// The analyzer's types (`Boto3ModuleType`, ...). `Rc<str>` because the
/// same names are copied into many nodes' types.
#[derive(Debug, Clone, PartialEq)]
enum Ty {
    Module,
    CreateClient,
    Client(Rc<str>),
    Method(Rc<str>, Rc<str>),
    /// A subclass of `Method` in chalice: `isinstance(x, Method)` holds.
    MethodCall(Rc<str>, Rc<str>),
    Function(Box<Ty>),
    Str(Rc<str>),
}

/// A Python exception raised inside the emulation, before it is described.
#[derive(Debug, Clone)]
enum Raise {
    KeyError { name: String, node: NodeId },
    ValueError { message: String, node: NodeId },
    Recursion { node: NodeId },
}

type R<T = ()> = Result<T, Raise>;

/// Python's default recursion limit is 1000 frames, of which chalice's CLI
/// and build stage use some before the analyzer starts. We count the
/// analyzer's frames and raise `RecursionError` past this, which matches
/// chalice within a few levels rather than exactly.
const MAX_PYTHON_FRAMES: usize = 950;
/// A file whose analysis would take this many node visits is treated as a
/// recursion failure: chalice re-analyses a helper at every call site, which
/// is exponential for helpers calling helpers with parameters.
const MAX_WORK: usize = 5_000_000;

/// `ChainedSymbolTable`: a local table and the one lookups fall back to.
#[derive(Debug, Clone, Copy)]
struct Chain {
    local: TableId,
    global: TableId,
}

struct Emulator<'a> {
    ast: &'a PyAst,
    st: &'a SymTables<'a>,
    source: &'a str,
    /// `TypedSymbol.inferred_type`, persistent per table and name (Python's
    /// `symtable` memoises table and symbol objects).
    sym_type: HashMap<(TableId, &'a str), Ty>,
    /// `TypedSymbol.ast_node`.
    sym_node: HashMap<(TableId, &'a str), NodeId>,
    /// `TypeBinder._node_to_type`.
    node_type: HashMap<NodeId, Ty>,
    /// `TypeBinder._node_to_api_calls`, in the order they were typed.
    captured: Vec<CapturedCall>,
    captured_set: HashSet<(NodeId, Rc<str>, Rc<str>)>,
    /// `SymbolTableTypeInfer._visited`: call nodes being inferred.
    visited: HashSet<NodeId>,
    frames: usize,
    work: usize,
    /// The node of each of `captured`.
    captured_nodes: Vec<NodeId>,
    /// The tables of the functions helper calls entered, and how many
    /// helper calls were followed.
    entered: HashSet<TableId>,
    helper_calls: usize,
    /// The last run's visits (see [`ViewMemo`]), while they can stand for
    /// this run's; the tables of the views taken from them.
    last: Option<ViewMemo>,
    reused: Vec<TableId>,
    /// Whether this run records its visits for the next (`next`, and the
    /// module state once the module-level visit is done).
    recording: bool,
    next: HashMap<NodeId, (TableId, ViewVisit)>,
    module_state: Option<ModuleState>,
}

/// One `SymbolTableTypeInfer` instance.
#[derive(Debug, Clone, Copy)]
struct Infer {
    chain: Chain,
    /// `_current_ast_namespace`: where `return` records the function type.
    namespace: NodeId,
}

impl<'a> Emulator<'a> {
    fn new(ast: &'a PyAst, st: &'a SymTables<'a>, source: &'a str, last: Option<ViewMemo>, recording: bool) -> Self {
        Emulator {
            ast,
            st,
            source,
            sym_type: HashMap::default(),
            sym_node: HashMap::default(),
            node_type: HashMap::default(),
            captured: Vec::new(),
            captured_set: HashSet::default(),
            visited: HashSet::default(),
            frames: 0,
            work: 0,
            captured_nodes: Vec::new(),
            entered: HashSet::default(),
            helper_calls: 0,
            last,
            reused: Vec::new(),
            recording,
            next: HashMap::default(),
            module_state: None,
        }
    }

    // ----- the last run's visits ------------------------------------------

    /// The module table's names with a type, and those with a `def`.
    fn module_types(&self) -> impl Iterator<Item = (&'a str, &Ty)> + Clone + '_ {
        self.sym_type.iter().filter(|((t, _), _)| *t == self.st.top).map(|((_, name), ty)| (*name, ty))
    }

    fn module_defs(&self) -> impl Iterator<Item = &'a str> + Clone + '_ {
        self.sym_node.keys().filter(|(t, _)| *t == self.st.top).map(|(_, name)| *name)
    }

    /// Whether `state` is what the module-level visit left in this run
    /// (compared in place: building this run's state copies every name).
    fn module_state_is(&self, state: &ModuleState) -> bool {
        let symbols = self.st.symbols(self.st.top);
        let (types, defs) = (self.module_types(), self.module_defs());
        symbols.len() == state.symbols.len()
            && types.clone().count() == state.types.len()
            && defs.clone().count() == state.defs.len()
            && symbols.into_iter().all(|(name, s)| state.symbols.get(name) == Some(&s))
            && types.into_iter().all(|(name, ty)| state.types.get(name).is_some_and(|t| *t == format!("{ty:?}")))
            && defs.into_iter().all(|name| state.defs.contains(name))
    }

    fn module_state(&self) -> ModuleState {
        ModuleState {
            symbols: self.st.symbols(self.st.top).map(|(name, s)| (name.to_string(), s)).collect(),
            types: self.module_types().map(|(name, ty)| (name.to_string(), format!("{ty:?}"))).collect(),
            defs: self.module_defs().map(str::to_string).collect(),
        }
    }

    /// After the module-level visit: keeps the last run's view visits only
    /// if they read the same module state, and records this run's.
    fn module_visited(&mut self) {
        let last_state = self.last.as_mut().and_then(|last| last.module.take());
        let same = last_state.as_ref().is_some_and(|state| self.module_state_is(state));
        if !same {
            self.last = None;
        }
        if self.recording {
            self.module_state = if same { last_state } else { Some(self.module_state()) };
        }
    }

    /// A view that is a top-level statement: its last visit taken when it
    /// stands for this one (see [`ViewMemo`]), else visited and recorded.
    fn top_level_view(&mut self, id: NodeId, name: &str) -> R {
        let top = Chain { local: self.st.top, global: self.st.top };
        let sub = self.lookup_sub_namespace(top, name, self.ast.line(id), id)?;
        let clean = !self.entered.contains(&sub.local);
        // A function named `top` has the module table's name: the
        // module-level visit walks its body too.
        let takeable = clean && name != "top";
        let work = self.work;
        let ast = self.ast;
        let segment = ast.segment_nodes(id);
        let last = self
            .last
            .as_mut()
            .filter(|_| takeable)
            .and_then(|last| last.views.remove(&id))
            .filter(|v| std::sync::Arc::ptr_eq(&v.segment, segment) && work + v.work <= MAX_WORK);
        if let Some(visit) = last {
            self.work += visit.work;
            for (node, client, method) in &visit.captured {
                self.capture(*node, &Rc::from(client.as_str()), &Rc::from(method.as_str()));
            }
            self.reused.push(sub.local);
            self.next.insert(id, (sub.local, visit));
            return Ok(());
        }
        let (helper_calls, captured) = (self.helper_calls, self.captured.len());
        self.visit(Infer { chain: sub, namespace: id }, id)?;
        if self.recording && takeable && self.helper_calls == helper_calls {
            let captured = self.captured[captured..].iter().zip(&self.captured_nodes[captured..]).map(|(c, node)| (*node, c.client.clone(), c.method.clone())).collect();
            self.next.insert(id, (sub.local, ViewVisit { segment: segment.clone(), captured, work: self.work - work }));
        }
        Ok(())
    }

    // ----- ChainedSymbolTable -------------------------------------------

    fn lookup_err(&self, table: TableId, name: &str, node: NodeId) -> R {
        if self.st.has(table, name) {
            Ok(())
        } else {
            Err(Raise::KeyError { name: name.to_string(), node })
        }
    }

    fn get_inferred_type(&self, chain: Chain, name: &'a str, node: NodeId) -> R<Option<Ty>> {
        self.lookup_err(chain.local, name, node)?;
        if self.st.is_global(chain.local, name) {
            if !self.st.has(chain.global, name) {
                // Not an error in chalice: builtins are not in any table.
                return Ok(None);
            }
            return Ok(self.sym_type.get(&(chain.global, name)).cloned());
        }
        Ok(self.sym_type.get(&(chain.local, name)).cloned())
    }

    fn set_inferred_type(&mut self, chain: Chain, name: &'a str, ty: Option<Ty>, node: NodeId) -> R {
        self.lookup_err(chain.local, name, node)?;
        let key = (chain.local, name);
        match ty {
            Some(t) => self.sym_type.insert(key, t),
            None => self.sym_type.remove(&key),
        };
        Ok(())
    }

    fn lookup_sub_namespace(&self, chain: Chain, name: &str, lineno: usize, node: NodeId) -> R<Chain> {
        let local = self.st.children_named(chain.local, name);
        if let Some(&child) = local.iter().find(|&&c| self.st.table(c).lineno == lineno) {
            return Ok(Chain { local: child, global: chain.local });
        }
        if let Some(&child) = self.st.children_named(chain.global, name).first() {
            return Ok(Chain { local: child, global: chain.global });
        }
        Err(Raise::ValueError { message: format!("Unknown symbol name: {name}"), node })
    }

    fn register_ast_node_for_symbol(&mut self, chain: Chain, name: &'a str, def: NodeId) -> R {
        self.lookup_err(chain.local, name, def)?;
        self.sym_node.insert((chain.local, name), def);
        Ok(())
    }

    /// `lookup_ast_node_for_symbol`: `Err` is the KeyError / ValueError
    /// chalice raises; `has_ast_node_for_symbol` swallows both.
    fn lookup_ast_node_for_symbol(&self, chain: Chain, name: &str, node: NodeId) -> R<NodeId> {
        self.lookup_err(chain.local, name, node)?;
        let table = if self.st.is_global(chain.local, name) {
            self.lookup_err(chain.global, name, node)?;
            chain.global
        } else {
            chain.local
        };
        self.sym_node
            .get(&(table, name))
            .copied()
            .ok_or_else(|| Raise::ValueError { message: format!("No AST node registered for symbol: {name}"), node })
    }

    // ----- TypeBinder ---------------------------------------------------

    /// `TypeBinder` records a call typed `Boto3ClientMethodCallType`, once.
    fn capture(&mut self, node: NodeId, svc: &Rc<str>, m: &Rc<str>) {
        if self.captured_set.insert((node, svc.clone(), m.clone())) {
            self.captured.push(CapturedCall { client: svc.to_string(), method: m.to_string(), range: self.ast.range(node) });
            self.captured_nodes.push(node);
        }
    }

    fn set_node_type(&mut self, node: NodeId, ty: Option<Ty>) {
        match ty {
            Some(t) => {
                if let Ty::MethodCall(svc, m) = &t {
                    self.capture(node, svc, m);
                }
                self.node_type.insert(node, t);
            }
            None => {
                self.node_type.remove(&node);
            }
        }
    }

    fn node_type(&self, node: NodeId) -> Option<Ty> {
        self.node_type.get(&node).cloned()
    }

    // ----- AppViewTypeInfer ---------------------------------------------

    fn app_view_type_infer(&mut self) -> R {
        let module = self.ast.module;
        let chain = Chain { local: self.st.top, global: self.st.top };
        let infer = Infer { chain, namespace: module };
        self.visit(infer, module)?;
        self.module_visited();
        // `find_views(module)`, with the views at the top level visited
        // through `top_level_view`.
        let ast = self.ast;
        let Kind::Module { body } = ast.kind(module) else { return self.find_views(module) };
        for &s in body {
            match ast.kind(s) {
                Kind::FunctionDef(f) if !f.is_async && self.is_chalice_view(s) => {
                    let name = ast.function_name(s).unwrap_or_default().to_string();
                    self.top_level_view(s, &name)?;
                }
                _ => self.find_views(s)?,
            }
        }
        Ok(())
    }

    /// `AppViewTypeInfer.visit`: a generic walk that stops at every sync
    /// `def` (analysing it first when it is a chalice view). Only statements
    /// can hold a `def`, so expressions are not walked.
    fn find_views(&mut self, id: NodeId) -> R {
        let ast = self.ast;
        match ast.kind(id) {
            Kind::FunctionDef(f) if !f.is_async => {
                if self.is_chalice_view(id) {
                    let name = ast.function_name(id).unwrap_or_default().to_string();
                    let top = Chain { local: self.st.top, global: self.st.top };
                    let sub = self.lookup_sub_namespace(top, &name, ast.line(id), id)?;
                    self.visit(Infer { chain: sub, namespace: id }, id)?;
                }
                Ok(())
            }
            Kind::FunctionDef(f) => self.find_views_in(&f.body),
            Kind::ClassDef(c) => self.find_views_in(&c.body),
            Kind::Module { body } | Kind::With { body, .. } => self.find_views_in(body),
            Kind::For { body, orelse, .. } | Kind::While { body, orelse, .. } | Kind::If { body, orelse, .. } => {
                self.find_views_in(body)?;
                self.find_views_in(orelse)
            }
            Kind::Try(t) => {
                let super::pyast::Try { body, handlers, orelse, finalbody } = &**t;
                self.find_views_in(body)?;
                for h in handlers {
                    if let Kind::ExceptHandler(h) = ast.kind(*h) {
                        self.find_views_in(&h.body)?;
                    }
                }
                self.find_views_in(orelse)?;
                self.find_views_in(finalbody)
            }
            Kind::Match { cases, .. } => {
                for c in cases {
                    self.find_views_in(&c.body)?;
                }
                Ok(())
            }
            _ => Ok(()),
        }
    }

    fn find_views_in(&mut self, body: &[NodeId]) -> R {
        for s in body {
            self.find_views(*s)?;
        }
        Ok(())
    }

    fn is_chalice_view(&self, def: NodeId) -> bool {
        let Kind::FunctionDef(f) = self.ast.kind(def) else { return false };
        f.decorators.iter().any(|d| match self.ast.kind(*d) {
            Kind::Call { func, .. } => match self.ast.kind(*func) {
                Kind::Attribute { attr, .. } => CHALICE_VIEW_DECORATORS.contains(&attr.as_str()),
                _ => false,
            },
            _ => false,
        })
    }

    // ----- SymbolTableTypeInfer -----------------------------------------

    fn visit(&mut self, inf: Infer, id: NodeId) -> R {
        // `SymbolTableTypeInfer.visit` → `NodeVisitor.visit` → `visit_X`
        // (→ `generic_visit`): four Python frames per level for the node
        // types chalice handles itself, three for the rest.
        let cost = match self.ast.kind(id) {
            Kind::Name { .. } | Kind::Assign { .. } | Kind::Attribute { .. } | Kind::Call { .. } | Kind::Return(_) | Kind::Import(_) | Kind::Comp { .. } => 4,
            _ => 3,
        };
        self.frames += cost;
        self.work += 1;
        if self.frames > MAX_PYTHON_FRAMES || self.work > MAX_WORK {
            self.frames -= cost;
            return Err(Raise::Recursion { node: id });
        }
        let r = self.visit_inner(inf, id);
        self.frames -= cost;
        r
    }

    fn generic_visit(&mut self, inf: Infer, id: NodeId) -> R {
        for c in self.ast.generic_children(id) {
            self.visit(inf, c)?;
        }
        Ok(())
    }

    fn visit_inner(&mut self, inf: Infer, id: NodeId) -> R {
        let ast = self.ast;
        match ast.kind(id) {
            Kind::Import(names) => {
                for a in names {
                    if a.name == "boto3" {
                        self.set_inferred_type(inf.chain, "boto3", Some(Ty::Module), id)?;
                    }
                }
                Ok(())
            }
            Kind::Name { id: name, .. } => {
                let t = self.get_inferred_type(inf.chain, name, id)?;
                self.set_node_type(id, t);
                Ok(())
            }
            Kind::Assign { targets, value } => {
                self.set_node_type(id, None);
                self.generic_visit(inf, id)?;
                let mut rhs = self.node_type(*value);
                if rhs.is_none() {
                    if let Kind::Constant(Some(s)) = ast.kind(*value) {
                        let t = Ty::Str(Rc::from(s.as_str()));
                        rhs = Some(t.clone());
                        self.set_node_type(*value, Some(t));
                    }
                }
                for t in targets {
                    if let Kind::Name { id: name, .. } = ast.kind(*t) {
                        self.set_inferred_type(inf.chain, name, rhs.clone(), *t)?;
                        self.set_node_type(id, rhs.clone());
                    }
                }
                Ok(())
            }
            Kind::Attribute { value, attr, .. } => {
                self.set_node_type(id, None);
                self.generic_visit(inf, id)?;
                match self.node_type(*value) {
                    Some(Ty::Module) if attr == "client" => self.set_node_type(id, Some(Ty::CreateClient)),
                    Some(Ty::Client(svc)) => self.set_node_type(id, Some(Ty::Method(svc, Rc::from(attr.as_str())))),
                    _ => {}
                }
                Ok(())
            }
            Kind::Call { func, args, .. } => {
                self.set_node_type(id, None);
                self.generic_visit(inf, id)?;
                match self.node_type(*func) {
                    Some(Ty::CreateClient) => {
                        if let Some(first) = args.first() {
                            if let Kind::Constant(Some(s)) = ast.kind(*first) {
                                self.set_node_type(id, Some(Ty::Client(Rc::from(s.as_str()))));
                            } else if let Some(Ty::Str(s)) = self.node_type(*first) {
                                self.set_node_type(id, Some(Ty::Client(s)));
                            }
                        }
                    }
                    Some(Ty::Method(svc, m)) | Some(Ty::MethodCall(svc, m)) => {
                        self.set_node_type(id, Some(Ty::MethodCall(svc, m)));
                    }
                    Some(Ty::Function(ret)) => self.set_node_type(id, Some(*ret)),
                    _ => {
                        if let Kind::Name { id: fname, .. } = ast.kind(*func) {
                            let has = self.lookup_ast_node_for_symbol(inf.chain, fname, id).is_ok();
                            if has && !self.visited.contains(&id) {
                                self.visited.insert(id);
                                let r = self.infer_function_call(inf, id, fname);
                                self.visited.remove(&id);
                                r?;
                            }
                        }
                    }
                }
                Ok(())
            }
            Kind::Lambda { .. } => Ok(()),
            Kind::FunctionDef(f) => {
                let (name, body) = (&f.name, &f.body);
                if *name == self.st.table(inf.chain.local).name {
                    // The function being analysed: its body, not its
                    // decorators or defaults.
                    for s in body {
                        self.visit(inf, *s)?;
                    }
                    Ok(())
                } else {
                    self.register_ast_node_for_symbol(inf.chain, name, id)
                }
            }
            Kind::ClassDef(_) => Ok(()),
            Kind::Comp { kind: CompKind::Set, .. } => self.generic_visit(inf, id),
            Kind::Comp { kind, .. } => self.handle_comprehension(inf, id, *kind),
            Kind::Return(value) => {
                self.set_node_type(id, None);
                self.generic_visit(inf, id)?;
                if let Some(t) = value.and_then(|v| self.node_type(v)) {
                    self.set_node_type(id, Some(t.clone()));
                    self.set_node_type(inf.namespace, Some(Ty::Function(Box::new(t))));
                }
                Ok(())
            }
            _ => self.generic_visit(inf, id),
        }
    }

    fn infer_function_call(&mut self, inf: Infer, call: NodeId, function_name: &'a str) -> R {
        self.frames += 4;
        let r = self.infer_function_call_inner(inf, call, function_name);
        self.frames -= 4;
        r
    }

    fn infer_function_call_inner(&mut self, inf: Infer, call: NodeId, function_name: &'a str) -> R {
        let ast = self.ast;
        let line = ast.line(call);
        let sub = self.lookup_sub_namespace(inf.chain, function_name, line, call)?;
        self.entered.insert(sub.local);
        self.helper_calls += 1;
        let def = self.lookup_ast_node_for_symbol(inf.chain, function_name, call)?;
        let Kind::Call { args: call_args, .. } = ast.kind(call) else { return Ok(()) };
        let params: Vec<&'a str> = match ast.kind(def) {
            Kind::FunctionDef(f) => f.args.args.iter().map(|a| a.name.as_str()).collect(),
            _ => Vec::new(),
        };
        // _map_function_params: bind positional argument types to the
        // callee's regular parameters, remembering the old types.
        let mut saved: Vec<(&'a str, Option<Ty>)> = Vec::new();
        for (position, &name) in params.iter().enumerate() {
            let old = self.get_inferred_type(sub, name, call)?;
            saved.push((name, old));
            let t = call_args.get(position).and_then(|a| self.node_type(*a));
            self.set_inferred_type(sub, name, t, call)?;
        }
        let body_result = (|| -> R<Option<Ty>> {
            self.set_node_type(def, None);
            self.visit(Infer { chain: sub, namespace: def }, def)?;
            Ok(self.node_type(def))
        })();
        // `finally: self._restore_function_params(...)`.
        for (name, t) in saved {
            self.set_inferred_type(sub, name, t, call)?;
        }
        let inferred = body_result?;
        if params.is_empty() {
            self.set_inferred_type(inf.chain, function_name, inferred.clone(), call)?;
        }
        if let Some(Ty::Function(ret)) = inferred {
            self.set_node_type(call, Some(*ret));
        }
        Ok(())
    }

    fn handle_comprehension(&mut self, inf: Infer, id: NodeId, kind: CompKind) -> R {
        let ast = self.ast;
        let Kind::Comp { elt, value, generators, .. } = ast.kind(id) else { return Ok(()) };
        if let Some(first) = generators.first() {
            self.visit(inf, first.iter)?;
        }
        // _collect_comprehension_children
        let mut children = vec![*elt];
        if let Some(v) = value {
            children.push(*v);
        }
        if let Some(first) = generators.first() {
            children.push(first.target);
            children.extend(&first.ifs);
        }
        for g in generators.iter().skip(1) {
            children.push(g.iter);
            children.push(g.target);
            children.extend(&g.ifs);
        }
        let line = ast.line(id);
        match self.matching_sub_namespace(inf.chain.local, kind.table_name(), line) {
            None => {
                // No child table (always the case on Python 3.12 for
                // inlined comprehensions): visit in the current scope and
                // swallow KeyError, keeping whatever was typed before it.
                for c in children {
                    match self.visit(inf, c) {
                        Err(Raise::KeyError { .. }) => {}
                        other => other?,
                    }
                }
            }
            Some(table) => {
                for c in children {
                    let chain = Chain { local: table, global: inf.chain.local };
                    self.visit(Infer { chain, namespace: c }, c)?;
                }
            }
        }
        Ok(())
    }

    fn matching_sub_namespace(&self, local: TableId, name: &str, line: usize) -> Option<TableId> {
        let candidates = self.st.children_named(local, name);
        if let [only] = candidates {
            return Some(*only);
        }
        candidates.iter().copied().find(|c| self.st.table(*c).lineno == line)
    }

    // ----- reporting ------------------------------------------------------

    fn snippet(&self, node: NodeId) -> String {
        let r = self.ast.range(node);
        let text = &self.source[r.start..r.end];
        let first = text.lines().next().unwrap_or("");
        if first.chars().count() > 60 {
            format!("{}…", first.chars().take(60).collect::<String>())
        } else {
            first.to_string()
        }
    }

    fn describe(&self, raise: Raise) -> AnalyzerCrash {
        match raise {
            Raise::KeyError { name, node } => {
                // A crash inside a set comprehension is reported on the
                // comprehension: that is the construct to change.
                let at = self.enclosing(node, |k| matches!(k, Kind::Comp { kind: CompKind::Set, .. })).unwrap_or(node);
                let range = self.ast.range(at);
                let message = match self.ast.kind(node) {
                    Kind::Import(_) => format!(
                        "`{}` binds boto3 under another name and app.py has no plain `import boto3` in this scope; \
                         chalice's analyzer looks up the name `boto3` and fails",
                        self.snippet(node)
                    ),
                    Kind::Name { .. } => self.explain_missing_name(&name, node),
                    _ => format!("the name `{name}` is not in the symbol table chalice's analyzer searches"),
                };
                AnalyzerCrash { kind: CrashKind::KeyError, exception: format!("'{name}'"), message, range }
            }
            Raise::ValueError { message, node } => {
                let range = self.ast.range(node);
                let described = if matches!(self.ast.kind(node), Kind::FunctionDef(_)) {
                    format!(
                        "`{}` is a chalice view whose `def` is not at module level (e.g. inside a class); chalice's \
                         analyzer looks for its symbol table among the module's functions and fails",
                        self.snippet(node)
                    )
                } else {
                    format!(
                        "`{}` calls a function defined inside another function; chalice's analyzer looks for it among \
                         the module's functions and fails",
                        self.snippet(node)
                    )
                };
                AnalyzerCrash { kind: CrashKind::ValueError, exception: message, message: described, range }
            }
            Raise::Recursion { node } => AnalyzerCrash {
                kind: CrashKind::RecursionError,
                exception: "maximum recursion depth exceeded".into(),
                message: "the analysis nests deeper than Python's default recursion limit allows (approximated)".into(),
                range: self.ast.range(node),
            },
        }
    }

    /// The smallest node matching `pred` whose range contains `node`.
    fn enclosing(&self, node: NodeId, pred: impl Fn(&Kind) -> bool) -> Option<NodeId> {
        let r = self.ast.range(node);
        let mut best: Option<(usize, NodeId)> = None;
        for (i, kind, range) in self.ast.nodes() {
            if i != node && pred(kind) && range.start <= r.start && r.end <= range.end {
                let len = range.end - range.start;
                if best.is_none_or(|(l, _)| len < l) {
                    best = Some((len, i));
                }
            }
        }
        best.map(|(_, i)| i)
    }

    /// Why a name chalice looks up is missing from the table it searches.
    fn explain_missing_name(&self, name: &str, node: NodeId) -> String {
        if let Some(comp) = self.enclosing(node, |k| matches!(k, Kind::Comp { kind: CompKind::Set, .. })) {
            return format!(
                "`{}` is a set comprehension: before Python 3.12 it has its own scope, which chalice's analyzer \
                 does not handle, so the name `{name}` is looked up in the wrong symbol table",
                self.snippet(comp)
            );
        }
        let in_annotation = self.ast.nodes().any(|(_, kind, _)| match kind {
            Kind::AnnAssign { annotation, .. } => {
                let a = self.ast.range(*annotation);
                let r = self.ast.range(node);
                a.start <= r.start && r.end <= a.end
            }
            _ => false,
        });
        if in_annotation && self.ast.future_annotations {
            return format!(
                "the annotation name `{name}`: with `from __future__ import annotations` annotations get their own \
                 symbol table, but chalice's analyzer looks `{name}` up in the enclosing one"
            );
        }
        format!(
            "chalice's analyzer visits `{}` with another scope's symbol table, which has no `{name}` (a function \
             named `top`, or a helper sharing its name with a class or another `def`)",
            self.snippet(self.enclosing(node, |k| matches!(k, Kind::Assign { .. } | Kind::ExprStmt(_) | Kind::Return(_))).unwrap_or(node))
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use expect_test::{expect, Expect};

    /// Renders the emulation as `svc: m1 m2` lines, or the crash.
    fn render(source: &str, version: (u8, u8)) -> String {
        match emulate_autogen(source, version) {
            Ok(e) => {
                if e.client_calls.is_empty() {
                    return "(no calls)\n".into();
                }
                let mut out = String::new();
                for (svc, methods) in &e.client_calls {
                    out.push_str(&format!("{svc}: {}\n", methods.iter().cloned().collect::<Vec<_>>().join(" ")));
                }
                out
            }
            Err(c) => format!(
                "crash {}: {} at {:?}\n",
                c.kind.python_name(),
                c.exception,
                &source[c.range.start..c.range.end].lines().next().unwrap_or("")
            ),
        }
    }

    fn check(source: &str, expected: Expect) {
        expected.assert_eq(&render(source, (3, 11)));
    }

    fn check_versions(source: &str, py311: Expect, py312: Expect) {
        py311.assert_eq(&render(source, (3, 11)));
        py312.assert_eq(&render(source, (3, 12)));
    }

    const APP: &str = "from chalice import Chalice\nimport boto3\napp = Chalice(app_name='x')\n";

    #[test]
    fn module_client_used_in_view() {
        check(
            &format!("{APP}s3 = boto3.client('s3', region_name='x')\n@app.route('/')\ndef index():\n    s3.get_object(Bucket='b', Key='k')\n    boto3.client('sqs').send_message()\n"),
            expect![[r#"
                s3: get_object
                sqs: send_message
            "#]],
        );
    }

    #[test]
    fn aliased_import_without_plain_import_crashes() {
        check(
            "import boto3 as b\nc = b.client('s3')\n",
            expect![[r#"
                crash KeyError: 'boto3' at "import boto3 as b"
            "#]],
        );
        check(
            "import boto3\nimport boto3 as b\nb.client('s3').list_buckets()\n",
            expect![[r#"
                (no calls)
            "#]],
        );
    }

    #[test]
    fn keyword_service_name_and_resource_are_missed() {
        check(
            &format!("{APP}@app.route('/')\ndef v():\n    boto3.client(service_name='s3').list_buckets()\n    boto3.resource('dynamodb').Table('t').scan()\n"),
            expect![[r#"
                (no calls)
            "#]],
        );
    }

    #[test]
    fn string_literal_variables_and_factories() {
        check(
            &format!(
                "{APP}SVC = 'dynamodb'\ndef get_client(name):\n    return boto3.client(name)\n@app.lambda_function()\ndef f(event, ctx):\n    get_client(SVC).scan()\n    get_client('sqs').send_message()\n"
            ),
            expect![[r#"
                dynamodb: scan
            "#]],
        );
    }

    #[test]
    fn last_binding_wins_and_rebinding_loses() {
        check(
            &format!("{APP}@app.route('/')\ndef v():\n    if x:\n        c = boto3.client('s3')\n    else:\n        c = boto3.client('sqs')\n    c.get_object()\n"),
            expect![[r#"
                sqs: get_object
            "#]],
        );
    }

    #[test]
    fn nested_def_called_by_name_crashes() {
        check(
            &format!("{APP}@app.route('/')\ndef v():\n    def inner():\n        pass\n    inner()\n"),
            expect![[r#"
                crash ValueError: Unknown symbol name: inner at "inner()"
            "#]],
        );
    }

    #[test]
    fn helpers_followed_by_bare_name_with_positional_clients() {
        check(
            &format!(
                "{APP}def put(c, item):\n    c.put_item(Item=item)\ndef helper():\n    put(boto3.client('dynamodb'), 1)\n    put(c=boto3.client('sqs'), item=1)\n@app.schedule('rate(1 hour)')\ndef job(event):\n    helper()\n"
            ),
            expect![[r#"
                dynamodb: put_item
            "#]],
        );
    }

    #[test]
    fn unanalysed_decorators_async_views_and_classes() {
        check(
            &format!(
                "{APP}s3 = boto3.client('s3')\n@app.on_cw_event({{}})\ndef cw(e):\n    s3.a()\n@app.route('/')\nasync def av():\n    s3.b()\n@app.lambda_function\ndef bare(e, c):\n    s3.c()\nclass K:\n    def m(self):\n        s3.d()\n@app.on_sqs_message(queue='q')\ndef q(e):\n    s3.e()\n"
            ),
            expect![[r#"
                s3: e
            "#]],
        );
    }

    #[test]
    fn comprehensions_depend_on_python_version() {
        let src = format!("{APP}s3 = boto3.client('s3')\n@app.route('/')\ndef v():\n    a = [s3.get_object(Key=k) for k in keys]\n    b = {{k: s3.head_object(Key=k) for k in keys}}\n    g = list(s3.put_object(Key=k) for k in keys)\n    i = [x for x in s3.list_buckets()]\n");
        check_versions(
            &src,
            expect![[r#"
                s3: list_buckets
            "#]],
            expect![[r#"
                s3: get_object head_object list_buckets
            "#]],
        );
    }

    #[test]
    fn set_comprehension_in_function_crashes_before_312() {
        let src = format!("{APP}s3 = boto3.client('s3')\n@app.route('/')\ndef v():\n    return {{s3.get_object(Key=k) for k in keys}}\n");
        check_versions(
            &src,
            expect![[r#"
                crash KeyError: 's3' at "{s3.get_object(Key=k) for k in keys}"
            "#]],
            expect![[r#"
                s3: get_object
            "#]],
        );
    }

    #[test]
    fn module_level_calls_and_main_block_count() {
        check(
            "import boto3\nddb = boto3.client('dynamodb')\nif __name__ == '__main__':\n    ddb.create_table()\n[ddb.scan() for _ in range(2)]\n",
            expect![[r#"
                dynamodb: create_table scan
            "#]],
        );
    }

    #[test]
    fn global_singletons_and_annotated_assignments_are_missed() {
        check(
            &format!(
                "{APP}_c = None\ndef client():\n    global _c\n    if _c is None:\n        _c = boto3.client('s3')\n    return _c\n@app.route('/')\ndef v():\n    client().list_buckets()\n    t: object = boto3.client('sqs')\n    t.send_message()\n"
            ),
            expect![[r#"
                (no calls)
            "#]],
        );
    }

    #[test]
    fn recursion_between_helpers_terminates() {
        check(
            &format!("{APP}def a():\n    boto3.client('s3').x()\n    b()\ndef b():\n    a()\n@app.route('/')\ndef v():\n    a()\n"),
            expect![[r#"
                s3: x
            "#]],
        );
    }

    #[test]
    fn broken_python_is_a_syntax_error_not_a_panic() {
        check(
            "import boto3\ndef f(:\n",
            expect![[r#"
                crash SyntaxError: missing `)` at ""
            "#]],
        );
        check(
            "import boto3\r\ns = 'é'\r\nboto3.client('s3').get_object()\r\n",
            expect![[r#"
                s3: get_object
            "#]],
        );
    }
}
