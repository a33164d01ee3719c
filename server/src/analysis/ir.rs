//! A small intermediate representation of a Python module: just the
//! statements and expressions that can move boto3 values around, lowered
//! from the tree-sitter tree once per file text.
//!
//! Lowering is the per-file work (it is what the language server redoes on a
//! keystroke); inference over all modules of a project then runs on this
//! IR, which is far cheaper than walking the syntax tree again.

use tree_sitter::Node as TsNode;

use crate::python::{field, Field, ReadNode, SyntaxTree};

use super::facts::TextRange;
use super::name::{Name, NameTable};

pub type FuncId = usize;
pub type ClassId = usize;

#[derive(Debug, Default)]
pub struct ModuleIr {
    pub body: Vec<Stmt>,
    pub functions: Vec<FunctionIr>,
    pub classes: Vec<ClassIr>,
    pub syntax_errors: Vec<TextRange>,
}

#[derive(Debug)]
pub struct FunctionIr {
    pub name: Name,
    /// `Class.method`, `outer.inner`, or just `name`.
    pub qualname: Name,
    pub class: Option<ClassId>,
    pub params: Vec<Param>,
    pub body: Vec<Stmt>,
    pub decorators: Vec<Expr>,
    /// The whole definition, decorators included.
    pub range: TextRange,
    pub name_range: TextRange,
    /// The body (a lambda's expression): an edit inside it changes this
    /// function's IR and no other unit's (see `eval::EvalState`).
    pub body_range: TextRange,
    pub is_property: bool,
    pub is_static: bool,
    pub is_classmethod: bool,
    /// A `lambda`: its body is a single `Return`.
    pub is_lambda: bool,
    /// The function this one is nested in (closures read its locals).
    pub parent: Option<FuncId>,
}

#[derive(Debug)]
pub struct ClassIr {
    pub name: Name,
    pub qualname: Name,
    /// Class-level statements (attribute assignments); methods are in
    /// `methods`.
    pub body: Vec<Stmt>,
    pub methods: Vec<FuncId>,
    pub range: TextRange,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ParamKind {
    Positional,
    VarArgs,
    KeywordOnly,
    VarKeywords,
}

#[derive(Debug)]
pub struct Param {
    pub name: Name,
    pub default: Option<Expr>,
    pub kind: ParamKind,
}

/// Statements and expressions are the bulk of a large project's memory
/// (a million lines lower to millions of them, all kept for inference):
/// the rare large variants keep their parts behind a pointer so that every
/// statement and expression is not as large as the largest kind.
#[derive(Debug)]
pub enum Stmt {
    /// `a = b = value`, `a: T = value`, `a += value` (targets empty).
    Assign { targets: Box<[Target]>, value: Expr },
    Expr(Expr),
    Return(Option<Expr>),
    If { test: Box<Expr>, body: Vec<Stmt>, orelse: Vec<Stmt> },
    /// `for target in iter` (iter `Some`) or `while test` (iter `None`).
    Loop { target: Option<Box<Target>>, iter: Option<Box<Expr>>, body: Vec<Stmt>, orelse: Vec<Stmt> },
    With { items: Vec<(Expr, Option<Target>)>, body: Vec<Stmt> },
    /// try / except / else / finally, and match cases: every block may run.
    Blocks(Vec<Vec<Stmt>>),
    Global(Vec<Name>),
    /// `import a.b` (binds `a`), `import a.b as c` (binds `c` to `a.b`).
    Import { module: Name, alias: Option<Name> },
    /// `from .m import x as y`: `level` leading dots.
    ImportFrom { module: Name, level: usize, names: Vec<(Name, Option<Name>)>, star: bool },
    Def(FuncId),
    Class(ClassId),
}

#[derive(Debug)]
pub enum Target {
    Name(Name),
    Attr(Expr, Name),
    Tuple(Box<[Target]>),
    Star(Box<Target>),
    /// Subscript targets and anything else: evaluated, not bound.
    Other(Expr),
}

#[derive(Debug)]
pub struct Expr {
    pub kind: ExprKind,
    pub span: Span,
}

impl Expr {
    pub fn new(kind: ExprKind, range: TextRange) -> Expr {
        Expr { kind, span: Span::from(range) }
    }

    pub fn range(&self) -> TextRange {
        self.span.into()
    }
}

/// A [`TextRange`] in half the room: the IR holds one per expression, for
/// every module of an open project. tree-sitter's own offsets are 32-bit,
/// so nothing it parses lies beyond them.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Span {
    start: u32,
    end: u32,
}

impl From<TextRange> for Span {
    fn from(r: TextRange) -> Span {
        let at = |offset: usize| u32::try_from(offset).unwrap_or(u32::MAX);
        Span { start: at(r.start), end: at(r.end) }
    }
}

impl From<Span> for TextRange {
    fn from(s: Span) -> TextRange {
        TextRange::new(s.start as usize, s.end as usize)
    }
}

#[derive(Debug)]
pub enum ExprKind {
    Name(Name),
    Attr(Box<Expr>, Name),
    Call { func: Box<Expr>, args: Box<[Arg]> },
    /// A string literal; `None` when it has interpolations. Shared: the
    /// evaluation makes a value of it each time it runs the code.
    Str(Option<std::sync::Arc<str>>),
    /// Tuple and list displays.
    Seq(Box<[Expr]>),
    Dict(Box<[(Option<Expr>, Expr)]>),
    Subscript(Box<Expr>, Box<Expr>),
    /// Comprehensions and generator expressions.
    Comprehension(Box<Comprehension>),
    Lambda(FuncId),
    /// `a if c else b`, `a or b`: the value is one of the alternatives.
    Alternatives(Box<[Expr]>),
    /// `x := value`.
    Walrus(Name, Box<Expr>),
    None,
    /// The literal `False` (a keyword argument passed as `False` does not
    /// count as passing it, e.g. `WithDecryption=False`).
    False,
    /// Anything else: sub-expressions are evaluated for their calls.
    Other(Box<[Expr]>),
}

/// A comprehension or generator expression: its `for` clauses (target,
/// iterable, `if` conditions) and the element expressions (a key and a
/// value for a dictionary). Boxed in [`ExprKind`], which it would otherwise
/// make larger than every other kind.
#[derive(Debug)]
pub struct Comprehension {
    pub generators: Box<[(Target, Expr, Box<[Expr]>)]>,
    pub elts: Box<[Expr]>,
}

#[derive(Debug)]
pub enum Arg {
    Positional(Expr),
    Keyword(Name, Expr),
    Star(Expr),
    StarStar(Expr),
}

/// Lowers a parsed module. Never fails: unknown or broken syntax becomes
/// `Other` and ERROR/MISSING nodes are recorded in `syntax_errors`.
pub fn lower(root: TsNode, text: &str) -> ModuleIr {
    let mut ir = lower_unshrunk(root, text);
    ir.shrink();
    ir
}

impl ModuleIr {
    /// Gives back the spare capacity of every vector. Lowering pushes into
    /// them one item at a time, and a vector that grows from empty reserves
    /// room for four: most argument lists, assignment targets and blocks
    /// hold one or two, so a module's IR kept about twice its size in slack
    /// (the language server keeps every module's IR for as long as the
    /// project is open).
    pub(super) fn shrink(&mut self) {
        shrink_stmts(&mut self.body);
        for f in &mut self.functions {
            f.params.shrink_to_fit();
            shrink_stmts(&mut f.body);
            f.decorators.shrink_to_fit();
        }
        for c in &mut self.classes {
            shrink_stmts(&mut c.body);
            c.methods.shrink_to_fit();
        }
        self.functions.shrink_to_fit();
        self.classes.shrink_to_fit();
        self.syntax_errors.shrink_to_fit();
    }
}

/// Expressions and targets hold boxed slices, made to fit when they are
/// built; only statement lists and the few vectors beside them grow.
fn shrink_stmts(stmts: &mut Vec<Stmt>) {
    for s in stmts.iter_mut() {
        match s {
            Stmt::Assign { .. } | Stmt::Expr(_) | Stmt::Return(_) | Stmt::Import { .. } | Stmt::Def(_) | Stmt::Class(_) => {}
            Stmt::If { body, orelse, .. } | Stmt::Loop { body, orelse, .. } => {
                shrink_stmts(body);
                shrink_stmts(orelse);
            }
            Stmt::With { items, body } => {
                items.shrink_to_fit();
                shrink_stmts(body);
            }
            Stmt::Blocks(blocks) => {
                blocks.iter_mut().for_each(shrink_stmts);
                blocks.shrink_to_fit();
            }
            Stmt::Global(names) => names.shrink_to_fit(),
            Stmt::ImportFrom { names, .. } => names.shrink_to_fit(),
        }
    }
    stmts.shrink_to_fit();
}

fn lower_unshrunk(root: TsNode, text: &str) -> ModuleIr {
    let mut l = Lowerer::new(text);
    collect_syntax_errors(root, &mut l.ir.syntax_errors);
    let mut body = Vec::new();
    for_each_top_level_statement(root, text, |statement| l.stmt(statement, &mut body));
    l.ir.body = body;
    l.ir
}

/// Calls `each` with the module's top-level statements as lowering reads
/// them: the root's children when it parsed cleanly. Otherwise the children
/// without errors, and each broken region parsed again block by block:
/// tree-sitter's recovery can swallow everything after one unclosed bracket
/// into a single ERROR node.
pub(super) fn for_each_top_level_statement(root: TsNode, text: &str, mut each: impl FnMut(TsNode)) {
    if !root.has_error() {
        for statement in crate::python::syntax::children_of(root).into_iter().filter(|n| n.is_named()) {
            each(statement);
        }
        return;
    }
    let mut cursor = root.walk();
    let lines = crate::python::LineStarts::new(text);
    let children: Vec<TsNode> = root.children(&mut cursor).collect();
    for child in children {
        if !child.has_error() && !child.is_error() {
            each(child);
            continue;
        }
        for (start, end) in crate::python::top_level_blocks(text, child.start_byte(), child.end_byte()) {
            let tree = crate::python::parse_range(text, &lines, start, end);
            let block = tree.root_node();
            let mut parts = block.walk();
            for part in block.children(&mut parts) {
                each(part);
            }
        }
    }
}

/// Lowers one top-level statement, as [`lower`] would lower it in its
/// module (a top-level child of the module's tree, or of a block parsed
/// again on its own): its statements, and the functions and classes it
/// defines (numbered from 0, in the order [`lower`] numbers them). See
/// [`super::memo`].
pub(super) fn lower_top_level_statement(statement: TsNode, text: &str) -> ModuleIr {
    let mut l = Lowerer::new(text);
    let mut body = Vec::new();
    l.stmt(statement, &mut body);
    l.ir.body = body;
    l.ir.shrink();
    l.ir
}

/// Lowers a module read without syntax errors: whole, or as consecutive
/// chunks of whole top-level statements (see
/// [`crate::python::ParsedFile::parse`]).
pub fn lower_syntax(trees: &[SyntaxTree], text: &str) -> ModuleIr {
    let mut l = Lowerer::new(text);
    for tree in trees {
        let body = l.block(tree.root());
        l.ir.body.extend(body);
    }
    l.ir
}

fn range<'t>(n: impl ReadNode<'t>) -> TextRange {
    TextRange::new(n.start_byte(), n.end_byte())
}

pub(super) fn collect_syntax_errors(root: TsNode, out: &mut Vec<TextRange>) {
    if !root.has_error() {
        return;
    }
    let mut cursor = root.walk();
    let mut stack = vec![root];
    while let Some(n) = stack.pop() {
        if n.is_error() || n.is_missing() {
            out.push(range(n));
            continue;
        }
        if n.has_error() {
            for c in n.children(&mut cursor) {
                stack.push(c);
            }
        }
    }
    out.sort();
}

/// Nesting beyond this depth is not lowered (deeply nested expressions
/// would otherwise overflow the stack of every recursive pass).
const MAX_DEPTH: usize = 200;

struct Lowerer<'a> {
    text: &'a str,
    ir: ModuleIr,
    /// Enclosing class / function names for qualnames, and the class id
    /// when directly inside a class body.
    scope: Vec<(Name, Option<ClassId>)>,
    /// Enclosing functions, innermost last.
    func_stack: Vec<FuncId>,
    depth: usize,
    names: NameTable,
}

impl<'a> Lowerer<'a> {
    fn new(text: &'a str) -> Self {
        Lowerer { text, ir: ModuleIr::default(), scope: Vec::new(), func_stack: Vec::new(), depth: 0, names: NameTable::default() }
    }

    fn src<'t, N: ReadNode<'t>>(&self, n: N) -> &'a str {
        self.text.get(n.byte_range()).unwrap_or("")
    }

    /// The name a node spells, shared with its other uses in the module.
    fn name<'t, N: ReadNode<'t>>(&mut self, n: N) -> Name {
        let spelling = self.src(n);
        self.names.name(spelling)
    }

    fn qualname(&mut self, name: &str) -> Name {
        if self.scope.is_empty() {
            return self.names.name(name);
        }
        let mut q: Vec<&str> = self.scope.iter().map(|(s, _)| s.as_str()).collect();
        q.push(name);
        Name::from(q.join("."))
    }

    fn block<'t, N: ReadNode<'t>>(&mut self, n: N) -> Vec<Stmt> {
        let mut out = Vec::new();
        for c in n.named_children() {
            self.stmt(c, &mut out);
        }
        out
    }

    fn field_block<'t, N: ReadNode<'t>>(&mut self, n: N, field: &Field) -> Vec<Stmt> {
        n.field(field).map(|b| self.block(b)).unwrap_or_default()
    }

    fn stmt<'t, N: ReadNode<'t>>(&mut self, n: N, out: &mut Vec<Stmt>) {
        if self.depth > MAX_DEPTH {
            return;
        }
        self.depth += 1;
        self.stmt_inner(n, out);
        self.depth -= 1;
    }

    fn stmt_inner<'t, N: ReadNode<'t>>(&mut self, n: N, out: &mut Vec<Stmt>) {
        match n.kind_name() {
            "expression_statement" => {
                for c in n.named_children() {
                    match c.kind_name() {
                        "assignment" => self.assignment(c, out),
                        "augmented_assignment" => {
                            let value = self.field_expr(c, &field::RIGHT);
                            if let Some(left) = c.field(&field::LEFT) {
                                out.push(Stmt::Expr(self.expr(left)));
                            }
                            out.push(Stmt::Assign { targets: Box::default(), value });
                        }
                        _ => out.push(Stmt::Expr(self.expr(c))),
                    }
                }
            }
            "return_statement" => {
                let value = n.named_child(0).map(|c| self.expr(c));
                out.push(Stmt::Return(value));
            }
            "if_statement" => out.push(self.if_chain(n, n.field(&field::CONDITION), &field::CONSEQUENCE)),
            "for_statement" => {
                let target = n.field(&field::LEFT).map(|t| self.target(t));
                let iter = n.field(&field::RIGHT).map(|e| self.expr(e));
                let body = self.field_block(n, &field::BODY);
                let orelse = n.field(&field::ALTERNATIVE).map(|e| self.block(e)).unwrap_or_default();
                out.push(Stmt::Loop { target: target.map(Box::new), iter: iter.map(Box::new), body, orelse });
            }
            "while_statement" => {
                if let Some(test) = n.field(&field::CONDITION) {
                    out.push(Stmt::Expr(self.expr(test)));
                }
                let body = self.field_block(n, &field::BODY);
                let orelse = n.field(&field::ALTERNATIVE).map(|e| self.block(e)).unwrap_or_default();
                out.push(Stmt::Loop { target: None, iter: None, body, orelse });
            }
            "with_statement" => {
                let mut items = Vec::new();
                for clause in n.named_children() {
                    if clause.kind_name() != "with_clause" {
                        continue;
                    }
                    for item in clause.named_children() {
                        let Some(value) = item.field(&field::VALUE) else { continue };
                        if value.kind_name() == "as_pattern" {
                            let ctx = value.named_child(0).map(|e| self.expr(e));
                            let alias = value
                                .field(&field::ALIAS)
                                .and_then(|a| a.named_child(0))
                                .map(|t| self.target(t));
                            if let Some(ctx) = ctx {
                                items.push((ctx, alias));
                            }
                        } else {
                            items.push((self.expr(value), None));
                        }
                    }
                }
                let body = self.field_block(n, &field::BODY);
                out.push(Stmt::With { items, body });
            }
            "try_statement" => {
                let mut blocks = vec![self.field_block(n, &field::BODY)];
                for c in n.named_children() {
                    match c.kind_name() {
                        "except_clause" | "except_group_clause" => {
                            let mut stmts = Vec::new();
                            for part in c.named_children() {
                                if part.kind_name() == "block" {
                                    stmts.extend(self.block(part));
                                }
                            }
                            blocks.push(stmts);
                        }
                        "else_clause" | "finally_clause" => {
                            let mut stmts = Vec::new();
                            for part in c.named_children() {
                                if part.kind_name() == "block" {
                                    stmts.extend(self.block(part));
                                }
                            }
                            blocks.push(stmts);
                        }
                        _ => {}
                    }
                }
                // try body, handlers and finally run in sequence in the
                // common case; treat them as consecutive blocks.
                out.push(Stmt::Blocks(blocks));
            }
            "match_statement" => {
                if let Some(subject) = n.field(&field::SUBJECT) {
                    out.push(Stmt::Expr(self.expr(subject)));
                }
                let mut blocks = Vec::new();
                if let Some(body) = n.field(&field::BODY) {
                    for case in body.named_children() {
                        blocks.push(self.field_block(case, &field::CONSEQUENCE));
                    }
                }
                out.push(Stmt::Blocks(blocks));
            }
            "global_statement" | "nonlocal_statement" => {
                let names = n.named_children().filter(|c| c.kind_name() == "identifier").map(|c| self.name(c)).collect();
                if n.kind_name() == "global_statement" {
                    out.push(Stmt::Global(names));
                }
            }
            "import_statement" => {
                for c in n.fields(&field::NAME) {
                    match c.kind_name() {
                        "dotted_name" => out.push(Stmt::Import { module: self.name(c), alias: None }),
                        "aliased_import" => {
                            let module = c.field(&field::NAME).map(|m| self.name(m)).unwrap_or_default();
                            let alias = c.field(&field::ALIAS).map(|a| self.name(a));
                            out.push(Stmt::Import { module, alias });
                        }
                        _ => {}
                    }
                }
            }
            "import_from_statement" => {
                let (module, level) = match n.field(&field::MODULE_NAME) {
                    Some(m) if m.kind_name() == "relative_import" => {
                        let mut level = 0;
                        let mut module = Name::default();
                        for c in m.named_children() {
                            match c.kind_name() {
                                "import_prefix" => level = self.src(c).chars().filter(|&ch| ch == '.').count(),
                                "dotted_name" => module = self.name(c),
                                _ => {}
                            }
                        }
                        (module, level)
                    }
                    Some(m) => (self.name(m), 0),
                    None => (Name::default(), 0),
                };
                let mut names = Vec::new();
                let mut star = false;
                for c in n.named_children() {
                    if c.kind_name() == "wildcard_import" {
                        star = true;
                    }
                }
                for c in n.fields(&field::NAME) {
                    match c.kind_name() {
                        "dotted_name" => names.push((self.name(c), None)),
                        "aliased_import" => {
                            let name = c.field(&field::NAME).map(|m| self.name(m)).unwrap_or_default();
                            let alias = c.field(&field::ALIAS).map(|a| self.name(a));
                            names.push((name, alias));
                        }
                        _ => {}
                    }
                }
                out.push(Stmt::ImportFrom { module, level, names, star });
            }
            "function_definition" => {
                let id = self.function(n, n, Vec::new());
                out.push(Stmt::Def(id));
            }
            "class_definition" => {
                let id = self.class(n, n);
                out.push(Stmt::Class(id));
            }
            "decorated_definition" => {
                let mut decorators = Vec::new();
                for c in n.named_children() {
                    if c.kind_name() == "decorator" {
                        if let Some(e) = c.named_child(0) {
                            decorators.push(self.expr(e));
                        }
                    }
                }
                if let Some(def) = n.field(&field::DEFINITION) {
                    match def.kind_name() {
                        "function_definition" => {
                            let id = self.function(def, n, decorators);
                            out.push(Stmt::Def(id));
                        }
                        "class_definition" => {
                            for d in decorators {
                                out.push(Stmt::Expr(d));
                            }
                            let id = self.class(def, n);
                            out.push(Stmt::Class(id));
                        }
                        _ => {}
                    }
                }
            }
            "block" | "module" => {
                for c in n.named_children() {
                    self.stmt(c, out);
                }
            }
            // An ERROR node wraps statements tree-sitter could not place;
            // lower what it contains so the rest of the code still counts.
            "ERROR" => {
                for c in n.named_children() {
                    if c.kind_name().ends_with("statement") || c.kind_name().ends_with("definition") || c.kind_name() == "block" {
                        self.stmt(c, out);
                    } else if is_expression(c) {
                        out.push(Stmt::Expr(self.expr(c)));
                    }
                }
            }
            "comment" | "pass_statement" | "break_statement" | "continue_statement" => {}
            // An expression where a statement belongs: a piece of a region
            // tree-sitter recovered from an error (`f(x)` read as a call, not
            // an expression statement). Read as the statement it would be.
            kind if !kind.ends_with("_statement") && is_expression(n) => out.push(Stmt::Expr(self.expr(n))),
            _ => {
                // raise, assert, del, print, exec, type alias ...: evaluate
                // their expressions for calls.
                for c in n.named_children() {
                    if is_expression(c) {
                        out.push(Stmt::Expr(self.expr(c)));
                    }
                }
            }
        }
    }

    fn if_chain<'t, N: ReadNode<'t>>(&mut self, n: N, cond: Option<N>, body_field: &Field) -> Stmt {
        let test = cond.map(|c| self.expr(c)).unwrap_or(Expr::new(ExprKind::None, range(n)));
        let body = self.field_block(n, body_field);
        let mut orelse = Vec::new();
        // `alternative` holds elif_clause / else_clause nodes in order.
        let alts: Vec<N> = n.fields(&field::ALTERNATIVE).collect();
        let mut tail: Option<Vec<Stmt>> = None;
        for alt in alts.into_iter().rev() {
            match alt.kind_name() {
                "else_clause" => tail = Some(self.field_block(alt, &field::BODY)),
                "elif_clause" => {
                    let mut s = self.if_chain_clause(alt);
                    if let (Stmt::If { orelse, .. }, Some(t)) = (&mut s, tail.take()) {
                        *orelse = t;
                    }
                    tail = Some(vec![s]);
                }
                _ => {}
            }
        }
        if let Some(t) = tail {
            orelse = t;
        }
        Stmt::If { test: Box::new(test), body, orelse }
    }

    fn if_chain_clause<'t, N: ReadNode<'t>>(&mut self, n: N) -> Stmt {
        let test = n.field(&field::CONDITION).map(|c| self.expr(c)).unwrap_or(Expr::new(ExprKind::None, range(n)));
        let body = self.field_block(n, &field::CONSEQUENCE);
        Stmt::If { test: Box::new(test), body, orelse: Vec::new() }
    }

    fn assignment<'t, N: ReadNode<'t>>(&mut self, n: N, out: &mut Vec<Stmt>) {
        // `a = b = c` nests: assignment(left a, right assignment(left b, right c)).
        let mut targets = Vec::new();
        let mut cur = n;
        loop {
            if let Some(left) = cur.field(&field::LEFT) {
                targets.push(self.target(left));
            }
            match cur.field(&field::RIGHT) {
                Some(r) if r.kind_name() == "assignment" => cur = r,
                Some(r) => {
                    let value = self.expr(r);
                    out.push(Stmt::Assign { targets: targets.into_boxed_slice(), value });
                    return;
                }
                None => {
                    // `x: int` declares without assigning.
                    return;
                }
            }
        }
    }

    fn field_expr<'t, N: ReadNode<'t>>(&mut self, n: N, field: &Field) -> Expr {
        match n.field(field) {
            Some(c) => self.expr(c),
            None => Expr::new(ExprKind::None, range(n)),
        }
    }

    fn target<'t, N: ReadNode<'t>>(&mut self, n: N) -> Target {
        match n.kind_name() {
            "identifier" => Target::Name(self.name(n)),
            "attribute" => {
                let obj = self.field_expr(n, &field::OBJECT);
                let attr = n.field(&field::ATTRIBUTE).map(|a| self.name(a)).unwrap_or_default();
                Target::Attr(obj, attr)
            }
            "pattern_list" | "tuple_pattern" | "list_pattern" | "tuple" | "list" | "expression_list" => {
                let items: Vec<N> = n.named_children().collect();
                Target::Tuple(items.into_iter().map(|c| self.target(c)).collect::<Vec<_>>().into_boxed_slice())
            }
            "list_splat_pattern" | "list_splat" => match n.named_child(0) {
                Some(c) => Target::Star(Box::new(self.target(c))),
                None => Target::Other(self.expr(n)),
            },
            "parenthesized_expression" => match n.named_child(0) {
                Some(c) => self.target(c),
                None => Target::Other(self.expr(n)),
            },
            _ => Target::Other(self.expr(n)),
        }
    }

    fn expr<'t, N: ReadNode<'t>>(&mut self, n: N) -> Expr {
        if self.depth > MAX_DEPTH {
            return Expr::new(ExprKind::Other(Box::default()), range(n));
        }
        self.depth += 1;
        let e = self.expr_inner(n);
        self.depth -= 1;
        e
    }

    fn expr_inner<'t, N: ReadNode<'t>>(&mut self, n: N) -> Expr {
        let r = range(n);
        let kind = match n.kind_name() {
            "identifier" => ExprKind::Name(self.name(n)),
            "attribute" => {
                let obj = self.field_expr(n, &field::OBJECT);
                let attr = n.field(&field::ATTRIBUTE).map(|a| self.name(a)).unwrap_or_default();
                ExprKind::Attr(Box::new(obj), attr)
            }
            "call" => {
                let func = self.field_expr(n, &field::FUNCTION);
                let mut args = Vec::new();
                if let Some(a) = n.field(&field::ARGUMENTS) {
                    if a.kind_name() == "generator_expression" {
                        args.push(Arg::Positional(self.expr(a)));
                    } else {
                        for c in a.named_children() {
                            match c.kind_name() {
                                "keyword_argument" => {
                                    let name = c.field(&field::NAME).map(|x| self.name(x)).unwrap_or_default();
                                    let value = self.field_expr(c, &field::VALUE);
                                    args.push(Arg::Keyword(name, value));
                                }
                                "list_splat" => {
                                    if let Some(x) = c.named_child(0) {
                                        args.push(Arg::Star(self.expr(x)));
                                    }
                                }
                                "dictionary_splat" => {
                                    if let Some(x) = c.named_child(0) {
                                        args.push(Arg::StarStar(self.expr(x)));
                                    }
                                }
                                "comment" => {}
                                _ => args.push(Arg::Positional(self.expr(c))),
                            }
                        }
                    }
                }
                ExprKind::Call { func: Box::new(func), args: args.into_boxed_slice() }
            }
            "string" => ExprKind::Str(self.string_value(n).map(std::sync::Arc::from)),
            "concatenated_string" => {
                let mut s = Some(String::new());
                for c in n.named_children() {
                    match (s.as_mut(), self.string_value(c)) {
                        (Some(acc), Some(part)) => acc.push_str(&part),
                        _ => s = None,
                    }
                }
                ExprKind::Str(s.map(std::sync::Arc::from))
            }
            "tuple" | "list" | "expression_list" | "set" => {
                let items: Vec<N> = n.named_children().filter(|c| c.kind_name() != "comment").collect();
                ExprKind::Seq(items.into_iter().map(|c| self.expr(c)).collect::<Vec<_>>().into_boxed_slice())
            }
            "dictionary" => {
                let items: Vec<N> = n.named_children().collect();
                let mut pairs = Vec::new();
                for c in items {
                    if c.kind_name() == "pair" {
                        let k = c.field(&field::KEY).map(|k| self.expr(k));
                        let v = self.field_expr(c, &field::VALUE);
                        pairs.push((k, v));
                    } else if c.kind_name() != "comment" {
                        pairs.push((None, self.expr(c)));
                    }
                }
                ExprKind::Dict(pairs.into_boxed_slice())
            }
            "subscript" => {
                let value = self.field_expr(n, &field::VALUE);
                let sub = self.field_expr(n, &field::SUBSCRIPT);
                ExprKind::Subscript(Box::new(value), Box::new(sub))
            }
            "list_comprehension" | "set_comprehension" | "dictionary_comprehension" | "generator_expression" => {
                let mut generators = Vec::new();
                let mut elts = Vec::new();
                if let Some(body) = n.field(&field::BODY) {
                    if body.kind_name() == "pair" {
                        if let Some(k) = body.field(&field::KEY) {
                            elts.push(self.expr(k));
                        }
                        elts.push(self.field_expr(body, &field::VALUE));
                    } else {
                        elts.push(self.expr(body));
                    }
                }
                for c in n.named_children() {
                    match c.kind_name() {
                        "for_in_clause" => {
                            let target = match c.field(&field::LEFT) {
                                Some(t) => self.target(t),
                                None => Target::Other(Expr::new(ExprKind::None, range(c))),
                            };
                            let iter = self.field_expr(c, &field::RIGHT);
                            generators.push((target, iter, Vec::new()));
                        }
                        "if_clause" => {
                            if let (Some(last), Some(cond)) = (generators.last_mut(), c.named_child(0)) {
                                let e = self.expr(cond);
                                last.2.push(e);
                            }
                        }
                        _ => {}
                    }
                }
                let generators = generators.into_iter().map(|(t, iter, conds)| (t, iter, conds.into_boxed_slice())).collect::<Vec<_>>().into_boxed_slice();
                ExprKind::Comprehension(Box::new(Comprehension { generators, elts: elts.into_boxed_slice() }))
            }
            "lambda" => {
                let id = self.lambda(n);
                ExprKind::Lambda(id)
            }
            "conditional_expression" => {
                let parts: Vec<N> = n.named_children().collect();
                // children: body, condition, alternative
                let mut alts = Vec::new();
                let mut others = Vec::new();
                for (i, p) in parts.into_iter().enumerate() {
                    if i == 1 {
                        others.push(self.expr(p));
                    } else {
                        alts.push(self.expr(p));
                    }
                }
                alts.extend(others.into_iter().map(|e| Expr::new(ExprKind::Other(Box::new([e])), r)));
                ExprKind::Alternatives(alts.into_boxed_slice())
            }
            "boolean_operator" => {
                let l = self.field_expr(n, &field::LEFT);
                let rr = self.field_expr(n, &field::RIGHT);
                ExprKind::Alternatives(Box::new([l, rr]))
            }
            "parenthesized_expression" | "await" => match n.named_child(0) {
                Some(c) => return self.expr(c),
                None => ExprKind::Other(Box::default()),
            },
            "named_expression" => {
                let name = n.field(&field::NAME).map(|x| self.name(x)).unwrap_or_default();
                let value = self.field_expr(n, &field::VALUE);
                ExprKind::Walrus(name, Box::new(value))
            }
            "none" => ExprKind::None,
            "false" => ExprKind::False,
            _ => {
                let kids: Vec<N> = n.named_children().filter(|c| is_expression(*c)).collect();
                ExprKind::Other(kids.into_iter().map(|c| self.expr(c)).collect::<Vec<_>>().into_boxed_slice())
            }
        };
        Expr::new(kind, r)
    }

    fn string_value<'t, N: ReadNode<'t>>(&self, n: N) -> Option<String> {
        let mut s = String::new();
        for c in n.named_children() {
            match c.kind_name() {
                "string_content" => s.push_str(self.src(c)),
                "interpolation" => return None,
                "escape_sequence" => s.push_str(self.src(c)),
                _ => {}
            }
        }
        Some(s)
    }

    fn params<'t, N: ReadNode<'t>>(&mut self, n: Option<N>) -> Vec<Param> {
        let mut out = Vec::new();
        let Some(n) = n else { return out };
        let mut keyword_only = false;
        let kids: Vec<N> = n.named_children().collect();
        for c in kids {
            let kind_now = if keyword_only { ParamKind::KeywordOnly } else { ParamKind::Positional };
            match c.kind_name() {
                "identifier" => out.push(Param { name: self.name(c), default: None, kind: kind_now }),
                "typed_parameter" => {
                    // typed_parameter wraps an identifier or a splat pattern.
                    if let Some(inner) = c.named_child(0) {
                        match inner.kind_name() {
                            "identifier" => out.push(Param { name: self.name(inner), default: None, kind: kind_now }),
                            "list_splat_pattern" => {
                                keyword_only = true;
                                if let Some(id) = inner.named_child(0) {
                                    out.push(Param { name: self.name(id), default: None, kind: ParamKind::VarArgs });
                                }
                            }
                            "dictionary_splat_pattern" => {
                                if let Some(id) = inner.named_child(0) {
                                    out.push(Param { name: self.name(id), default: None, kind: ParamKind::VarKeywords });
                                }
                            }
                            _ => {}
                        }
                    }
                }
                "default_parameter" | "typed_default_parameter" => {
                    let name = c.field(&field::NAME).map(|x| self.name(x)).unwrap_or_default();
                    let default = c.field(&field::VALUE).map(|v| self.expr(v));
                    out.push(Param { name, default, kind: kind_now });
                }
                "list_splat_pattern" => {
                    keyword_only = true;
                    if let Some(id) = c.named_child(0) {
                        out.push(Param { name: self.name(id), default: None, kind: ParamKind::VarArgs });
                    }
                }
                "keyword_separator" => keyword_only = true,
                "dictionary_splat_pattern" => {
                    if let Some(id) = c.named_child(0) {
                        out.push(Param { name: self.name(id), default: None, kind: ParamKind::VarKeywords });
                    }
                }
                _ => {}
            }
        }
        out
    }

    fn function<'t, N: ReadNode<'t>>(&mut self, def: N, outer: N, decorators: Vec<Expr>) -> FuncId {
        let name_node = def.field(&field::NAME);
        let name = name_node.map(|x| self.name(x)).unwrap_or_default();
        let qualname = self.qualname(&name);
        let class = self.scope.last().and_then(|(_, c)| *c);
        let params = self.params(def.field(&field::PARAMETERS));
        let deco_name = |e: &Expr| match &e.kind {
            ExprKind::Name(n) => Some(n.clone()),
            ExprKind::Attr(_, a) => Some(a.clone()),
            _ => None,
        };
        let names: Vec<Name> = decorators.iter().filter_map(deco_name).collect();
        let id = self.ir.functions.len();
        self.ir.functions.push(FunctionIr {
            name: name.clone(),
            qualname,
            class,
            params,
            body: Vec::new(),
            is_property: names.iter().any(|n| n == "property" || n == "cached_property"),
            is_static: names.iter().any(|n| n == "staticmethod"),
            is_classmethod: names.iter().any(|n| n == "classmethod"),
            decorators,
            range: range(outer),
            name_range: name_node.map(range).unwrap_or(range(def)),
            body_range: def.field(&field::BODY).map(range).unwrap_or_default(),
            is_lambda: false,
            parent: self.func_stack.last().copied(),
        });
        self.scope.push((name, None));
        self.func_stack.push(id);
        let body = self.field_block(def, &field::BODY);
        self.func_stack.pop();
        self.scope.pop();
        self.ir.functions[id].body = body;
        id
    }

    fn lambda<'t, N: ReadNode<'t>>(&mut self, n: N) -> FuncId {
        let params = self.params(n.field(&field::PARAMETERS));
        let id = self.ir.functions.len();
        let qualname = self.qualname("<lambda>");
        self.ir.functions.push(FunctionIr {
            name: "<lambda>".into(),
            qualname,
            class: None,
            params,
            body: Vec::new(),
            decorators: Vec::new(),
            range: range(n),
            name_range: range(n),
            body_range: n.field(&field::BODY).map(range).unwrap_or_default(),
            is_property: false,
            is_static: false,
            is_classmethod: false,
            is_lambda: true,
            parent: self.func_stack.last().copied(),
        });
        self.scope.push(("<lambda>".into(), None));
        self.func_stack.push(id);
        let body = n.field(&field::BODY).map(|b| self.expr(b));
        self.func_stack.pop();
        self.scope.pop();
        self.ir.functions[id].body = vec![Stmt::Return(body)];
        id
    }

    fn class<'t, N: ReadNode<'t>>(&mut self, def: N, outer: N) -> ClassId {
        let name = def.field(&field::NAME).map(|x| self.name(x)).unwrap_or_default();
        let qualname = self.qualname(&name);
        let id = self.ir.classes.len();
        self.ir.classes.push(ClassIr { name: name.clone(), qualname, body: Vec::new(), methods: Vec::new(), range: range(outer) });
        self.scope.push((name, Some(id)));
        let mut body = Vec::new();
        if let Some(b) = def.field(&field::BODY) {
            for c in b.named_children() {
                self.stmt(c, &mut body);
            }
        }
        self.scope.pop();
        let mut methods = Vec::new();
        let mut rest = Vec::new();
        for s in body {
            match s {
                Stmt::Def(f) => methods.push(f),
                other => rest.push(other),
            }
        }
        self.ir.classes[id].body = rest;
        self.ir.classes[id].methods = methods;
        id
    }
}

fn is_expression<'t>(n: impl ReadNode<'t>) -> bool {
    !matches!(
        n.kind_name(),
        "comment" | "keyword_separator" | "positional_separator" | "import_prefix" | "ERROR" | "escape_sequence"
    ) && n.is_named()
}
