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

use super::pyast::{Arguments, Ctx, Kind, NodeId, PyAst};
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

#[derive(Debug, Clone)]
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
pub(crate) fn build(ast: &PyAst, python_version: (u8, u8)) -> Result<SymTables<'_>, SymtableError> {
    let mut b = Builder { ast, tables: Vec::new(), stack: Vec::new(), top: 0, comp_iter_expr: 0 };
    let top = b.enter("top", BlockType::Module, 0);
    b.top = top;
    if let Kind::Module { body } = ast.kind(ast.module) {
        for s in body {
            b.stmt(*s)?;
        }
    }
    b.exit();
    let mut st = SymTables { tables: b.tables, top, children_by_name: Vec::new() };
    let inline = python_version >= (3, 12);
    analyze_block(ast, &mut st, top, None, inline)?;
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
        if flag & DEF_GLOBAL != 0 {
            // CPython also records explicit globals in the module's table.
            let top = self.top;
            let g = symbol_entry(&mut self.tables[top].symbols, name, node);
            g.flags |= flag;
        }
        Ok(())
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

    #[test]
    fn symtable_syntax_errors() {
        for src in ["def f(a, a): pass\n", "def f(x):\n    global x\n", "def f():\n    x = 1\n    global x\n", "nonlocal x\n"] {
            let tree = crate::python::parse(src, None);
            let ast = convert(src, &tree, ParseOptions { python_version: (3, 11) }).unwrap();
            assert!(build(&ast, (3, 11)).is_err(), "{src}");
        }
    }
}
