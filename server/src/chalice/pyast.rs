//! A Python `ast`-shaped tree built from the tree-sitter tree.
//!
//! chalice's analyzer is an `ast.NodeVisitor`: which nodes it types, and in
//! which order, follows the field order of CPython's `ast` classes (an
//! `IfExp` visits `test` before `body`; a `Dict` visits all keys before all
//! values; `a = b = c` is one `Assign` with two targets). Emulating it over
//! tree-sitter's concrete syntax directly would scatter those rules across
//! the analyzer, so this module converts once into an arena whose node kinds
//! and child order match `ast`, and the symbol-table and analyzer emulations
//! work on that.

use std::sync::Arc;

use crate::python::{SyntaxNode, SyntaxTree};

use crate::python::{field, Field, ReadNode};

use crate::analysis::TextRange;

pub(crate) type NodeId = usize;

/// A node's children as the analyzer's generic visit walks them: most nodes
/// have a handful, and the passes ask for them at every node they do not
/// handle themselves, so they are kept off the heap.
pub(crate) type Children = smallvec::SmallVec<[NodeId; 6]>;

/// Nesting deeper than this is reported instead of converted. chalice's
/// recursive visitors hit Python's recursion limit (1000 frames, 3 to 4 per
/// level) well before it, so such a file crashes chalice too; the limit
/// bounds our own recursion.
pub(crate) const MAX_NESTING: usize = 400;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Ctx {
    Load,
    Store,
    Del,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum CompKind {
    List,
    Set,
    Dict,
    Generator,
}

impl CompKind {
    /// The name CPython gives the comprehension's symbol table.
    pub(crate) fn table_name(self) -> &'static str {
        match self {
            CompKind::List => "listcomp",
            CompKind::Set => "setcomp",
            CompKind::Dict => "dictcomp",
            CompKind::Generator => "genexpr",
        }
    }
}

#[derive(Debug, Clone)]
pub(crate) struct Arg {
    pub name: String,
    pub annotation: Option<NodeId>,
}

#[derive(Debug, Clone, Default)]
pub(crate) struct Arguments {
    pub posonlyargs: Vec<Arg>,
    pub args: Vec<Arg>,
    pub vararg: Option<Arg>,
    pub kwonlyargs: Vec<Arg>,
    pub kw_defaults: Vec<Option<NodeId>>,
    pub kwarg: Option<Arg>,
    pub defaults: Vec<NodeId>,
}

impl Arguments {
    /// Parameter names in CPython's symtable order: positional-only, regular,
    /// keyword-only, then `*args` and `**kwargs`.
    pub(crate) fn param_names_symtable_order(&self) -> Vec<&str> {
        self.posonlyargs
            .iter()
            .chain(self.args.iter())
            .chain(self.kwonlyargs.iter())
            .chain(self.vararg.iter())
            .chain(self.kwarg.iter())
            .map(|a| a.name.as_str())
            .collect()
    }
}

#[derive(Debug, Clone)]
pub(crate) struct Alias {
    pub name: String,
    pub asname: Option<String>,
}

#[derive(Debug, Clone)]
pub(crate) struct Comprehension {
    pub target: NodeId,
    pub iter: NodeId,
    pub ifs: Vec<NodeId>,
}

#[derive(Debug, Clone)]
pub(crate) struct MatchCase {
    pub pattern: NodeId,
    pub guard: Option<NodeId>,
    pub body: Vec<NodeId>,
}

#[derive(Debug, Clone)]
pub(crate) struct WithItem {
    pub context_expr: NodeId,
    pub optional_vars: Option<NodeId>,
}

#[derive(Debug, Clone)]
pub(crate) struct FunctionDef {
    pub name: String,
    pub is_async: bool,
    pub args: Arguments,
    pub body: Vec<NodeId>,
    pub decorators: Vec<NodeId>,
    pub returns: Option<NodeId>,
}

#[derive(Debug, Clone)]
pub(crate) struct ClassDef {
    pub name: String,
    pub bases: Vec<NodeId>,
    pub keywords: Vec<NodeId>,
    pub body: Vec<NodeId>,
    pub decorators: Vec<NodeId>,
}

#[derive(Debug, Clone)]
pub(crate) struct Try {
    pub body: Vec<NodeId>,
    pub handlers: Vec<NodeId>,
    pub orelse: Vec<NodeId>,
    pub finalbody: Vec<NodeId>,
}

#[derive(Debug, Clone)]
pub(crate) struct ExceptHandler {
    pub type_: Option<NodeId>,
    pub name: Option<String>,
    pub body: Vec<NodeId>,
}

#[derive(Debug, Clone)]
pub(crate) struct MatchMapping {
    pub keys: Vec<NodeId>,
    pub patterns: Vec<NodeId>,
    pub rest: Option<String>,
}

#[derive(Debug, Clone)]
pub(crate) enum Kind {
    Module { body: Vec<NodeId> },
    // The large kinds, rare among a module's nodes, are boxed: a node is
    // as large as its largest kind.
    FunctionDef(Box<FunctionDef>),
    ClassDef(Box<ClassDef>),
    Return(Option<NodeId>),
    Delete(Vec<NodeId>),
    Assign { targets: Vec<NodeId>, value: NodeId },
    AugAssign { target: NodeId, value: NodeId },
    AnnAssign { target: NodeId, annotation: NodeId, value: Option<NodeId>, simple: bool },
    For { target: NodeId, iter: NodeId, body: Vec<NodeId>, orelse: Vec<NodeId> },
    While { test: NodeId, body: Vec<NodeId>, orelse: Vec<NodeId> },
    If { test: NodeId, body: Vec<NodeId>, orelse: Vec<NodeId> },
    With { items: Vec<WithItem>, body: Vec<NodeId> },
    Match { subject: NodeId, cases: Vec<MatchCase> },
    Raise { exc: Option<NodeId>, cause: Option<NodeId> },
    Try(Box<Try>),
    ExceptHandler(Box<ExceptHandler>),
    Assert { test: NodeId, msg: Option<NodeId> },
    Import(Vec<Alias>),
    ImportFrom { names: Vec<Alias> },
    Global(Vec<String>),
    Nonlocal(Vec<String>),
    ExprStmt(NodeId),
    /// `pass`, `break`, `continue`.
    Simple,

    BoolOp(Vec<NodeId>),
    NamedExpr { target: NodeId, value: NodeId },
    BinOp { left: NodeId, right: NodeId },
    UnaryOp(NodeId),
    Lambda { args: Box<Arguments>, body: NodeId },
    IfExp { test: NodeId, body: NodeId, orelse: NodeId },
    Dict { keys: Vec<Option<NodeId>>, values: Vec<NodeId> },
    Set(Vec<NodeId>),
    /// `elt` is the key of a dict comprehension, `value` its value.
    Comp { kind: CompKind, elt: NodeId, value: Option<NodeId>, generators: Vec<Comprehension> },
    Await(NodeId),
    Yield(Option<NodeId>),
    YieldFrom(NodeId),
    Compare { left: NodeId, comparators: Vec<NodeId> },
    Call { func: NodeId, args: Vec<NodeId>, keywords: Vec<NodeId> },
    Keyword { arg: Option<String>, value: NodeId },
    FormattedValue { value: NodeId, format_spec: Option<NodeId> },
    JoinedStr(Vec<NodeId>),
    /// `Some` for a `str` constant (its decoded value); `None` for numbers,
    /// bytes, `True`, `None`, `...`.
    Constant(Option<String>),
    Attribute { value: NodeId, attr: String },
    Subscript { value: NodeId, slice: NodeId },
    Starred { value: NodeId },
    Name { id: String, ctx: Ctx },
    List { elts: Vec<NodeId> },
    Tuple { elts: Vec<NodeId> },
    Slice { lower: Option<NodeId>, upper: Option<NodeId>, step: Option<NodeId> },

    MatchValue(NodeId),
    MatchSingleton,
    MatchSequence(Vec<NodeId>),
    MatchMapping(Box<MatchMapping>),
    MatchClass { cls: NodeId, patterns: Vec<NodeId>, kwd_patterns: Vec<NodeId> },
    MatchStar(Option<String>),
    MatchAs { pattern: Option<NodeId>, name: Option<String> },
    MatchOr(Vec<NodeId>),
}

#[derive(Debug, Clone)]
pub(crate) struct Node {
    pub kind: Kind,
    /// Where the node was when its segment was converted; read through
    /// [`PyAst::range`], which places it where the segment now lies.
    range: TextRange,
    /// 1-based line, as `ast` numbers them (see [`PyAst::line`]).
    line: usize,
}

/// A [`NodeId`] is a segment key (these high bits) and an index into that
/// segment. A module parsed in chunks is converted a run of chunks per
/// thread, each into its own segment, with no renumbering afterwards; a
/// module converted with a [`ConversionMemo`] reuses the segments of the
/// top-level statements whose text did not change, under their old keys.
const SEGMENT_SHIFT: u32 = 32;

/// Nodes converted together, shared by every later conversion that reuses
/// them, and placed in the module by offsetting their positions.
#[derive(Debug, Clone)]
struct Segment {
    /// Made as one vector, sized up front, and kept as it was made (an
    /// `Arc<[Node]>` would be a copy of it: a large module's segments are
    /// hundreds of megabytes).
    nodes: Arc<Vec<Node>>,
    key: usize,
    byte_delta: isize,
    line_delta: isize,
}

#[derive(Debug)]
pub(crate) struct PyAst {
    /// In source order.
    segments: Vec<Segment>,
    /// The index in `segments` of the segment with key `first_key + i`.
    slots: Vec<u32>,
    first_key: usize,
    pub module: NodeId,
    /// `from __future__ import annotations` is in effect: CPython then puts
    /// annotations into their own symbol tables.
    pub future_annotations: bool,
}

/// Why the source could not be turned into an `ast`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct SyntaxProblem {
    pub message: String,
    pub range: TextRange,
    /// Nesting too deep to emulate, rather than invalid Python.
    pub too_deep: bool,
}

impl PyAst {
    fn new(segments: Vec<Segment>, module: NodeId, future_annotations: bool) -> PyAst {
        let first_key = segments.iter().map(|s| s.key).min().unwrap_or(0);
        let last_key = segments.iter().map(|s| s.key).max().unwrap_or(0);
        let mut slots = vec![u32::MAX; last_key - first_key + 1];
        for (i, segment) in segments.iter().enumerate() {
            slots[segment.key - first_key] = i as u32;
        }
        PyAst { segments, slots, first_key, module, future_annotations }
    }

    /// The node and the segment that places it.
    fn located(&self, id: NodeId) -> (&Segment, &Node) {
        let segment = &self.segments[self.slots[(id >> SEGMENT_SHIFT) - self.first_key] as usize];
        (segment, &segment.nodes[id & ((1 << SEGMENT_SHIFT) - 1)])
    }

    /// The nodes of the segment `id` is in, as shared with the conversions
    /// that reuse it: two modules hold the same statement, converted once,
    /// when this is the same allocation in both.
    pub(crate) fn segment_nodes(&self, id: NodeId) -> &Arc<Vec<Node>> {
        &self.located(id).0.nodes
    }

    pub(crate) fn node(&self, id: NodeId) -> &Node {
        self.located(id).1
    }

    pub(crate) fn kind(&self, id: NodeId) -> &Kind {
        &self.node(id).kind
    }

    /// Where the node lies in the module's text.
    pub(crate) fn range(&self, id: NodeId) -> TextRange {
        let (segment, node) = self.located(id);
        node.range.shifted(segment.byte_delta)
    }

    /// The node's 1-based line.
    pub(crate) fn line(&self, id: NodeId) -> usize {
        let (segment, node) = self.located(id);
        node.line.saturating_add_signed(segment.line_delta)
    }

    /// Every node with its id and range, in source order.
    pub(crate) fn nodes(&self) -> impl Iterator<Item = (NodeId, &Kind, TextRange)> {
        self.segments.iter().flat_map(|s| {
            s.nodes.iter().enumerate().map(move |(i, n)| ((s.key << SEGMENT_SHIFT) | i, &n.kind, n.range.shifted(s.byte_delta)))
        })
    }

    /// Children in the order `ast.NodeVisitor.generic_visit` visits them
    /// (CPython's `_fields` order), flattening the helper nodes the analyzer
    /// never types (`keyword`, `comprehension`, `withitem`, `arguments`...).
    pub(crate) fn generic_children(&self, id: NodeId) -> Children {
        let mut out = Children::new();
        let push_opt = |out: &mut Children, o: &Option<NodeId>| {
            if let Some(x) = o {
                out.push(*x)
            }
        };
        match self.kind(id) {
            Kind::Module { body } => out.extend_from_slice(body),
            Kind::FunctionDef(f) => {
                let FunctionDef { args, body, decorators, returns, .. } = &**f;
                push_arguments(&mut out, args);
                out.extend_from_slice(body);
                out.extend_from_slice(decorators);
                push_opt(&mut out, returns);
            }
            Kind::ClassDef(c) => {
                let ClassDef { bases, keywords, body, decorators, .. } = &**c;
                out.extend_from_slice(bases);
                out.extend_from_slice(keywords);
                out.extend_from_slice(body);
                out.extend_from_slice(decorators);
            }
            Kind::Return(v) => push_opt(&mut out, v),
            Kind::Delete(t) => out.extend_from_slice(t),
            Kind::Assign { targets, value } => {
                out.extend_from_slice(targets);
                out.push(*value);
            }
            Kind::AugAssign { target, value } => {
                out.push(*target);
                out.push(*value);
            }
            Kind::AnnAssign { target, annotation, value, .. } => {
                out.push(*target);
                out.push(*annotation);
                push_opt(&mut out, value);
            }
            Kind::For { target, iter, body, orelse } => {
                out.push(*target);
                out.push(*iter);
                out.extend_from_slice(body);
                out.extend_from_slice(orelse);
            }
            Kind::While { test, body, orelse } | Kind::If { test, body, orelse } => {
                out.push(*test);
                out.extend_from_slice(body);
                out.extend_from_slice(orelse);
            }
            Kind::With { items, body } => {
                for it in items {
                    out.push(it.context_expr);
                    push_opt(&mut out, &it.optional_vars);
                }
                out.extend_from_slice(body);
            }
            Kind::Match { subject, cases } => {
                out.push(*subject);
                for c in cases {
                    out.push(c.pattern);
                    push_opt(&mut out, &c.guard);
                    out.extend_from_slice(&c.body);
                }
            }
            Kind::Raise { exc, cause } => {
                push_opt(&mut out, exc);
                push_opt(&mut out, cause);
            }
            Kind::Try(t) => {
                let Try { body, handlers, orelse, finalbody } = &**t;
                out.extend_from_slice(body);
                out.extend_from_slice(handlers);
                out.extend_from_slice(orelse);
                out.extend_from_slice(finalbody);
            }
            Kind::ExceptHandler(h) => {
                let ExceptHandler { type_, body, .. } = &**h;
                push_opt(&mut out, type_);
                out.extend_from_slice(body);
            }
            Kind::Assert { test, msg } => {
                out.push(*test);
                push_opt(&mut out, msg);
            }
            Kind::Import(_) | Kind::ImportFrom { .. } | Kind::Global(_) | Kind::Nonlocal(_) | Kind::Simple => {}
            Kind::ExprStmt(e) => out.push(*e),
            Kind::BoolOp(v) => out.extend_from_slice(v),
            Kind::NamedExpr { target, value } => {
                out.push(*target);
                out.push(*value);
            }
            Kind::BinOp { left, right } => {
                out.push(*left);
                out.push(*right);
            }
            Kind::UnaryOp(o) => out.push(*o),
            Kind::Lambda { args, body } => {
                push_arguments(&mut out, args);
                out.push(*body);
            }
            Kind::IfExp { test, body, orelse } => {
                out.push(*test);
                out.push(*body);
                out.push(*orelse);
            }
            Kind::Dict { keys, values } => {
                out.extend(keys.iter().flatten().copied());
                out.extend_from_slice(values);
            }
            Kind::Set(e) => out.extend_from_slice(e),
            Kind::Comp { elt, value, generators, .. } => {
                out.push(*elt);
                push_opt(&mut out, value);
                for g in generators {
                    out.push(g.target);
                    out.push(g.iter);
                    out.extend_from_slice(&g.ifs);
                }
            }
            Kind::Await(v) | Kind::YieldFrom(v) => out.push(*v),
            Kind::Yield(v) => push_opt(&mut out, v),
            Kind::Compare { left, comparators } => {
                out.push(*left);
                out.extend_from_slice(comparators);
            }
            Kind::Call { func, args, keywords } => {
                out.push(*func);
                out.extend_from_slice(args);
                out.extend_from_slice(keywords);
            }
            Kind::Keyword { value, .. } => out.push(*value),
            Kind::FormattedValue { value, format_spec } => {
                out.push(*value);
                push_opt(&mut out, format_spec);
            }
            Kind::JoinedStr(v) => out.extend_from_slice(v),
            Kind::Constant(_) | Kind::Name { .. } | Kind::MatchSingleton | Kind::MatchStar(_) => {}
            Kind::Attribute { value, .. } | Kind::Starred { value, .. } => out.push(*value),
            Kind::Subscript { value, slice, .. } => {
                out.push(*value);
                out.push(*slice);
            }
            Kind::List { elts, .. } | Kind::Tuple { elts, .. } => out.extend_from_slice(elts),
            Kind::Slice { lower, upper, step } => {
                push_opt(&mut out, lower);
                push_opt(&mut out, upper);
                push_opt(&mut out, step);
            }
            Kind::MatchValue(v) => out.push(*v),
            Kind::MatchSequence(p) | Kind::MatchOr(p) => out.extend_from_slice(p),
            Kind::MatchMapping(m) => {
                let MatchMapping { keys, patterns, .. } = &**m;
                out.extend_from_slice(keys);
                out.extend_from_slice(patterns);
            }
            Kind::MatchClass { cls, patterns, kwd_patterns } => {
                out.push(*cls);
                out.extend_from_slice(patterns);
                out.extend_from_slice(kwd_patterns);
            }
            Kind::MatchAs { pattern, .. } => push_opt(&mut out, pattern),
        }
        out
    }

    /// The decorated function's line and name, for messages.
    pub(crate) fn function_name(&self, id: NodeId) -> Option<&str> {
        match self.kind(id) {
            Kind::FunctionDef(f) => Some(&f.name),
            _ => None,
        }
    }
}

fn push_arguments(out: &mut Children, a: &Arguments) {
    // ast.arguments fields: posonlyargs, args, vararg, kwonlyargs,
    // kw_defaults, kwarg, defaults; each `arg` visits its annotation.
    for arg in &a.posonlyargs {
        out.extend(arg.annotation);
    }
    for arg in &a.args {
        out.extend(arg.annotation);
    }
    if let Some(v) = &a.vararg {
        out.extend(v.annotation);
    }
    for arg in &a.kwonlyargs {
        out.extend(arg.annotation);
    }
    out.extend(a.kw_defaults.iter().flatten().copied());
    if let Some(k) = &a.kwarg {
        out.extend(k.annotation);
    }
    out.extend_from_slice(&a.defaults);
}

/// Python grammar version gates that tree-sitter does not enforce.
#[derive(Debug, Clone, Copy)]
pub(crate) struct ParseOptions {
    pub python_version: (u8, u8),
}

/// Converts a tree-sitter tree of `text` into an `ast`-shaped arena, or
/// reports where CPython's `ast.parse` would raise `SyntaxError`.
pub(crate) fn convert(text: &str, tree: &tree_sitter::Tree, opts: ParseOptions) -> Result<PyAst, SyntaxProblem> {
    let root = tree.root_node();
    if root.has_error() {
        let bad = first_error(root).unwrap_or(root);
        return Err(syntax_error(bad.is_missing(), bad.kind_name(), bad.byte_range()));
    }
    convert_syntax(text, std::slice::from_ref(&SyntaxTree::new(root)), opts)
}

/// Where `ast.parse` stops at an ERROR or MISSING node.
fn syntax_error(missing: bool, kind: &str, range: std::ops::Range<usize>) -> SyntaxProblem {
    let message = if missing { format!("missing `{kind}`") } else { "invalid syntax".to_string() };
    SyntaxProblem { message, range: TextRange::new(range.start, range.end.max(range.start)), too_deep: false }
}

/// The segments of a module's top-level statements from its last
/// conversion, in order, with their texts: the next conversion of an edited
/// text converts only the statements whose text changed, and places the
/// others where they now lie. Conversion carries no state from one
/// top-level statement to the next but the `__future__` flag, which is kept
/// with each.
#[derive(Default)]
pub(crate) struct ConversionMemo {
    statements: Vec<KeptStatement>,
    /// Keys of segments converted from here on are this one and up, so that
    /// they never collide with those of the segments kept.
    next_key: usize,
}

struct KeptStatement {
    text: Box<str>,
    converted: ConvertedStatement,
}

/// Finds, for each top-level statement of the next version in turn, the
/// kept statement with its text (each used once). A keystroke changes one
/// statement: the others are where they were by index, counted from the
/// start before it and from the end after it, so each is looked for there
/// first and found with one comparison of texts. Past a few statements not
/// found so (a version that moved, added or removed several), the rest are
/// looked up by a hash of their texts.
struct KeptStatements {
    kept: Vec<Option<KeptStatement>>,
    /// Of the next version: how many statements fewer than the kept ones.
    shift: isize,
    misses: usize,
    by_hash: Option<rustc_hash::FxHashMap<u64, Vec<usize>>>,
}

/// Statements not found by index before the rest are looked up by hash.
const MISSES_BEFORE_HASHING: usize = 8;

/// How many statements were looked up by hash (imports convert on threads
/// of their own).
#[cfg(test)]
pub(crate) static LOOKED_UP_BY_HASH: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);

fn text_hash(text: &str) -> u64 {
    use std::hash::{BuildHasher, BuildHasherDefault};
    BuildHasherDefault::<rustc_hash::FxHasher>::default().hash_one(text)
}

impl KeptStatements {
    fn new(kept: Vec<KeptStatement>, statements: usize) -> KeptStatements {
        let shift = kept.len() as isize - statements as isize;
        KeptStatements { kept: kept.into_iter().map(Some).collect(), shift, misses: 0, by_hash: None }
    }

    /// The kept statement with `text`, for the next version's statement
    /// number `index`.
    fn take(&mut self, index: usize, text: &str) -> Option<KeptStatement> {
        let same = |k: &Option<KeptStatement>| k.as_ref().is_some_and(|k| &*k.text == text);
        let by_index = [Some(index), index.checked_add_signed(self.shift)].into_iter().flatten().find(|&i| self.kept.get(i).is_some_and(same));
        if let Some(i) = by_index {
            return self.kept[i].take();
        }
        self.misses += 1;
        if self.misses <= MISSES_BEFORE_HASHING {
            return None;
        }
        #[cfg(test)]
        LOOKED_UP_BY_HASH.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let kept = &self.kept;
        let by_hash = self.by_hash.get_or_insert_with(|| {
            let mut map: rustc_hash::FxHashMap<u64, Vec<usize>> = rustc_hash::FxHashMap::default();
            for (i, k) in kept.iter().enumerate() {
                if let Some(k) = k {
                    map.entry(text_hash(&k.text)).or_default().push(i);
                }
            }
            map
        });
        let i = by_hash.get(&text_hash(text))?.iter().copied().find(|&i| same(&self.kept[i]))?;
        self.kept[i].take()
    }
}

struct ConvertedStatement {
    /// As converted: its positions are those of `start_byte`, `start_row`.
    segment: Segment,
    start_byte: usize,
    start_row: usize,
    body: Vec<NodeId>,
    future_annotations: bool,
}

impl ConversionMemo {
    /// Whether the memo holds no statement (no import left it any).
    pub(crate) fn is_empty(&self) -> bool {
        self.statements.is_empty()
    }

    /// Keys only grow; once the live ones are few among those handed out,
    /// starting afresh keeps the slot table of each [`PyAst`] small.
    fn too_sparse(&self) -> bool {
        self.next_key > 4 * self.statements.len() + 4096
    }
}

/// [`convert`], reusing from `memo` the segments of the top-level
/// statements whose text is unchanged. Returns the memo for the next
/// version: this one's statements (a text with syntax errors, which does
/// not convert, leaves `memo` as it was).
pub(crate) fn convert_with_memo(text: &str, tree: &tree_sitter::Tree, opts: ParseOptions, memo: ConversionMemo) -> (Result<PyAst, SyntaxProblem>, ConversionMemo) {
    let root = tree.root_node();
    if root.has_error() {
        return (convert(text, tree, opts), memo);
    }
    let ConversionMemo { statements: old, mut next_key } = if memo.too_sparse() { ConversionMemo::default() } else { memo };
    let mut new = Vec::with_capacity(old.len());
    let mut segments = Vec::with_capacity(old.len() + 1);
    let mut body = Vec::new();
    let mut future_annotations = false;
    let children = crate::python::syntax::children_of(root);
    let statements: Vec<tree_sitter::Node> = children.into_iter().filter(|c| c.is_named() && !matches!(c.kind_name(), "comment" | "line_continuation")).collect();
    let mut old = KeptStatements::new(old, statements.len());
    for (index, child) in statements.into_iter().enumerate() {
        let source = &text[child.byte_range()];
        let (start_byte, start_row) = (child.start_byte(), child.start_position().row);
        // Each kept statement is used once: a second statement with the
        // same text is converted anew, into a segment of its own.
        let KeptStatement { text: source, converted } = match old.take(index, source) {
            Some(kept) => kept,
            None => {
                let mut c = Converter::new(text, opts, next_key);
                next_key += 1;
                let mut ids = Vec::new();
                if let Err(problem) = c.statement(SyntaxTree::new(child).root(), &mut ids) {
                    return (Err(problem), ConversionMemo::default());
                }
                let future_annotations = c.future_annotations;
                let converted = ConvertedStatement { segment: c.into_segment(), start_byte, start_row, body: ids, future_annotations };
                KeptStatement { text: source.into(), converted }
            }
        };
        segments.push(Segment {
            byte_delta: start_byte as isize - converted.start_byte as isize,
            line_delta: start_row as isize - converted.start_row as isize,
            ..converted.segment.clone()
        });
        body.extend_from_slice(&converted.body);
        future_annotations |= converted.future_annotations;
        new.push(KeptStatement { text: source, converted });
    }
    let mut c = Converter::new(text, opts, next_key);
    next_key += 1;
    let module = c.add_at(root.byte_range(), root.start_position().row, Kind::Module { body });
    segments.push(c.into_segment());
    (Ok(PyAst::new(segments, module, future_annotations)), ConversionMemo { statements: new, next_key })
}

/// [`convert`] for a module read whole or in chunks of whole top-level
/// statements (see [`crate::python::ParsedFile::parse`]).
/// The room to make for converting `tree`. A module has about a third as
/// many `ast` nodes as syntax nodes (0.31 to 0.34 on the examples and the
/// benchmark apps: a string is four syntax nodes and one `Constant`, a call
/// has its parentheses and commas). Half is room enough for nearly any
/// module, and close enough that giving back the rest keeps the nodes where
/// they are: mimalloc moves a block shrunk to less than half its size, a
/// copy of hundreds of megabytes for a large module's segments. A module
/// that needs more grows its vector once.
fn expected_nodes(tree: &SyntaxTree) -> usize {
    tree.len() / 2 + 16
}

pub(crate) fn convert_syntax(text: &str, trees: &[SyntaxTree], opts: ParseOptions) -> Result<PyAst, SyntaxProblem> {
    // Trees are read only from parses without syntax errors; should one
    // have any, it is reported at its first ERROR or MISSING node, as
    // `convert` reports it.
    if let Some(bad) = trees.iter().find_map(|t| t.first_error()) {
        return Err(syntax_error(bad.is_missing(), bad.kind_name(), bad.byte_range()));
    }
    let (first, last) = match trees {
        [tree] => {
            let mut c = Converter::new(text, opts, 0);
            c.nodes.reserve(expected_nodes(tree));
            let module = c.module(tree.root())?;
            let future_annotations = c.future_annotations;
            return Ok(PyAst::new(vec![c.into_segment()], module, future_annotations));
        }
        [first, .., last] => (first.root(), last.root()),
        [] => unreachable!("a parsed file has at least one tree"),
    };
    // Runs of consecutive chunks, one per thread. Conversion is a tree walk
    // with no state carried from one top-level statement to the next but
    // the `__future__` flag, so the chunks convert independently, each into
    // its own segment: no segment grows (by copying) to half the module.
    // These threads need the large stack too.
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get()).clamp(1, trees.len());
    let per_run = trees.len().div_ceil(threads);
    let runs: Vec<&[SyntaxTree]> = trees.chunks(per_run).collect();
    let convert_run = |first_segment: usize, run: &[SyntaxTree]| -> Vec<R<(Vec<NodeId>, Converter<'_>)>> {
        let mut out = Vec::new();
        for (i, tree) in run.iter().enumerate() {
            let mut c = Converter::new(text, opts, first_segment + i);
            c.nodes.reserve(expected_nodes(tree));
            let converted = c.block_statements(tree.root()).map(|body| (body, c));
            let failed = converted.is_err();
            out.push(converted);
            if failed {
                break;
            }
        }
        out
    };
    let converted: Vec<R<(Vec<NodeId>, Converter<'_>)>> = std::thread::scope(|scope| {
        let others: Vec<_> = runs[1..]
            .iter()
            .enumerate()
            .map(|(i, run)| {
                let convert_run = &convert_run;
                let first = (i + 1) * per_run;
                std::thread::Builder::new().stack_size(super::LARGE_STACK).spawn_scoped(scope, move || convert_run(first, run))
            })
            .collect();
        let mut out = convert_run(0, runs[0]);
        for (i, other) in others.into_iter().enumerate() {
            out.extend(match other {
                Ok(handle) => handle.join().unwrap_or_else(|panic| std::panic::resume_unwind(panic)),
                // No thread: convert that run here.
                Err(_) => convert_run((i + 1) * per_run, runs[i + 1]),
            });
        }
        out
    });
    let mut body = Vec::new();
    let mut segments = Vec::new();
    let mut future_annotations = false;
    // The first problem in source order is the one a single conversion
    // would have stopped at.
    for chunk in converted {
        let (chunk_body, c) = chunk?;
        body.extend(chunk_body);
        future_annotations |= c.future_annotations;
        segments.push(c.into_segment());
    }
    // The module spans the chunks, as a whole parse's root spans the file;
    // it is made last, in a segment of its own.
    let mut c = Converter::new(text, opts, segments.len());
    let module = c.add_span(first, last, Kind::Module { body });
    segments.push(c.into_segment());
    Ok(PyAst::new(segments, module, future_annotations))
}

/// The first ERROR or MISSING node, found by descending into the first
/// child that contains one (iteratively: error trees can be very deep).
fn first_error(node: tree_sitter::Node) -> Option<tree_sitter::Node> {
    let mut cur = node;
    'descend: loop {
        if cur.is_error() || cur.is_missing() {
            return Some(cur);
        }
        let mut cursor = cur.walk();
        for child in cur.children(&mut cursor) {
            if child.has_error() || child.is_missing() {
                cur = child;
                continue 'descend;
            }
        }
        return None;
    }
}

struct Converter<'a> {
    src: &'a str,
    nodes: Vec<Node>,
    /// The segment's first id (see [`SEGMENT_SHIFT`]).
    base: NodeId,
    depth: usize,
    opts: ParseOptions,
    future_annotations: bool,
}

type R<T> = Result<T, SyntaxProblem>;

fn named_children(n: SyntaxNode) -> Vec<SyntaxNode> {
    n.named_children().filter(|c| c.kind_name() != "comment" && c.kind_name() != "line_continuation").collect()
}

fn has_token(n: SyntaxNode, token: &str) -> bool {
    n.children().any(|c| !c.is_named() && c.kind_name() == token)
}

impl<'a> Converter<'a> {
    fn text(&self, n: SyntaxNode) -> &'a str {
        &self.src[n.byte_range()]
    }

    fn err(&self, n: SyntaxNode, message: impl Into<String>) -> SyntaxProblem {
        SyntaxProblem { message: message.into(), range: TextRange::new(n.start_byte(), n.end_byte()), too_deep: false }
    }

    fn new(src: &'a str, opts: ParseOptions, segment: usize) -> Self {
        Converter { src, nodes: Vec::new(), base: segment << SEGMENT_SHIFT, depth: 0, opts, future_annotations: false }
    }

    /// The nodes converted, as a segment in place.
    fn into_segment(self) -> Segment {
        let mut nodes = self.nodes;
        // Gives back the spare room without moving the nodes (see
        // `expected_nodes`).
        nodes.shrink_to_fit();
        Segment { nodes: Arc::new(nodes), key: self.base >> SEGMENT_SHIFT, byte_delta: 0, line_delta: 0 }
    }

    fn add(&mut self, n: SyntaxNode, kind: Kind) -> NodeId {
        self.add_at(n.byte_range(), n.start_row(), kind)
    }

    /// Adds a node spanning `range`, which starts on line `row` (from 0).
    fn add_at(&mut self, range: std::ops::Range<usize>, row: usize, kind: Kind) -> NodeId {
        self.nodes.push(Node { kind, range: TextRange::new(range.start, range.end), line: row + 1 });
        self.base + self.nodes.len() - 1
    }

    /// Adds a node positioned at `start` but spanning to `end` (e.g. a
    /// `Call` made from a decorator, an `Assign` from an `assignment`).
    fn add_span(&mut self, start: SyntaxNode, end: SyntaxNode, kind: Kind) -> NodeId {
        self.add_at(start.start_byte()..end.end_byte(), start.start_row(), kind)
    }

    fn enter(&mut self, n: SyntaxNode) -> R<()> {
        self.depth += 1;
        if self.depth > MAX_NESTING {
            return Err(SyntaxProblem {
                message: format!("nesting deeper than {MAX_NESTING} levels"),
                range: TextRange::new(n.start_byte(), n.end_byte()),
                too_deep: true,
            });
        }
        Ok(())
    }

    fn module(&mut self, n: SyntaxNode) -> R<NodeId> {
        let body = self.block_statements(n)?;
        Ok(self.add(n, Kind::Module { body }))
    }

    fn block_statements(&mut self, n: SyntaxNode) -> R<Vec<NodeId>> {
        let mut out = Vec::new();
        for child in named_children(n) {
            self.statement(child, &mut out)?;
        }
        Ok(out)
    }

    fn block_field(&mut self, n: SyntaxNode, field: &Field) -> R<Vec<NodeId>> {
        match n.field(field) {
            Some(b) => self.block_statements(b),
            None => Ok(Vec::new()),
        }
    }

    fn statement(&mut self, n: SyntaxNode, out: &mut Vec<NodeId>) -> R<()> {
        self.enter(n)?;
        let r = self.statement_inner(n, out);
        self.depth -= 1;
        r
    }

    fn statement_inner(&mut self, n: SyntaxNode, out: &mut Vec<NodeId>) -> R<()> {
        let id = match n.kind_name() {
            "expression_statement" => {
                let kids = named_children(n);
                if kids.len() == 1 && matches!(kids[0].kind_name(), "assignment" | "augmented_assignment") {
                    self.assignment(kids[0])?
                } else if kids.len() == 1 {
                    let e = self.expr(kids[0], Ctx::Load)?;
                    self.add(n, Kind::ExprStmt(e))
                } else {
                    let mut elts = Vec::new();
                    for k in kids {
                        elts.push(self.expr(k, Ctx::Load)?);
                    }
                    let t = self.add(n, Kind::Tuple { elts });
                    self.add(n, Kind::ExprStmt(t))
                }
            }
            "return_statement" => {
                let v = self.optional_value(n)?;
                self.add(n, Kind::Return(v))
            }
            "delete_statement" => {
                let mut targets = Vec::new();
                for k in named_children(n) {
                    if k.kind_name() == "expression_list" {
                        for e in named_children(k) {
                            targets.push(self.expr(e, Ctx::Del)?);
                        }
                    } else {
                        targets.push(self.expr(k, Ctx::Del)?);
                    }
                }
                self.add(n, Kind::Delete(targets))
            }
            "pass_statement" | "break_statement" | "continue_statement" => self.add(n, Kind::Simple),
            "global_statement" | "nonlocal_statement" => {
                let names: Vec<String> = named_children(n).iter().map(|c| self.text(*c).to_string()).collect();
                if n.kind_name() == "global_statement" {
                    self.add(n, Kind::Global(names))
                } else {
                    self.add(n, Kind::Nonlocal(names))
                }
            }
            "import_statement" => {
                let mut names = Vec::new();
                for c in n.fields(&field::NAME) {
                    names.push(self.alias(c));
                }
                self.add(n, Kind::Import(names))
            }
            "future_import_statement" => {
                let mut names = Vec::new();
                for c in n.fields(&field::NAME) {
                    let a = self.alias(c);
                    if a.name == "annotations" {
                        self.future_annotations = true;
                    }
                    names.push(a);
                }
                self.add(n, Kind::ImportFrom { names })
            }
            "import_from_statement" => {
                let mut names = Vec::new();
                for c in n.fields(&field::NAME) {
                    names.push(self.alias(c));
                }
                if named_children(n).iter().any(|c| c.kind_name() == "wildcard_import") {
                    names.push(Alias { name: "*".into(), asname: None });
                }
                self.add(n, Kind::ImportFrom { names })
            }
            "raise_statement" => {
                let cause_node = n.field(&field::CAUSE);
                let exc_node = named_children(n).into_iter().find(|c| Some(*c) != cause_node);
                let exc = match exc_node {
                    Some(e) => Some(self.expr_or_tuple(e, Ctx::Load)?),
                    None => None,
                };
                let cause = match cause_node {
                    Some(c) => Some(self.expr(c, Ctx::Load)?),
                    None => None,
                };
                self.add(n, Kind::Raise { exc, cause })
            }
            "assert_statement" => {
                let kids = named_children(n);
                let test = match kids.first() {
                    Some(k) => self.expr(*k, Ctx::Load)?,
                    None => return Err(self.err(n, "assert without a test")),
                };
                let msg = match kids.get(1) {
                    Some(k) => Some(self.expr(*k, Ctx::Load)?),
                    None => None,
                };
                self.add(n, Kind::Assert { test, msg })
            }
            "if_statement" => self.if_statement(n)?,
            "for_statement" => {
                let target = self.required(n, &field::LEFT, Ctx::Store)?;
                let iter = self.required(n, &field::RIGHT, Ctx::Load)?;
                let body = self.block_field(n, &field::BODY)?;
                let orelse = match n.field(&field::ALTERNATIVE) {
                    Some(e) => self.block_field(e, &field::BODY)?,
                    None => Vec::new(),
                };
                self.add(n, Kind::For { target, iter, body, orelse })
            }
            "while_statement" => {
                let test = self.required(n, &field::CONDITION, Ctx::Load)?;
                let body = self.block_field(n, &field::BODY)?;
                let orelse = match n.field(&field::ALTERNATIVE) {
                    Some(e) => self.block_field(e, &field::BODY)?,
                    None => Vec::new(),
                };
                self.add(n, Kind::While { test, body, orelse })
            }
            "with_statement" => {
                let mut items = Vec::new();
                for clause in named_children(n).into_iter().filter(|c| c.kind_name() == "with_clause") {
                    for item in named_children(clause).into_iter().filter(|c| c.kind_name() == "with_item") {
                        let Some(value) = item.field(&field::VALUE) else { continue };
                        items.push(self.with_item(value)?);
                    }
                }
                let body = self.block_field(n, &field::BODY)?;
                self.add(n, Kind::With { items, body })
            }
            "try_statement" => {
                let body = self.block_field(n, &field::BODY)?;
                let mut handlers = Vec::new();
                let mut orelse = Vec::new();
                let mut finalbody = Vec::new();
                for c in named_children(n) {
                    match c.kind_name() {
                        "except_clause" | "except_group_clause" => handlers.push(self.except_clause(c)?),
                        "else_clause" => orelse = self.block_field(c, &field::BODY)?,
                        "finally_clause" => {
                            if let Some(b) = named_children(c).into_iter().find(|b| b.kind_name() == "block") {
                                finalbody = self.block_statements(b)?;
                            }
                        }
                        _ => {}
                    }
                }
                self.add(n, Kind::Try(Box::new(Try { body, handlers, orelse, finalbody })))
            }
            "function_definition" => self.function_def(n, Vec::new(), n)?,
            "class_definition" => self.class_def(n, Vec::new(), n)?,
            "decorated_definition" => {
                let mut decorators = Vec::new();
                for d in named_children(n).into_iter().filter(|c| c.kind_name() == "decorator") {
                    if let Some(e) = named_children(d).into_iter().next() {
                        decorators.push(self.expr(e, Ctx::Load)?);
                    }
                }
                let Some(def) = n.field(&field::DEFINITION) else {
                    return Err(self.err(n, "decorator without a definition"));
                };
                match def.kind_name() {
                    "function_definition" => self.function_def(def, decorators, n)?,
                    _ => self.class_def(def, decorators, n)?,
                }
            }
            "match_statement" => self.match_statement(n)?,
            "print_statement" | "exec_statement" => {
                return Err(self.err(n, format!("`{}` statement is Python 2 syntax", &n.kind_name()[..4])))
            }
            "type_alias_statement" => {
                if self.opts.python_version < (3, 12) {
                    return Err(self.err(n, "`type` statements need Python 3.12"));
                }
                // PEP 695 aliases are lazily evaluated in their own scope;
                // they bind a name and nothing the analyzer tracks.
                let left = n.field(&field::LEFT);
                let name = left.map(|l| self.text(l).to_string()).unwrap_or_default();
                let target = self.add(left.unwrap_or(n), Kind::Name { id: name, ctx: Ctx::Store });
                let value = self.add(n, Kind::Constant(None));
                self.add(n, Kind::Assign { targets: vec![target], value })
            }
            other => return Err(self.err(n, format!("unexpected `{other}`"))),
        };
        out.push(id);
        Ok(())
    }

    fn alias(&self, n: SyntaxNode) -> Alias {
        if n.kind_name() == "aliased_import" {
            let name = n.field(&field::NAME).map(|x| self.text(x)).unwrap_or_default();
            let asname = n.field(&field::ALIAS).map(|x| self.text(x).to_string());
            Alias { name: strip_ws(name), asname }
        } else {
            Alias { name: strip_ws(self.text(n)), asname: None }
        }
    }

    fn optional_value(&mut self, n: SyntaxNode) -> R<Option<NodeId>> {
        match named_children(n).into_iter().next() {
            Some(v) => Ok(Some(self.expr_or_tuple(v, Ctx::Load)?)),
            None => Ok(None),
        }
    }

    fn required(&mut self, n: SyntaxNode, field: &Field, ctx: Ctx) -> R<NodeId> {
        match n.field(field) {
            Some(c) => self.expr_or_tuple(c, ctx),
            None => Err(self.err(n, format!("missing {}", field.name()))),
        }
    }

    fn if_statement(&mut self, n: SyntaxNode) -> R<NodeId> {
        let test = self.required(n, &field::CONDITION, Ctx::Load)?;
        let body = self.block_field(n, &field::CONSEQUENCE)?;
        let alternatives: Vec<SyntaxNode> = n.fields(&field::ALTERNATIVE).collect();
        let orelse = self.elif_chain(&alternatives)?;
        Ok(self.add(n, Kind::If { test, body, orelse }))
    }

    /// `elif` clauses become nested `If` nodes in `orelse`, as in `ast`.
    fn elif_chain(&mut self, alternatives: &[SyntaxNode]) -> R<Vec<NodeId>> {
        let Some((first, rest)) = alternatives.split_first() else { return Ok(Vec::new()) };
        match first.kind_name() {
            "else_clause" => self.block_field(*first, &field::BODY),
            _ => {
                let test = self.required(*first, &field::CONDITION, Ctx::Load)?;
                let body = self.block_field(*first, &field::CONSEQUENCE)?;
                let orelse = self.elif_chain(rest)?;
                Ok(vec![self.add(*first, Kind::If { test, body, orelse })])
            }
        }
    }

    fn with_item(&mut self, value: SyntaxNode) -> R<WithItem> {
        if value.kind_name() == "as_pattern" {
            let expr_node = named_children(value).into_iter().next();
            let target_node = value.field(&field::ALIAS).and_then(|a| named_children(a).into_iter().next());
            let context_expr = match expr_node {
                Some(e) => self.expr(e, Ctx::Load)?,
                None => return Err(self.err(value, "empty with item")),
            };
            let optional_vars = match target_node {
                Some(t) => Some(self.expr(t, Ctx::Store)?),
                None => None,
            };
            Ok(WithItem { context_expr, optional_vars })
        } else {
            Ok(WithItem { context_expr: self.expr(value, Ctx::Load)?, optional_vars: None })
        }
    }

    fn except_clause(&mut self, n: SyntaxNode) -> R<NodeId> {
        let mut type_ = None;
        let mut name = None;
        let value = n.field(&field::VALUE);
        let alias = n.field(&field::ALIAS);
        if let Some(v) = value {
            if v.kind_name() == "as_pattern" {
                if let Some(e) = named_children(v).into_iter().next() {
                    type_ = Some(self.expr(e, Ctx::Load)?);
                }
                if let Some(t) = v.field(&field::ALIAS) {
                    name = Some(self.text(t).trim().to_string());
                }
            } else {
                type_ = Some(self.expr(v, Ctx::Load)?);
            }
        }
        if let Some(a) = alias {
            name = Some(self.text(a).trim().to_string());
        }
        let body = match named_children(n).into_iter().find(|c| c.kind_name() == "block") {
            Some(b) => self.block_statements(b)?,
            None => Vec::new(),
        };
        Ok(self.add(n, Kind::ExceptHandler(Box::new(ExceptHandler { type_, name, body }))))
    }

    fn function_def(&mut self, n: SyntaxNode, decorators: Vec<NodeId>, _outer: SyntaxNode) -> R<NodeId> {
        if n.field(&field::TYPE_PARAMETERS).is_some() && self.opts.python_version < (3, 12) {
            return Err(self.err(n, "type parameters need Python 3.12"));
        }
        let name = n.field(&field::NAME).map(|x| self.text(x).to_string()).unwrap_or_default();
        let is_async = has_token(n, "async");
        let args = match n.field(&field::PARAMETERS) {
            Some(p) => self.parameters(p)?,
            None => Arguments::default(),
        };
        let returns = match n.field(&field::RETURN_TYPE) {
            Some(t) => Some(self.type_expr(t)?),
            None => None,
        };
        let body = self.block_field(n, &field::BODY)?;
        Ok(self.add(n, Kind::FunctionDef(Box::new(FunctionDef { name, is_async, args, body, decorators, returns }))))
    }

    fn class_def(&mut self, n: SyntaxNode, decorators: Vec<NodeId>, _outer: SyntaxNode) -> R<NodeId> {
        if n.field(&field::TYPE_PARAMETERS).is_some() && self.opts.python_version < (3, 12) {
            return Err(self.err(n, "type parameters need Python 3.12"));
        }
        let name = n.field(&field::NAME).map(|x| self.text(x).to_string()).unwrap_or_default();
        let (bases, keywords) = match n.field(&field::SUPERCLASSES) {
            Some(a) => self.argument_list(a)?,
            None => (Vec::new(), Vec::new()),
        };
        let body = self.block_field(n, &field::BODY)?;
        Ok(self.add(n, Kind::ClassDef(Box::new(ClassDef { name, bases, keywords, body, decorators }))))
    }

    fn type_expr(&mut self, t: SyntaxNode) -> R<NodeId> {
        // `type` wraps one expression (or a PEP 604 / generic form that is
        // still an expression in `ast`).
        let inner = if t.kind_name() == "type" { named_children(t).into_iter().next().unwrap_or(t) } else { t };
        self.type_inner(inner)
    }

    fn type_inner(&mut self, n: SyntaxNode) -> R<NodeId> {
        match n.kind_name() {
            "type" => self.type_expr(n),
            "union_type" => {
                let kids = named_children(n);
                let left = match kids.first() {
                    Some(k) => self.type_inner(*k)?,
                    None => return Err(self.err(n, "empty type")),
                };
                let right = match kids.get(1) {
                    Some(k) => self.type_inner(*k)?,
                    None => return Ok(left),
                };
                Ok(self.add(n, Kind::BinOp { left, right }))
            }
            "generic_type" => {
                let kids = named_children(n);
                let value = match kids.first() {
                    Some(k) => self.type_inner(*k)?,
                    None => return Err(self.err(n, "empty type")),
                };
                let mut elts = Vec::new();
                for tp in kids.iter().skip(1) {
                    for t in named_children(*tp) {
                        elts.push(self.type_inner(t)?);
                    }
                }
                let slice = if elts.len() == 1 { elts[0] } else { self.add(n, Kind::Tuple { elts }) };
                Ok(self.add(n, Kind::Subscript { value, slice }))
            }
            "member_type" => {
                let kids = named_children(n);
                let value = match kids.first() {
                    Some(k) => self.type_inner(*k)?,
                    None => return Err(self.err(n, "empty type")),
                };
                let attr = kids.get(1).map(|k| self.text(*k).to_string()).unwrap_or_default();
                Ok(self.add(n, Kind::Attribute { value, attr }))
            }
            "splat_type" | "constrained_type" => Ok(self.add(n, Kind::Constant(None))),
            _ => self.expr(n, Ctx::Load),
        }
    }

    fn parameters(&mut self, p: SyntaxNode) -> R<Arguments> {
        let mut a = Arguments::default();
        // Before `/` parameters are positional-only; after `*` or `*args`
        // they are keyword-only.
        let mut seen_star = false;
        let mut pending_regular: Vec<(Arg, Option<NodeId>)> = Vec::new();
        for c in named_children(p) {
            match c.kind_name() {
                "positional_separator" => {
                    for (arg, d) in pending_regular.drain(..) {
                        a.posonlyargs.push(arg);
                        if let Some(d) = d {
                            a.defaults.push(d);
                        }
                    }
                }
                "keyword_separator" => seen_star = true,
                "identifier" => {
                    let arg = Arg { name: self.text(c).to_string(), annotation: None };
                    self.push_param(&mut a, &mut pending_regular, seen_star, arg, None);
                }
                "typed_parameter" => {
                    let ann = match c.field(&field::TYPE) {
                        Some(t) => Some(self.type_expr(t)?),
                        None => None,
                    };
                    let inner = named_children(c).into_iter().find(|k| Some(*k) != c.field(&field::TYPE));
                    match inner {
                        Some(i) if i.kind_name() == "list_splat_pattern" => {
                            a.vararg = Some(Arg { name: self.splat_name(i), annotation: ann });
                            seen_star = true;
                        }
                        Some(i) if i.kind_name() == "dictionary_splat_pattern" => {
                            a.kwarg = Some(Arg { name: self.splat_name(i), annotation: ann });
                        }
                        Some(i) => {
                            let arg = Arg { name: self.text(i).to_string(), annotation: ann };
                            self.push_param(&mut a, &mut pending_regular, seen_star, arg, None);
                        }
                        None => return Err(self.err(c, "parameter without a name")),
                    }
                }
                "default_parameter" | "typed_default_parameter" => {
                    let name_node = c.field(&field::NAME);
                    if name_node.map(|x| x.kind_name()) == Some("tuple_pattern") {
                        return Err(self.err(c, "tuple parameters are Python 2 syntax"));
                    }
                    let name = name_node.map(|x| self.text(x).to_string()).unwrap_or_default();
                    let ann = match c.field(&field::TYPE) {
                        Some(t) => Some(self.type_expr(t)?),
                        None => None,
                    };
                    let default = match c.field(&field::VALUE) {
                        Some(v) => Some(self.expr(v, Ctx::Load)?),
                        None => None,
                    };
                    let arg = Arg { name, annotation: ann };
                    self.push_param(&mut a, &mut pending_regular, seen_star, arg, default);
                }
                "list_splat_pattern" => {
                    a.vararg = Some(Arg { name: self.splat_name(c), annotation: None });
                    seen_star = true;
                }
                "dictionary_splat_pattern" => {
                    a.kwarg = Some(Arg { name: self.splat_name(c), annotation: None });
                }
                "tuple_pattern" => return Err(self.err(c, "tuple parameters are Python 2 syntax")),
                other => return Err(self.err(c, format!("unexpected parameter `{other}`"))),
            }
        }
        for (arg, d) in pending_regular.drain(..) {
            a.args.push(arg);
            if let Some(d) = d {
                a.defaults.push(d);
            }
        }
        Ok(a)
    }

    fn push_param(
        &mut self,
        a: &mut Arguments,
        pending: &mut Vec<(Arg, Option<NodeId>)>,
        keyword_only: bool,
        arg: Arg,
        default: Option<NodeId>,
    ) {
        if keyword_only {
            a.kwonlyargs.push(arg);
            a.kw_defaults.push(default);
        } else {
            pending.push((arg, default));
        }
    }

    fn splat_name(&self, n: SyntaxNode) -> String {
        named_children(n).into_iter().next().map(|i| self.text(i).to_string()).unwrap_or_default()
    }

    fn match_statement(&mut self, n: SyntaxNode) -> R<NodeId> {
        let subject = self.required(n, &field::SUBJECT, Ctx::Load)?;
        let mut cases = Vec::new();
        if let Some(body) = n.field(&field::BODY) {
            let clauses: Vec<SyntaxNode> = body.fields(&field::ALTERNATIVE).collect();
            for clause in clauses {
                let pats: Vec<SyntaxNode> = named_children(clause).into_iter().filter(|c| c.kind_name() == "case_pattern").collect();
                let pattern = if pats.len() == 1 {
                    self.pattern(pats[0])?
                } else {
                    let mut ps = Vec::new();
                    for p in pats {
                        ps.push(self.pattern(p)?);
                    }
                    self.add(clause, Kind::MatchSequence(ps))
                };
                let guard = match clause.field(&field::GUARD) {
                    Some(g) => match named_children(g).into_iter().next() {
                        Some(e) => Some(self.expr(e, Ctx::Load)?),
                        None => None,
                    },
                    None => None,
                };
                let body = self.block_field(clause, &field::CONSEQUENCE)?;
                cases.push(MatchCase { pattern, guard, body });
            }
        }
        Ok(self.add(n, Kind::Match { subject, cases }))
    }

    fn pattern(&mut self, n: SyntaxNode) -> R<NodeId> {
        self.enter(n)?;
        let r = self.pattern_inner(n);
        self.depth -= 1;
        r
    }

    fn pattern_inner(&mut self, n: SyntaxNode) -> R<NodeId> {
        let kids = named_children(n);
        Ok(match n.kind_name() {
            "case_pattern" => match kids.first() {
                Some(k) => return self.pattern(*k),
                // `case _:`
                None => self.add(n, Kind::MatchAs { pattern: None, name: None }),
            },
            "dotted_name" => {
                let parts: Vec<SyntaxNode> = kids.into_iter().filter(|k| k.kind_name() == "identifier").collect();
                if parts.len() == 1 {
                    let name = self.text(parts[0]).to_string();
                    if name == "_" {
                        self.add(n, Kind::MatchAs { pattern: None, name: None })
                    } else {
                        self.add(n, Kind::MatchAs { pattern: None, name: Some(name) })
                    }
                } else {
                    let v = self.dotted_value(&parts)?;
                    self.add(n, Kind::MatchValue(v))
                }
            }
            "as_pattern" => {
                let inner = match kids.first() {
                    Some(k) => Some(self.pattern(*k)?),
                    None => None,
                };
                let name = kids.last().filter(|k| k.kind_name() == "identifier").map(|k| self.text(*k).to_string());
                self.add(n, Kind::MatchAs { pattern: inner, name })
            }
            "union_pattern" => {
                let mut ps = Vec::new();
                for k in kids {
                    ps.push(self.pattern(k)?);
                }
                self.add(n, Kind::MatchOr(ps))
            }
            "list_pattern" | "tuple_pattern" => {
                let mut ps = Vec::new();
                for k in kids {
                    ps.push(self.pattern(k)?);
                }
                self.add(n, Kind::MatchSequence(ps))
            }
            "splat_pattern" => {
                let name = kids.first().map(|k| self.text(*k).to_string()).filter(|s| s != "_");
                self.add(n, Kind::MatchStar(name))
            }
            "dict_pattern" => {
                let mut keys = Vec::new();
                let mut patterns = Vec::new();
                let mut rest = None;
                let key_nodes: Vec<SyntaxNode> = n.fields(&field::KEY).collect();
                let value_nodes: Vec<SyntaxNode> = n.fields(&field::VALUE).collect();
                for k in key_nodes {
                    keys.push(self.pattern_value(k)?);
                }
                for v in value_nodes {
                    patterns.push(self.pattern(v)?);
                }
                for k in kids.iter().filter(|k| k.kind_name() == "splat_pattern") {
                    rest = named_children(*k).first().map(|i| self.text(*i).to_string());
                }
                self.add(n, Kind::MatchMapping(Box::new(MatchMapping { keys, patterns, rest })))
            }
            "class_pattern" => {
                let cls = match kids.first() {
                    Some(d) => {
                        let parts: Vec<SyntaxNode> =
                            named_children(*d).into_iter().filter(|k| k.kind_name() == "identifier").collect();
                        self.dotted_value(&parts)?
                    }
                    None => return Err(self.err(n, "class pattern without a class")),
                };
                let mut patterns = Vec::new();
                let mut kwd_patterns = Vec::new();
                for k in kids.iter().skip(1) {
                    let inner = named_children(*k).into_iter().next();
                    match inner {
                        Some(kp) if kp.kind_name() == "keyword_pattern" => {
                            if let Some(v) = named_children(kp).get(1) {
                                kwd_patterns.push(self.pattern_keyword_value(*v)?);
                            }
                        }
                        _ => patterns.push(self.pattern(*k)?),
                    }
                }
                self.add(n, Kind::MatchClass { cls, patterns, kwd_patterns })
            }
            "none" | "true" | "false" => self.add(n, Kind::MatchSingleton),
            _ => {
                let v = self.pattern_value(n)?;
                self.add(n, Kind::MatchValue(v))
            }
        })
    }

    /// A keyword pattern's value is a pattern whose node may be bare.
    fn pattern_keyword_value(&mut self, n: SyntaxNode) -> R<NodeId> {
        match n.kind_name() {
            "identifier" => {
                let name = self.text(n).to_string();
                Ok(self.add(n, Kind::MatchAs { pattern: None, name: Some(name) }))
            }
            _ => self.pattern(n),
        }
    }

    fn pattern_value(&mut self, n: SyntaxNode) -> R<NodeId> {
        match n.kind_name() {
            "dotted_name" => {
                let parts: Vec<SyntaxNode> = named_children(n).into_iter().filter(|k| k.kind_name() == "identifier").collect();
                self.dotted_value(&parts)
            }
            "string" | "concatenated_string" => self.expr(n, Ctx::Load),
            _ => Ok(self.add(n, Kind::Constant(None))),
        }
    }

    fn dotted_value(&mut self, parts: &[SyntaxNode]) -> R<NodeId> {
        let Some(first) = parts.first() else { return Err(SyntaxProblem { message: "empty name".into(), range: TextRange::new(0, 0), too_deep: false }) };
        let mut v = self.add(*first, Kind::Name { id: self.text(*first).to_string(), ctx: Ctx::Load });
        for p in &parts[1..] {
            let attr = self.text(*p).to_string();
            v = self.add_span(*first, *p, Kind::Attribute { value: v, attr });
        }
        Ok(v)
    }

    fn assignment(&mut self, n: SyntaxNode) -> R<NodeId> {
        if n.kind_name() == "augmented_assignment" {
            let target = self.required(n, &field::LEFT, Ctx::Store)?;
            let value = self.assign_value(n)?;
            return Ok(self.add(n, Kind::AugAssign { target, value }));
        }
        if let Some(t) = n.field(&field::TYPE) {
            let left = n.field(&field::LEFT);
            let simple = left.map(|l| l.kind_name() == "identifier").unwrap_or(false);
            let target = self.required(n, &field::LEFT, Ctx::Store)?;
            let annotation = self.type_expr(t)?;
            let value = match n.field(&field::RIGHT) {
                Some(_) => Some(self.assign_value(n)?),
                None => None,
            };
            return Ok(self.add(n, Kind::AnnAssign { target, annotation, value, simple }));
        }
        // `a = b = c`: tree-sitter nests assignments to the right; `ast` has
        // one Assign with every target, left to right.
        let mut targets = Vec::new();
        let mut cur = n;
        loop {
            targets.push(self.required(cur, &field::LEFT, Ctx::Store)?);
            match cur.field(&field::RIGHT) {
                Some(r) if r.kind_name() == "assignment" && r.field(&field::TYPE).is_none() => cur = r,
                Some(r) if r.kind_name() == "assignment" || r.kind_name() == "augmented_assignment" => {
                    return Err(self.err(r, "invalid syntax"));
                }
                Some(_) => break,
                None => return Err(self.err(cur, "assignment without a value")),
            }
        }
        let value = self.assign_value(cur)?;
        Ok(self.add(n, Kind::Assign { targets, value }))
    }

    fn assign_value(&mut self, n: SyntaxNode) -> R<NodeId> {
        match n.field(&field::RIGHT) {
            Some(r) => self.expr_or_tuple(r, Ctx::Load),
            None => Err(self.err(n, "assignment without a value")),
        }
    }

    /// An expression where `expression_list` / `pattern_list` (a bare tuple)
    /// may appear.
    fn expr_or_tuple(&mut self, n: SyntaxNode, ctx: Ctx) -> R<NodeId> {
        self.expr(n, ctx)
    }

    fn expr(&mut self, n: SyntaxNode, ctx: Ctx) -> R<NodeId> {
        self.enter(n)?;
        let r = self.expr_inner(n, ctx);
        self.depth -= 1;
        r
    }

    fn expr_inner(&mut self, n: SyntaxNode, ctx: Ctx) -> R<NodeId> {
        // Only some kinds read their children as a list.
        let kids = || named_children(n);
        let id = match n.kind_name() {
            "identifier" => self.add(n, Kind::Name { id: self.text(n).to_string(), ctx }),
            // Soft keywords used as names.
            "keyword_identifier" => self.add(n, Kind::Name { id: self.text(n).to_string(), ctx }),
            "parenthesized_expression" => match kids().first().copied() {
                Some(k) => return self.expr(k, ctx),
                None => self.add(n, Kind::Tuple { elts: Vec::new() }),
            },
            "expression_list" | "pattern_list" | "tuple" | "tuple_pattern" => {
                let mut elts = Vec::new();
                for k in kids() {
                    elts.push(self.expr(k, ctx)?);
                }
                self.add(n, Kind::Tuple { elts })
            }
            "list" | "list_pattern" => {
                let mut elts = Vec::new();
                for k in kids() {
                    elts.push(self.expr(k, ctx)?);
                }
                self.add(n, Kind::List { elts })
            }
            "set" => {
                let mut elts = Vec::new();
                for k in kids() {
                    elts.push(self.expr(k, Ctx::Load)?);
                }
                self.add(n, Kind::Set(elts))
            }
            "list_splat" | "list_splat_pattern" | "parenthesized_list_splat" => {
                let inner = match kids().first().copied() {
                    Some(k) => self.expr(k, ctx)?,
                    None => return Err(self.err(n, "empty starred expression")),
                };
                if n.kind_name() == "parenthesized_list_splat" {
                    return Ok(inner);
                }
                self.add(n, Kind::Starred { value: inner })
            }
            "attribute" => {
                let value = self.required(n, &field::OBJECT, Ctx::Load)?;
                let attr = n.field(&field::ATTRIBUTE).map(|a| self.text(a).to_string()).unwrap_or_default();
                self.add(n, Kind::Attribute { value, attr })
            }
            "subscript" => {
                let value = self.required(n, &field::VALUE, Ctx::Load)?;
                let subs: Vec<SyntaxNode> = n.fields(&field::SUBSCRIPT).collect();
                let mut elts = Vec::new();
                for s in &subs {
                    elts.push(self.expr(*s, Ctx::Load)?);
                }
                let slice = if elts.len() == 1 && !has_trailing_comma_in_subscript(n) {
                    elts[0]
                } else {
                    let first = subs.first().copied().unwrap_or(n);
                    let last = subs.last().copied().unwrap_or(n);
                    self.add_span(first, last, Kind::Tuple { elts })
                };
                self.add(n, Kind::Subscript { value, slice })
            }
            "slice" => {
                // Children are up to three expressions separated by `:`;
                // which slot each fills depends on the colons before it.
                let mut slots: [Option<NodeId>; 3] = [None, None, None];
                let mut slot = 0;
                let all: Vec<SyntaxNode> = n.children().collect();
                for c in all {
                    if !c.is_named() {
                        if c.kind_name() == ":" {
                            slot += 1;
                        }
                        continue;
                    }
                    if c.kind_name() == "comment" {
                        continue;
                    }
                    let e = self.expr(c, Ctx::Load)?;
                    if slot < 3 {
                        slots[slot] = Some(e);
                    }
                }
                self.add(n, Kind::Slice { lower: slots[0], upper: slots[1], step: slots[2] })
            }
            "call" => {
                let func = self.required(n, &field::FUNCTION, Ctx::Load)?;
                let (args, keywords) = match n.field(&field::ARGUMENTS) {
                    Some(a) if a.kind_name() == "generator_expression" => (vec![self.expr(a, Ctx::Load)?], Vec::new()),
                    Some(a) => self.argument_list(a)?,
                    None => (Vec::new(), Vec::new()),
                };
                self.add(n, Kind::Call { func, args, keywords })
            }
            "string" | "concatenated_string" => self.string(n)?,
            "integer" | "float" | "true" | "false" | "none" | "ellipsis" => self.add(n, Kind::Constant(None)),
            "binary_operator" => {
                let left = self.required(n, &field::LEFT, Ctx::Load)?;
                let right = self.required(n, &field::RIGHT, Ctx::Load)?;
                self.add(n, Kind::BinOp { left, right })
            }
            "unary_operator" => {
                let a = self.required(n, &field::ARGUMENT, Ctx::Load)?;
                self.add(n, Kind::UnaryOp(a))
            }
            "not_operator" => {
                let a = self.required(n, &field::ARGUMENT, Ctx::Load)?;
                self.add(n, Kind::UnaryOp(a))
            }
            "boolean_operator" => {
                // `ast` flattens `a and b and c` into one BoolOp; the visit
                // order (left to right) is the same either way.
                let left = self.required(n, &field::LEFT, Ctx::Load)?;
                let right = self.required(n, &field::RIGHT, Ctx::Load)?;
                self.add(n, Kind::BoolOp(vec![left, right]))
            }
            "comparison_operator" => {
                let mut es = Vec::new();
                for k in kids() {
                    es.push(self.expr(k, Ctx::Load)?);
                }
                if es.is_empty() {
                    return Err(self.err(n, "empty comparison"));
                }
                let left = es.remove(0);
                self.add(n, Kind::Compare { left, comparators: es })
            }
            "conditional_expression" => {
                let kids = kids();
                if kids.len() < 3 {
                    return Err(self.err(n, "incomplete conditional expression"));
                }
                // Source order is `body if test else orelse`; `ast` visits
                // test, body, orelse. Convert in source order (positions are
                // what matter here) and store by role.
                let body = self.expr(kids[0], Ctx::Load)?;
                let test = self.expr(kids[1], Ctx::Load)?;
                let orelse = self.expr(kids[2], Ctx::Load)?;
                self.add(n, Kind::IfExp { test, body, orelse })
            }
            "named_expression" => {
                let target = match n.field(&field::NAME) {
                    Some(t) => self.expr(t, Ctx::Store)?,
                    None => return Err(self.err(n, "walrus without a name")),
                };
                let value = self.required(n, &field::VALUE, Ctx::Load)?;
                self.add(n, Kind::NamedExpr { target, value })
            }
            "lambda" => {
                let args = match n.field(&field::PARAMETERS) {
                    Some(p) => self.parameters(p)?,
                    None => Arguments::default(),
                };
                let body = self.required(n, &field::BODY, Ctx::Load)?;
                self.add(n, Kind::Lambda { args: Box::new(args), body })
            }
            "dictionary" => {
                let mut keys = Vec::new();
                let mut values = Vec::new();
                for k in kids() {
                    match k.kind_name() {
                        "pair" => {
                            keys.push(Some(self.required(k, &field::KEY, Ctx::Load)?));
                            values.push(self.required(k, &field::VALUE, Ctx::Load)?);
                        }
                        "dictionary_splat" => {
                            keys.push(None);
                            match named_children(k).first() {
                                Some(v) => values.push(self.expr(*v, Ctx::Load)?),
                                None => return Err(self.err(k, "empty ** in dict")),
                            }
                        }
                        _ => return Err(self.err(k, "unexpected dict entry")),
                    }
                }
                self.add(n, Kind::Dict { keys, values })
            }
            "list_comprehension" | "set_comprehension" | "generator_expression" | "dictionary_comprehension" => {
                self.comprehension(n)?
            }
            "await" => {
                let v = match kids().first().copied() {
                    Some(k) => self.expr(k, Ctx::Load)?,
                    None => return Err(self.err(n, "await without a value")),
                };
                self.add(n, Kind::Await(v))
            }
            "yield" => {
                let v = match kids().first().copied() {
                    Some(k) => Some(self.expr(k, Ctx::Load)?),
                    None => None,
                };
                if has_token(n, "from") {
                    match v {
                        Some(v) => self.add(n, Kind::YieldFrom(v)),
                        None => return Err(self.err(n, "yield from without a value")),
                    }
                } else {
                    self.add(n, Kind::Yield(v))
                }
            }
            "as_pattern" => return Err(self.err(n, "invalid syntax")),
            "type" => return self.type_expr(n),
            "keyword_argument" | "dictionary_splat" => return Err(self.err(n, "invalid syntax")),
            other => return Err(self.err(n, format!("unsupported expression `{other}`"))),
        };
        Ok(id)
    }

    fn argument_list(&mut self, a: SyntaxNode) -> R<(Vec<NodeId>, Vec<NodeId>)> {
        let mut args = Vec::new();
        let mut keywords = Vec::new();
        for k in named_children(a) {
            match k.kind_name() {
                "keyword_argument" => {
                    let arg = k.field(&field::NAME).map(|x| self.text(x).to_string());
                    let value = self.required(k, &field::VALUE, Ctx::Load)?;
                    keywords.push(self.add(k, Kind::Keyword { arg, value }));
                }
                "dictionary_splat" => {
                    let value = match named_children(k).first() {
                        Some(v) => self.expr(*v, Ctx::Load)?,
                        None => return Err(self.err(k, "empty **")),
                    };
                    keywords.push(self.add(k, Kind::Keyword { arg: None, value }));
                }
                _ => args.push(self.expr(k, Ctx::Load)?),
            }
        }
        Ok((args, keywords))
    }

    fn comprehension(&mut self, n: SyntaxNode) -> R<NodeId> {
        let kind = match n.kind_name() {
            "list_comprehension" => CompKind::List,
            "set_comprehension" => CompKind::Set,
            "dictionary_comprehension" => CompKind::Dict,
            _ => CompKind::Generator,
        };
        let body = match n.field(&field::BODY) {
            Some(b) => b,
            None => return Err(self.err(n, "comprehension without a body")),
        };
        let (elt, value) = if kind == CompKind::Dict {
            (self.required(body, &field::KEY, Ctx::Load)?, Some(self.required(body, &field::VALUE, Ctx::Load)?))
        } else {
            (self.expr(body, Ctx::Load)?, None)
        };
        let mut generators: Vec<Comprehension> = Vec::new();
        for c in named_children(n) {
            match c.kind_name() {
                "for_in_clause" => {
                    let target = self.required(c, &field::LEFT, Ctx::Store)?;
                    let rights: Vec<SyntaxNode> = c.fields(&field::RIGHT).filter(|r| r.is_named()).collect();
                    let iter = match rights.first() {
                        Some(r) if rights.len() == 1 => self.expr(*r, Ctx::Load)?,
                        Some(_) => return Err(self.err(c, "invalid syntax")),
                        None => return Err(self.err(c, "comprehension without an iterable")),
                    };
                    generators.push(Comprehension { target, iter, ifs: Vec::new() });
                }
                "if_clause" => {
                    let e = match named_children(c).first() {
                        Some(e) => self.expr(*e, Ctx::Load)?,
                        None => return Err(self.err(c, "empty if clause")),
                    };
                    match generators.last_mut() {
                        Some(g) => g.ifs.push(e),
                        None => return Err(self.err(c, "invalid syntax")),
                    }
                }
                _ => {}
            }
        }
        if generators.is_empty() {
            return Err(self.err(n, "comprehension without a for clause"));
        }
        Ok(self.add(n, Kind::Comp { kind, elt, value, generators }))
    }

    fn string(&mut self, n: SyntaxNode) -> R<NodeId> {
        let parts: Vec<SyntaxNode> = if n.kind_name() == "concatenated_string" { named_children(n) } else { vec![n] };
        let mut value = String::new();
        let mut is_f = false;
        let mut is_bytes = false;
        let mut is_text = false;
        let mut interpolations = Vec::new();
        for p in &parts {
            let start = p.children().next().filter(|c| c.kind_name() == "string_start");
            let prefix_with_quote = start.map(|s| self.text(s)).unwrap_or("'");
            let prefix: String = prefix_with_quote.chars().take_while(|c| c.is_ascii_alphabetic()).collect::<String>().to_ascii_lowercase();
            let raw = prefix.contains('r');
            if prefix.contains('b') {
                is_bytes = true;
            } else {
                is_text = true;
            }
            if prefix.contains('f') {
                is_f = true;
            }
            for c in named_children(*p) {
                match c.kind_name() {
                    "string_content" => value.push_str(&decode_escapes(self.text(c), raw)),
                    "interpolation" => {
                        let e = match c.field(&field::EXPRESSION) {
                            Some(e) => self.expr(e, Ctx::Load)?,
                            None => return Err(self.err(c, "empty f-string expression")),
                        };
                        let format_spec = match c.field(&field::FORMAT_SPECIFIER) {
                            Some(fs) => {
                                let mut inner = Vec::new();
                                for fe in named_children(fs).into_iter().filter(|x| x.kind_name() == "format_expression") {
                                    if let Some(e2) = fe.field(&field::EXPRESSION) {
                                        let v = self.expr(e2, Ctx::Load)?;
                                        inner.push(self.add(fe, Kind::FormattedValue { value: v, format_spec: None }));
                                    }
                                }
                                Some(self.add(fs, Kind::JoinedStr(inner)))
                            }
                            None => None,
                        };
                        interpolations.push(self.add(c, Kind::FormattedValue { value: e, format_spec }));
                    }
                    _ => {}
                }
            }
        }
        if is_bytes && is_text {
            return Err(self.err(n, "cannot mix bytes and nonbytes literals"));
        }
        if is_f {
            return Ok(self.add(n, Kind::JoinedStr(interpolations)));
        }
        if is_bytes {
            return Ok(self.add(n, Kind::Constant(None)));
        }
        Ok(self.add(n, Kind::Constant(Some(value))))
    }
}

fn has_trailing_comma_in_subscript(n: SyntaxNode) -> bool {
    // `a[1,]` is a one-element tuple subscript.
    let kids: Vec<SyntaxNode> = n.children().collect();
    kids.iter().any(|c| !c.is_named() && c.kind_name() == ",")
}

fn strip_ws(s: &str) -> String {
    s.chars().filter(|c| !c.is_whitespace() && *c != '\\').collect()
}

/// Decodes Python string escapes (`\n`, `\x41`, `\u00e9`, `\N{...}` is kept
/// verbatim: only service names matter here and none contain one).
fn decode_escapes(s: &str, raw: bool) -> String {
    if raw || !s.contains('\\') {
        return s.to_string();
    }
    let mut out = String::with_capacity(s.len());
    let mut chars = s.chars().peekable();
    while let Some(c) = chars.next() {
        if c != '\\' {
            out.push(c);
            continue;
        }
        let Some(e) = chars.next() else {
            out.push('\\');
            break;
        };
        match e {
            '\n' => {}
            '\r' => {
                if chars.peek() == Some(&'\n') {
                    chars.next();
                }
            }
            '\\' => out.push('\\'),
            '\'' => out.push('\''),
            '"' => out.push('"'),
            'a' => out.push('\x07'),
            'b' => out.push('\x08'),
            'f' => out.push('\x0c'),
            'n' => out.push('\n'),
            'r' => out.push('\r'),
            't' => out.push('\t'),
            'v' => out.push('\x0b'),
            'x' | 'u' | 'U' => {
                let len = match e {
                    'x' => 2,
                    'u' => 4,
                    _ => 8,
                };
                let hex: String = (0..len).filter_map(|_| chars.next_if(|c| c.is_ascii_hexdigit())).collect();
                match u32::from_str_radix(&hex, 16).ok().and_then(char::from_u32) {
                    Some(ch) if hex.len() == len => out.push(ch),
                    _ => {
                        out.push('\\');
                        out.push(e);
                        out.push_str(&hex);
                    }
                }
            }
            '0'..='7' => {
                let mut v = e.to_digit(8).unwrap_or(0);
                for _ in 0..2 {
                    match chars.peek().and_then(|c| c.to_digit(8)) {
                        Some(d) => {
                            v = v * 8 + d;
                            chars.next();
                        }
                        None => break,
                    }
                }
                out.push(char::from_u32(v).unwrap_or('\u{fffd}'));
            }
            other => {
                out.push('\\');
                out.push(other);
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(src: &str) -> PyAst {
        let tree = crate::python::parse(src, None);
        convert(src, &tree, ParseOptions { python_version: (3, 12) }).unwrap()
    }

    #[test]
    fn string_literals_decode_like_python() {
        let ast = parse("x = 's\\x33' 'b'\ny = r'\\n'\nz = b's3'\nw = f's3'\n");
        let consts: Vec<_> = ast.nodes().filter_map(|(_, kind, _)| match kind { Kind::Constant(c) => Some(c.clone()), _ => None }).collect();
        assert_eq!(consts, vec![Some("s3b".to_string()), Some("\\n".to_string()), None]);
        assert!(ast.nodes().any(|(_, kind, _)| matches!(kind, Kind::JoinedStr(_))));
    }

    #[test]
    fn chained_assignment_is_one_assign_with_all_targets() {
        let ast = parse("a = b = c\n");
        let Kind::Module { body } = ast.kind(ast.module) else { panic!() };
        let Kind::Assign { targets, .. } = ast.kind(body[0]) else { panic!("{:?}", ast.kind(body[0])) };
        assert_eq!(targets.len(), 2);
    }

    #[test]
    fn syntax_errors_and_python2_are_reported_not_converted() {
        for src in ["def f(:\n", "print 'x'\n", "x = (\n"] {
            let tree = crate::python::parse(src, None);
            assert!(convert(src, &tree, ParseOptions { python_version: (3, 11) }).is_err(), "{src}");
        }
    }

    #[test]
    fn deep_nesting_is_refused_without_overflowing() {
        let src = format!("x = {}1{}\n", "(".repeat(5000), ")".repeat(5000));
        let tree = crate::python::parse(&src, None);
        let err = crate::chalice::on_large_stack(|| convert(&src, &tree, ParseOptions { python_version: (3, 11) }));
        assert!(err.is_err_and(|e| e.too_deep));
    }
}
