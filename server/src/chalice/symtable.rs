//! CPython's `symtable` module, reproduced over [`super::pyast`].
//!
//! chalice's analyzer resolves every name through `symtable.SymbolTable`
//! objects: a name missing from the table it looks in raises `KeyError`
//! (the `import boto3 as b` and set-comprehension crashes), `is_global()`
//! decides whether a read goes to the module's symbol, and a nested `def` is
//! found by the *name and line* of child tables. So we need the same tables:
//! which names each scope holds, each name's scope class, and the children
//! with their names and line numbers, including the Python 3.12 change that
//! inlines list/set/dict comprehensions into their parent (PEP 709).

use std::sync::Arc;

use super::pyast::{Arguments, Ctx, Kind, Node, NodeId, PyAst};
use crate::analysis::TextRange;

/// Symbol and type maps are hashed on every name the passes meet; FxHash
/// is several times cheaper than the default SipHash on short keys
/// (nothing here needs protection from adversarial collisions).
type HashMap<K, V> = rustc_hash::FxHashMap<K, V>;
type HashSet<T> = rustc_hash::FxHashSet<T>;

pub(crate) type TableId = usize;

const DEF_GLOBAL: u32 = 1;
const DEF_LOCAL: u32 = 2;
const DEF_PARAM: u32 = 4;
const DEF_NONLOCAL: u32 = 8;
const USE: u32 = 16;
const DEF_IMPORT: u32 = 128;
const DEF_ANNOT: u32 = 256;
const DEF_BOUND: u32 = DEF_LOCAL | DEF_PARAM | DEF_IMPORT;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum BlockType {
    Module,
    Function,
    Class,
    Annotation,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Scope {
    Local,
    GlobalExplicit,
    GlobalImplicit,
    Free,
}

#[derive(Debug, Clone, Copy)]
struct Symbol {
    flags: u32,
    scope: Scope,
    /// Where the name first appeared, for error positions.
    node: NodeId,
}

#[derive(Debug, Clone)]
pub(crate) struct Table<'a> {
    /// Names borrow from the module's AST (or are CPython's fixed ones):
    /// the tables are built for every version of app.py, and a copy of
    /// each name was most of their cost.
    pub name: &'a str,
    pub block: BlockType,
    pub lineno: usize,
    pub children: Vec<TableId>,
    /// Insertion order matters for CPython's analysis only through set
    /// semantics, so a map is enough; names are looked up, never listed.
    symbols: HashMap<&'a str, Symbol>,
    comprehension: bool,
    generator: bool,
    /// Taken from the memo already analysed (see [`SymtableMemo`]): the
    /// analysis leaves it and its descendants as they are.
    analyzed: bool,
}

#[derive(Debug)]
pub(crate) struct SymTables<'a> {
    pub tables: Vec<Table<'a>>,
    pub top: TableId,
    /// Per table, its children by name in `children` order. The analyzer
    /// looks a child namespace up for every view and every call it follows;
    /// scanning `children` each time is quadratic in the number of
    /// functions, which a generated app.py with tens of thousands of routes
    /// turns into most of the run time.
    children_by_name: Vec<HashMap<&'a str, Vec<TableId>>>,
}

/// A `SyntaxError` CPython's symbol-table pass raises (`ast.parse` accepts
/// the code, `symtable.symtable` does not).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct SymtableError {
    pub message: String,
    pub range: TextRange,
}

impl<'a> SymTables<'a> {
    pub(crate) fn table(&self, id: TableId) -> &Table<'a> {
        &self.tables[id]
    }

    /// The children of `table` named `name`, in `children` order.
    pub(crate) fn children_named(&self, table: TableId, name: &str) -> &[TableId] {
        self.children_by_name.get(table).and_then(|m| m.get(name)).map_or(&[], Vec::as_slice)
    }

    /// Fills `children_by_name`; `children` must be final (after the
    /// comprehension splicing of `analyze_block`).
    fn index_children(&mut self) {
        self.children_by_name = self
            .tables
            .iter()
            .map(|t| {
                let mut by_name: HashMap<&'a str, Vec<TableId>> = HashMap::default();
                for &c in &t.children {
                    by_name.entry(self.tables[c].name).or_default().push(c);
                }
                by_name
            })
            .collect();
    }

    /// Every symbol of `table`: its name, flags and scope (a number), in no
    /// particular order. What the analyzer reads of a table, for comparing
    /// two versions' module tables.
    pub(crate) fn symbols(&self, table: TableId) -> impl ExactSizeIterator<Item = (&'a str, (u32, u8))> + '_ {
        self.tables[table].symbols.iter().map(|(name, s)| (*name, (s.flags, s.scope as u8)))
    }

    /// `SymbolTable.lookup(name)` succeeds.
    pub(crate) fn has(&self, table: TableId, name: &str) -> bool {
        self.tables[table].symbols.contains_key(name)
    }

    /// `Symbol.is_global()`: a module-level name always is (bound names via
    /// the `module_scope` rule, the rest as implicit globals).
    pub(crate) fn is_global(&self, table: TableId, name: &str) -> bool {
        let t = &self.tables[table];
        match t.symbols.get(name) {
            Some(s) => {
                matches!(s.scope, Scope::GlobalExplicit | Scope::GlobalImplicit)
                    || (t.block == BlockType::Module && s.flags & DEF_BOUND != 0)
            }
            None => false,
        }
    }
}

/// Builds and analyses the tables the way `symtable.symtable(src, 'app.py',
/// 'exec')` does under the given Python version.
#[cfg(test)]
pub(crate) fn build(ast: &PyAst, python_version: (u8, u8)) -> Result<SymTables<'_>, SymtableError> {
    build_with_memo(ast, python_version, None)
}

/// What building one version of a module's tables leaves for the next: for
/// each top-level `def` and `class`, the tables its statement made (as
/// analysed, once the module's analysis succeeded) and what it wrote into
/// the module's table. An edited app.py is
/// imported at every keystroke, and building its tables was half of that
/// import; a definition is almost always one the last version had,
/// converted once into the same segment (see `pyast::ConversionMemo`).
///
/// Only definitions are kept: building one never reads the module's table
/// (its decorators, defaults, annotations and bases only add to it; its body
/// has tables of its own), so what it makes does not depend on the
/// statements before it. A top-level annotated assignment or `global`
/// reads what came before, and is built every time.
///
/// Nor does analysing a definition's tables read anything outside them: the
/// module passes no bound names down to its children (CPython's
/// `analyze_block`), and a top-level definition is no comprehension, whose
/// names would join the module's. So the tables of a definition taken from
/// the memo are analysed already, for the Python version they were analysed
/// for (which decides whether comprehensions are inlined: the tables of a
/// definition with a comprehension analysed for another one are built
/// again).
#[derive(Default)]
pub(crate) struct SymtableMemo {
    future_annotations: bool,
    definitions: HashMap<NodeId, BuiltDefinition>,
    /// How many definitions were taken from the memo so far.
    #[cfg(test)]
    replayed: usize,
}

struct BuiltDefinition {
    /// The segment the statement was converted into. The names below borrow
    /// from its nodes' strings (or are CPython's fixed ones), which this
    /// keeps alive; an entry is used only for a module holding this same
    /// segment, so the names live as long as that module's tables.
    segment: Arc<Vec<Node>>,
    /// The statement's line when built: tables of an entry used again move
    /// with the segment's line.
    line: usize,
    /// The module node of the version built (parameters' symbols point at
    /// it), replaced by the current one's.
    module: NodeId,
    module_writes: Vec<(&'static str, u32, NodeId)>,
    /// The tables made, in order; children count from the first of them.
    tables: Vec<Table<'static>>,
    /// Whether `tables` are analysed, and whether comprehensions were
    /// inlined then; `None` while they are as built.
    analyzed_inline: Option<bool>,
    /// Those of `tables` that are the module's children, in order.
    module_children: Vec<TableId>,
}

/// [`build`], taking the tables of unchanged top-level definitions from
/// `memo` and leaving in it this version's (see [`SymtableMemo`]).
pub(crate) fn build_with_memo<'a>(ast: &'a PyAst, python_version: (u8, u8), memo: Option<&mut SymtableMemo>) -> Result<SymTables<'a>, SymtableError> {
    let mut b = Builder { ast, tables: Vec::new(), stack: Vec::new(), top: 0, comp_iter_expr: 0, module_writes: None };
    let top = b.enter("top", BlockType::Module, 0);
    b.top = top;
    let inline = python_version >= (3, 12);
    let mut memo = memo;
    let mut built = Vec::new();
    if let Kind::Module { body } = ast.kind(ast.module) {
        match memo.as_deref_mut() {
            Some(memo) => built = b.definitions_with_memo(body, memo, inline)?,
            None => b.stmts(body)?,
        }
    }
    b.exit();
    let mut st = SymTables { tables: b.tables, top, children_by_name: Vec::new() };
    analyze_block(ast, &mut st, top, None, inline)?;
    if let Some(memo) = memo {
        // The definitions built this time keep their tables as analysed.
        for (s, tables) in built {
            if let Some(kept) = memo.definitions.get_mut(&s) {
                kept.tables = st.tables[tables.clone()]
                    .iter()
                    .map(|t| {
                        let mut t = t.clone();
                        t.children.iter_mut().for_each(|c| *c -= tables.start);
                        // SAFETY: see `BuiltDefinition::segment`.
                        unsafe { std::mem::transmute::<Table<'a>, Table<'static>>(t) }
                    })
                    .collect();
                kept.analyzed_inline = Some(inline);
            }
        }
    }
    st.index_children();
    Ok(st)
}

/// The symbol `name` of a table, added (first seen at `node`) if new.
fn symbol_entry<'t, 'a>(symbols: &'t mut HashMap<&'a str, Symbol>, name: &'a str, node: NodeId) -> &'t mut Symbol {
    symbols.entry(name).or_insert(Symbol { flags: 0, scope: Scope::GlobalImplicit, node })
}

struct Builder<'a> {
    ast: &'a PyAst,
    tables: Vec<Table<'a>>,
    stack: Vec<TableId>,
    top: TableId,
    /// Inside the iterable of a comprehension (walrus is forbidden there).
    comp_iter_expr: usize,
    /// While a definition is built for the memo: what it writes into the
    /// module's table, in order.
    module_writes: Option<Vec<(&'a str, u32, NodeId)>>,
}

type R = Result<(), SymtableError>;

impl<'a> Builder<'a> {
    fn cur(&self) -> TableId {
        *self.stack.last().unwrap_or(&self.top)
    }

    fn enter(&mut self, name: &'a str, block: BlockType, lineno: usize) -> TableId {
        let id = self.tables.len();
        self.tables.push(Table {
            name,
            block,
            lineno,
            children: Vec::new(),
            symbols: HashMap::default(),
            comprehension: false,
            generator: false,
            analyzed: false,
        });
        if let Some(&parent) = self.stack.last() {
            self.tables[parent].children.push(id);
        }
        self.stack.push(id);
        id
    }

    fn exit(&mut self) {
        self.stack.pop();
    }

    fn err(&self, node: NodeId, message: String) -> SymtableError {
        SymtableError { message, range: self.ast.range(node) }
    }

    fn add_def_in(&mut self, table: TableId, name: &'a str, flag: u32, node: NodeId) -> R {
        let sym = symbol_entry(&mut self.tables[table].symbols, name, node);
        if flag & DEF_PARAM != 0 && sym.flags & DEF_PARAM != 0 {
            return Err(self.err(node, format!("duplicate argument '{name}' in function definition")));
        }
        sym.flags |= flag;
        let top = self.top;
        if flag & DEF_GLOBAL != 0 && table != top {
            // CPython also records explicit globals in the module's table.
            let g = symbol_entry(&mut self.tables[top].symbols, name, node);
            g.flags |= flag;
        }
        if table == top || flag & DEF_GLOBAL != 0 {
            if let Some(writes) = &mut self.module_writes {
                writes.push((name, flag, node));
            }
        }
        Ok(())
    }

    /// The module's statements, each top-level definition's tables taken
    /// from `memo` when it holds the same statement (unless analysed for
    /// another Python version, see [`SymtableMemo`]), and `memo` left with
    /// this version's definitions; returns the definitions built, with the
    /// range of their tables.
    fn definitions_with_memo(&mut self, body: &[NodeId], memo: &mut SymtableMemo, inline: bool) -> Result<Vec<(NodeId, std::ops::Range<TableId>)>, SymtableError> {
        let ast = self.ast;
        let mut old = std::mem::take(&mut memo.definitions);
        if memo.future_annotations != ast.future_annotations {
            // Annotations get tables of their own, or not.
            old.clear();
        }
        memo.future_annotations = ast.future_annotations;
        let mut kept: HashMap<NodeId, BuiltDefinition> = HashMap::default();
        kept.reserve(body.len());
        let mut result = Ok(());
        let mut built_now = Vec::new();
        for &s in body {
            // Tables analysed for another Python version stand only when no
            // comprehension could have been inlined.
            let analysed_alike = |built: &BuiltDefinition| built.analyzed_inline.is_none_or(|i| i == inline || !built.tables.iter().any(|t| t.comprehension));
            let usable = |built: &BuiltDefinition| Arc::ptr_eq(&built.segment, ast.segment_nodes(s)) && analysed_alike(built);
            if !matches!(ast.kind(s), Kind::FunctionDef(_) | Kind::ClassDef(_)) {
                result = self.stmt(s);
            } else if let Some(built) = old.remove(&s).filter(usable) {
                self.replay(&built, ast.line(s) as isize - built.line as isize);
                #[cfg(test)]
                {
                    memo.replayed += 1;
                }
                kept.insert(s, built);
            } else {
                let first = self.tables.len();
                result = self.definition_for_memo(s).map(|built| {
                    kept.insert(s, built);
                });
                built_now.push((s, first..self.tables.len()));
            }
            if result.is_err() {
                // The next version, likely mended, uses what this one kept
                // and what the last one left beyond the error.
                kept.extend(old);
                break;
            }
        }
        memo.definitions = kept;
        result.map(|()| built_now)
    }

    /// Builds top-level definition `s`, recording what it makes.
    fn definition_for_memo(&mut self, s: NodeId) -> Result<BuiltDefinition, SymtableError> {
        let ast = self.ast;
        let (first_table, first_child) = (self.tables.len(), self.tables[self.top].children.len());
        self.module_writes = Some(Vec::new());
        let built = self.stmt(s);
        let writes = self.module_writes.take().unwrap_or_default();
        built?;
        let relative = |id: TableId| id - first_table;
        let tables = self.tables[first_table..]
            .iter()
            .map(|t| {
                let mut t = t.clone();
                t.children.iter_mut().for_each(|c| *c = relative(*c));
                // SAFETY: see `BuiltDefinition::segment`. Every name in the
                // tables a definition makes is a string of its own nodes,
                // all in the segment kept with them, or a `'static` one.
                unsafe { std::mem::transmute::<Table<'a>, Table<'static>>(t) }
            })
            .collect();
        let module_writes = writes
            .into_iter()
            // SAFETY: as above.
            .map(|(name, flag, node)| (unsafe { std::mem::transmute::<&'a str, &'static str>(name) }, flag, node))
            .collect();
        Ok(BuiltDefinition {
            analyzed_inline: None,
            segment: ast.segment_nodes(s).clone(),
            line: ast.line(s),
            module: ast.module,
            module_writes,
            tables,
            module_children: self.tables[self.top].children[first_child..].iter().map(|&c| relative(c)).collect(),
        })
    }

    /// Makes what `built` recorded: its tables (moved `line_shift` lines),
    /// the module's children among them, and its writes into the module's
    /// table, as building its statement again would.
    fn replay(&mut self, built: &BuiltDefinition, line_shift: isize) {
        let base = self.tables.len();
        let module = self.ast.module;
        for t in &built.tables {
            let mut t: Table<'a> = t.clone();
            t.lineno = t.lineno.saturating_add_signed(line_shift);
            t.children.iter_mut().for_each(|c| *c += base);
            t.analyzed = built.analyzed_inline.is_some();
            if built.module != module {
                t.symbols.values_mut().filter(|s| s.node == built.module).for_each(|s| s.node = module);
            }
            self.tables.push(t);
        }
        let top = self.top;
        self.tables[top].children.extend(built.module_children.iter().map(|&c| c + base));
        for &(name, flag, node) in &built.module_writes {
            let node = if node == built.module { module } else { node };
            symbol_entry(&mut self.tables[top].symbols, name, node).flags |= flag;
        }
    }

    fn add_def(&mut self, name: &'a str, flag: u32, node: NodeId) -> R {
        let cur = self.cur();
        self.add_def_in(cur, name, flag, node)
    }

    fn stmts(&mut self, body: &[NodeId]) -> R {
        for s in body {
            self.stmt(*s)?;
        }
        Ok(())
    }

    fn opt(&mut self, e: Option<NodeId>) -> R {
        match e {
            Some(e) => self.expr(e),
            None => Ok(()),
        }
    }

    fn stmt(&mut self, id: NodeId) -> R {
        let ast = self.ast;
        match ast.kind(id) {
            Kind::FunctionDef(f) => {
                let super::pyast::FunctionDef { name, args, body, decorators, returns, .. } = &**f;
                self.add_def(name, DEF_LOCAL, id)?;
                for d in &args.defaults {
                    self.expr(*d)?;
                }
                for d in args.kw_defaults.iter().flatten() {
                    self.expr(*d)?;
                }
                self.annotations(id, args, *returns)?;
                for d in decorators {
                    self.expr(*d)?;
                }
                let line = ast.line(id);
                self.enter(name, BlockType::Function, line);
                self.params(args)?;
                self.stmts(body)?;
                self.exit();
            }
            Kind::ClassDef(c) => {
                let super::pyast::ClassDef { name, bases, keywords, body, decorators } = &**c;
                self.add_def(name, DEF_LOCAL, id)?;
                for b in bases {
                    self.expr(*b)?;
                }
                for k in keywords {
                    self.expr(*k)?;
                }
                for d in decorators {
                    self.expr(*d)?;
                }
                let line = ast.line(id);
                self.enter(name, BlockType::Class, line);
                self.stmts(body)?;
                self.exit();
            }
            Kind::Return(v) => self.opt(*v)?,
            Kind::Delete(t) => {
                for e in t {
                    self.expr(*e)?;
                }
            }
            Kind::Assign { targets, value } => {
                for t in targets {
                    self.expr(*t)?;
                }
                self.expr(*value)?;
            }
            Kind::AnnAssign { target, annotation, value, simple } => {
                if let Kind::Name { id: name, .. } = ast.kind(*target) {
                    let cur = self.cur();
                    let flags = self.tables[cur].symbols.get(name.as_str()).map(|s| s.flags).unwrap_or(0);
                    if flags & (DEF_GLOBAL | DEF_NONLOCAL) != 0 && cur != self.top && *simple {
                        let which = if flags & DEF_GLOBAL != 0 { "global" } else { "nonlocal" };
                        return Err(self.err(*target, format!("annotated name '{name}' can't be {which}")));
                    }
                    if *simple {
                        self.add_def(name, DEF_ANNOT | DEF_LOCAL, *target)?;
                    } else if value.is_some() {
                        self.add_def(name, DEF_LOCAL, *target)?;
                    }
                } else {
                    self.expr(*target)?;
                }
                self.annotation(*annotation)?;
                self.opt(*value)?;
            }
            Kind::AugAssign { target, value } => {
                self.expr(*target)?;
                self.expr(*value)?;
            }
            Kind::For { target, iter, body, orelse } => {
                self.expr(*target)?;
                self.expr(*iter)?;
                self.stmts(body)?;
                self.stmts(orelse)?;
            }
            Kind::While { test, body, orelse } | Kind::If { test, body, orelse } => {
                self.expr(*test)?;
                self.stmts(body)?;
                self.stmts(orelse)?;
            }
            Kind::Match { subject, cases } => {
                self.expr(*subject)?;
                for c in cases {
                    self.expr(c.pattern)?;
                    self.opt(c.guard)?;
                    self.stmts(&c.body)?;
                }
            }
            Kind::Raise { exc, cause } => {
                self.opt(*exc)?;
                self.opt(*cause)?;
            }
            Kind::Try(t) => {
                let super::pyast::Try { body, handlers, orelse, finalbody } = &**t;
                self.stmts(body)?;
                self.stmts(orelse)?;
                for h in handlers {
                    if let Kind::ExceptHandler(handler) = ast.kind(*h) {
                        let super::pyast::ExceptHandler { type_, name, body } = &**handler;
                        self.opt(*type_)?;
                        if let Some(n) = name {
                            self.add_def(n, DEF_LOCAL, *h)?;
                        }
                        self.stmts(body)?;
                    }
                }
                self.stmts(finalbody)?;
            }
            Kind::Assert { test, msg } => {
                self.expr(*test)?;
                self.opt(*msg)?;
            }
            Kind::Import(names) | Kind::ImportFrom { names, .. } => {
                for a in names {
                    let bound: &'a str = match &a.asname {
                        Some(s) => s,
                        None => a.name.split('.').next().unwrap_or(""),
                    };
                    if bound == "*" {
                        if self.cur() != self.top {
                            return Err(self.err(id, "import * only allowed at module level".into()));
                        }
                        continue;
                    }
                    self.add_def(bound, DEF_IMPORT, id)?;
                }
            }
            Kind::Global(names) | Kind::Nonlocal(names) => {
                let is_global = matches!(ast.kind(id), Kind::Global(_));
                for name in names {
                    let cur = self.cur();
                    let flags = self.tables[cur].symbols.get(name.as_str()).map(|s| s.flags).unwrap_or(0);
                    if flags & (DEF_PARAM | DEF_LOCAL | USE | DEF_ANNOT) != 0 {
                        let kw = if is_global { "global" } else { "nonlocal" };
                        let msg = if flags & DEF_PARAM != 0 {
                            format!("name '{name}' is parameter and {kw}")
                        } else if flags & USE != 0 {
                            format!("name '{name}' is used prior to {kw} declaration")
                        } else if flags & DEF_ANNOT != 0 {
                            format!("annotated name '{name}' can't be {kw}")
                        } else {
                            format!("name '{name}' is assigned to before {kw} declaration")
                        };
                        return Err(self.err(id, msg));
                    }
                    self.add_def(name, if is_global { DEF_GLOBAL } else { DEF_NONLOCAL }, id)?;
                }
            }
            Kind::ExprStmt(e) => self.expr(*e)?,
            Kind::With { items, body } => {
                for it in items {
                    self.expr(it.context_expr)?;
                    self.opt(it.optional_vars)?;
                }
                self.stmts(body)?;
            }
            Kind::Simple => {}
            _ => {}
        }
        Ok(())
    }

    fn annotations(&mut self, def: NodeId, args: &Arguments, returns: Option<NodeId>) -> R {
        let future = self.ast.future_annotations;
        if future {
            let line = self.ast.line(def);
            self.enter("_annotation", BlockType::Annotation, line);
        }
        for a in args.posonlyargs.iter().chain(args.args.iter()) {
            self.opt(a.annotation)?;
        }
        if let Some(v) = &args.vararg {
            self.opt(v.annotation)?;
        }
        if let Some(k) = &args.kwarg {
            self.opt(k.annotation)?;
        }
        for a in &args.kwonlyargs {
            self.opt(a.annotation)?;
        }
        self.opt(returns)?;
        if future {
            self.exit();
        }
        Ok(())
    }

    fn annotation(&mut self, ann: NodeId) -> R {
        let future = self.ast.future_annotations;
        if future {
            let line = self.ast.line(ann);
            self.enter("_annotation", BlockType::Annotation, line);
        }
        self.expr(ann)?;
        if future {
            self.exit();
        }
        Ok(())
    }

    fn params(&mut self, args: &'a Arguments) -> R {
        // Parameters have no node of their own; duplicate-argument errors
        // point at the enclosing definition's first line.
        let anchor = self.ast.module;
        for name in args.param_names_symtable_order() {
            self.add_def(name, DEF_PARAM, anchor)?;
        }
        Ok(())
    }

    fn expr(&mut self, id: NodeId) -> R {
        let ast = self.ast;
        match ast.kind(id) {
            Kind::Name { id: name, ctx } => {
                let flag = if *ctx == Ctx::Load { USE } else { DEF_LOCAL };
                self.add_def(name, flag, id)?;
                let cur = self.cur();
                if *ctx == Ctx::Load && self.tables[cur].block == BlockType::Function && name == "super" {
                    self.add_def("__class__", USE, id)?;
                }
            }
            Kind::NamedExpr { target, value } => {
                if self.comp_iter_expr > 0 {
                    return Err(self.err(id, "assignment expression cannot be used in a comprehension iterable expression".into()));
                }
                let cur = self.cur();
                if self.tables[cur].comprehension {
                    self.extend_namedexpr_scope(*target)?;
                }
                self.expr(*value)?;
                self.expr(*target)?;
            }
            Kind::Lambda { args, body } => {
                for d in &args.defaults {
                    self.expr(*d)?;
                }
                for d in args.kw_defaults.iter().flatten() {
                    self.expr(*d)?;
                }
                let line = ast.line(id);
                self.enter("lambda", BlockType::Function, line);
                self.params(args)?;
                self.expr(*body)?;
                self.exit();
            }
            Kind::Comp { kind, elt, value, generators } => {
                let Some(first) = generators.first() else { return Ok(()) };
                self.comp_iter_expr += 1;
                let r = self.expr(first.iter);
                self.comp_iter_expr -= 1;
                r?;
                let line = ast.line(id);
                let t = self.enter(kind.table_name(), BlockType::Function, line);
                self.tables[t].comprehension = true;
                self.tables[t].generator = *kind == super::pyast::CompKind::Generator;
                self.add_def(".0", DEF_PARAM, id)?;
                self.expr(first.target)?;
                for i in &first.ifs {
                    self.expr(*i)?;
                }
                for g in &generators[1..] {
                    self.expr(g.target)?;
                    self.comp_iter_expr += 1;
                    let r = self.expr(g.iter);
                    self.comp_iter_expr -= 1;
                    r?;
                    for i in &g.ifs {
                        self.expr(*i)?;
                    }
                }
                self.opt(*value)?;
                self.expr(*elt)?;
                self.exit();
            }
            Kind::Dict { keys, values } => {
                for k in keys.iter().flatten() {
                    self.expr(*k)?;
                }
                for v in values {
                    self.expr(*v)?;
                }
            }
            Kind::MatchStar(Some(name)) => self.add_def(name, DEF_LOCAL, id)?,
            Kind::MatchAs { pattern, name } => {
                self.opt(*pattern)?;
                if let Some(n) = name {
                    self.add_def(n, DEF_LOCAL, id)?;
                }
            }
            Kind::MatchMapping(m) => {
                let super::pyast::MatchMapping { keys, patterns, rest } = &**m;
                for k in keys {
                    self.expr(*k)?;
                }
                for p in patterns {
                    self.expr(*p)?;
                }
                if let Some(r) = rest {
                    self.add_def(r, DEF_LOCAL, id)?;
                }
            }
            _ => {
                for c in ast.generic_children(id) {
                    self.expr(c)?;
                }
            }
        }
        Ok(())
    }

    /// A walrus inside a comprehension binds in the nearest enclosing
    /// function (or the module), as `symtable_extend_namedexpr_scope` does.
    fn extend_namedexpr_scope(&mut self, target: NodeId) -> R {
        let ast = self.ast;
        let Kind::Name { id: name, .. } = ast.kind(target) else { return Ok(()) };
        let name: &'a str = name;
        for &t in self.stack.clone().iter().rev() {
            let table = &self.tables[t];
            if table.comprehension {
                // CPython also rejects rebinding an enclosing comprehension's
                // iteration variable here; that error is not modelled.
                continue;
            }
            match table.block {
                BlockType::Function => {
                    let in_scope = table.symbols.get(name).map(|s| s.flags).unwrap_or(0);
                    if in_scope & DEF_GLOBAL != 0 {
                        self.add_def(name, DEF_GLOBAL, target)?;
                    } else {
                        self.add_def(name, DEF_NONLOCAL, target)?;
                    }
                    return self.add_def_in(t, name, DEF_LOCAL, target);
                }
                BlockType::Module => {
                    self.add_def(name, DEF_GLOBAL, target)?;
                    return self.add_def_in(t, name, DEF_GLOBAL, target);
                }
                BlockType::Class | BlockType::Annotation => {
                    return Err(self.err(target, "assignment expression within a comprehension cannot be used in a class body".into()));
                }
            }
        }
        Ok(())
    }
}

/// CPython's `analyze_block`: gives every name its scope class, passing the
/// names bound in enclosing functions down to children.
///
/// CPython also passes down the set of names declared global, but only to
/// choose `GLOBAL_IMPLICIT` for a name found in it, which is the class such
/// a name gets anyway: the set decides nothing and is not kept. (Copying it
/// for every child made the pass quadratic: every top-level function got a
/// copy of the module's names.)
fn analyze_block<'a>(ast: &PyAst, st: &mut SymTables<'a>, t: TableId, bound: Option<&HashSet<&'a str>>, inline_comprehensions: bool) -> Result<(), SymtableError> {
    if st.tables[t].analyzed {
        return Ok(());
    }
    let block = st.tables[t].block;
    // What is bound for the children; most functions have none, and need
    // no copy of their locals.
    let has_children = !st.tables[t].children.is_empty();
    let mut newbound: HashSet<&'a str> = HashSet::default();
    let mut bound_here: Option<HashSet<&'a str>> = bound.cloned();
    if block == BlockType::Class && has_children {
        if let Some(b) = bound {
            newbound.extend(b.iter().cloned());
        }
    }
    // Taken out while their scopes are set, and put back: nothing below
    // reads this table's symbols meanwhile.
    let mut symbols = std::mem::take(&mut st.tables[t].symbols);
    for (name, symbol) in symbols.iter_mut() {
        let flags = symbol.flags;
        let at = || ast.range(symbol.node);
        symbol.scope = if flags & DEF_GLOBAL != 0 {
            if flags & DEF_NONLOCAL != 0 {
                return Err(SymtableError { message: format!("name '{name}' is nonlocal and global"), range: at() });
            }
            if let Some(b) = bound_here.as_mut() {
                b.remove(name);
            }
            Scope::GlobalExplicit
        } else if flags & DEF_NONLOCAL != 0 {
            match &bound_here {
                None => {
                    return Err(SymtableError {
                        message: "nonlocal declaration not allowed at module level".into(),
                        range: at(),
                    })
                }
                Some(b) if !b.contains(name) => {
                    return Err(SymtableError { message: format!("no binding for nonlocal '{name}' found"), range: at() })
                }
                Some(_) => Scope::Free,
            }
        } else if flags & DEF_BOUND != 0 {
            // A function's locals are bound for the functions nested in it.
            if block == BlockType::Function && has_children {
                newbound.insert(*name);
            }
            Scope::Local
        } else if bound_here.as_ref().is_some_and(|b| b.contains(name)) {
            Scope::Free
        } else {
            Scope::GlobalImplicit
        };
    }
    st.tables[t].symbols = symbols;
    if !has_children {
        return Ok(());
    }
    if block != BlockType::Class {
        if let Some(b) = &bound_here {
            newbound.extend(b.iter().cloned());
        }
    } else {
        newbound.insert("__class__".into());
    }
    let children = st.tables[t].children.clone();
    let mut inlined = Vec::new();
    for c in &children {
        analyze_block(ast, st, *c, Some(&newbound), inline_comprehensions)?;
        let entry = &st.tables[*c];
        if inline_comprehensions && entry.comprehension && !entry.generator {
            // PEP 709: the comprehension's names (but not its `.0`) join
            // the parent's table unless the parent already has them.
            let moved: Vec<(&'a str, Symbol)> =
                entry.symbols.iter().filter(|(_, s)| s.flags & DEF_PARAM == 0).map(|(k, s)| (*k, s.clone())).collect();
            for (k, s) in moved {
                st.tables[t].symbols.entry(k).or_insert(s);
            }
            inlined.push(*c);
        }
    }
    if !inlined.is_empty() {
        let mut spliced = Vec::new();
        for c in children {
            if inlined.contains(&c) {
                spliced.extend(st.tables[c].children.clone());
            } else {
                spliced.push(c);
            }
        }
        st.tables[t].children = spliced;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::chalice::pyast::{convert, ParseOptions};

    /// Renders tables like `python -c 'symtable...'` would list them:
    /// `name line: sym(g|l|f)...` with children indented.
    fn dump(src: &str, version: (u8, u8)) -> String {
        let tree = crate::python::parse(src, None);
        let ast = convert(src, &tree, ParseOptions { python_version: version }).unwrap();
        let st = build(&ast, version).unwrap();
        let mut out = String::new();
        fn rec(st: &SymTables, t: TableId, depth: usize, out: &mut String) {
            let table = st.table(t);
            let mut names: Vec<&str> = table.symbols.keys().copied().collect();
            names.sort();
            let syms: Vec<String> =
                names.iter().map(|n| format!("{n}{}", if st.is_global(t, n) { "(g)" } else { "" })).collect();
            out.push_str(&format!("{}{} {}: {}\n", "  ".repeat(depth), table.name, table.lineno, syms.join(" ")));
            for c in &table.children {
                rec(st, *c, depth + 1, out);
            }
        }
        rec(&st, st.top, 0, &mut out);
        out
    }

    const SRC: &str = "import boto3\ns3 = boto3.client('s3')\ndef f(keys):\n    a = [s3.get_object(k) for k in keys]\n    b = {x for x in keys}\n    return (y for y in keys)\nz = [q for q in s3]\ndef g():\n    global gg\n    gg = 1\n";

    #[test]
    fn python_311_keeps_comprehension_tables() {
        expect_test::expect![[r#"
            top 0: boto3(g) f(g) g(g) gg(g) s3(g) z(g)
              f 3: a b keys
                listcomp 4: .0 k s3(g)
                setcomp 5: .0 x
                genexpr 6: .0 y
              listcomp 7: .0 q
              g 8: gg(g)
        "#]]
        .assert_eq(&dump(SRC, (3, 11)));
    }

    #[test]
    fn python_312_inlines_list_set_and_dict_comprehensions() {
        expect_test::expect![[r#"
            top 0: boto3(g) f(g) g(g) gg(g) q(g) s3(g) z(g)
              f 3: a b k keys s3(g) x
                genexpr 6: .0 y
              g 8: gg(g)
        "#]]
        .assert_eq(&dump(SRC, (3, 12)));
    }

    #[test]
    fn free_variables_and_nested_functions() {
        expect_test::expect![[r#"
            top 0: boto3(g) outer(g)
              outer 2: boto3(g) c inner
                inner 4: c
        "#]]
        .assert_eq(&dump("import boto3\ndef outer():\n    c = boto3\n    def inner():\n        return c\n", (3, 11)));
    }

    /// Every table in order, with all that building and analysis gave it:
    /// kind, line, children, flags, and each symbol's flags, scope and the
    /// place of the node it was first seen at.
    fn full_dump(ast: &PyAst, built: &Result<SymTables, SymtableError>) -> String {
        let st = match built {
            Ok(st) => st,
            Err(e) => return format!("error {e:?}"),
        };
        let mut out = format!("top {}\n", st.top);
        for (i, t) in st.tables.iter().enumerate() {
            let mut symbols: Vec<String> =
                t.symbols.iter().map(|(n, s)| format!("{n}:{}:{:?}:{:?}", s.flags, s.scope, ast.range(s.node))).collect();
            symbols.sort();
            out.push_str(&format!(
                "{i} {} {:?} line {} children {:?} comp {} gen {} | {}\n",
                t.name, t.block, t.lineno, t.children, t.comprehension, t.generator, symbols.join(" ")
            ));
        }
        out
    }

    /// Builds the tables of each version in turn with the memo the last one
    /// left, and requires exactly the tables built afresh; returns how many
    /// definitions the memo gave.
    fn check_memo(versions: &[String]) -> usize {
        let mut conversion = crate::chalice::pyast::ConversionMemo::default();
        let mut memo = SymtableMemo::default();
        for (i, text) in versions.iter().enumerate() {
            let tree = crate::python::parse(text, None);
            let version = if i % 3 == 2 { (3, 11) } else { (3, 12) };
            let (converted, next) = crate::chalice::pyast::convert_with_memo(text, &tree, ParseOptions { python_version: version }, conversion);
            conversion = next;
            let Ok(ast) = converted else { continue };
            let fresh = full_dump(&ast, &build(&ast, version));
            let memoized = full_dump(&ast, &build_with_memo(&ast, version, Some(&mut memo)));
            assert_eq!(memoized, fresh, "version {i}:\n{text}");
        }
        memo.replayed
    }

    #[test]
    fn tables_built_with_the_memo_are_those_built_afresh() {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../examples");
        let tricky = "import boto3\n@deco([x for x in range(3)], key=(w := 1))\ndef f(a, *args, b: int = 2, **kw) -> str:\n    global counter\n    counter += 1\n    return [y for y in a if (z := y)]\n\nclass C(Base, metaclass=M):\n    n: int = 0\n    def m(self):\n        return super().m() + [lambda q: q for _ in self]\n    class Inner:\n        def deep(self):\n            nonlocal_free = 1\n            def inner():\n                return nonlocal_free\n            return inner\n\ncounter = 0\n";
        let mut total = 0;
        for app in ["thread-resource", "thread-client", "media-library"].map(|e| std::fs::read_to_string(root.join(e).join("app.py")).unwrap()).into_iter().chain([tricky.to_string()]) {
            let first_def = app.find("\ndef ").map_or(0, |i| i + 1);
            let mut versions = crate::chalice::edited_versions(&app, "def helper(p):\n    global counter\n    return [boto3.client('sqs') for _ in p]\n");
            versions.extend([
                app.clone(),
                format!("counter: int = 1\nglobal counter\n{app}"),
                app.clone(),
                format!("{app}\ndef dup(a, a):\n    pass\n"),
                format!("{app}\ndef dup(a, b):\n    pass\n"),
                format!("{}\n\n\n{app}", &app[first_def..]),
                String::new(),
                app.clone(),
            ]);
            total += check_memo(&versions);
        }
        assert!(total > 50, "the memo gave only {total} definitions");
    }

    #[test]
    fn symtable_syntax_errors() {
        for src in ["def f(a, a): pass\n", "def f(x):\n    global x\n", "def f():\n    x = 1\n    global x\n", "nonlocal x\n"] {
            let tree = crate::python::parse(src, None);
            let ast = convert(src, &tree, ParseOptions { python_version: (3, 11) }).unwrap();
            assert!(build(&ast, (3, 11)).is_err(), "{src}");
        }
    }
}
