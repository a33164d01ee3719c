//! Lowering an edited file without lowering it all again: the next version
//! of a file lowers only the top-level statements whose text changed. The
//! IR of the others is taken from the previous version (moved, not copied,
//! using the layout recorded with it) and moved into place: offsets shifted
//! by as much as the text before the statement grew or shrank, function and
//! class ids by the change in the number of functions and classes defined
//! before it. Statements before the edit do not move at all.
//!
//! Lowering a top-level statement depends on nothing outside it (no
//! enclosing scope, no nesting depth), so the result equals what
//! [`super::ir::lower`] makes of the whole file (tested below, and by the
//! language server's edit fuzzer against fresh opens).

use std::ops::Range;
use std::sync::Arc;

use rustc_hash::FxHashMap;
use tree_sitter::Node;

use super::facts::{TextEdit, TextRange};
use super::ir::{self, Arg, ClassIr, Expr, ExprKind, FunctionIr, ModuleIr, Param, Stmt, Target};

/// Which top-level statement of a text each part of its IR was lowered
/// from, in order: enough to take the IR apart again, statement by
/// statement, when the next version of the text is lowered.
#[derive(Debug, Default)]
pub struct IrLayout {
    statements: Vec<StatementSpan>,
}

#[derive(Debug)]
struct StatementSpan {
    /// `None` for a statement with a syntax error, which is not reused.
    text: Option<Range<usize>>,
    /// The statement's node kind: the same text read as another kind (a
    /// call where there was an expression statement, in a region tree-sitter
    /// recovered from an error) lowers differently.
    kind: u16,
    stmts: usize,
    functions: usize,
    classes: usize,
}

/// A version of a file lowered with its layout: what the next version's
/// lowering takes its unchanged statements from.
pub struct LoweredVersion {
    pub text: Arc<str>,
    pub ir: ModuleIr,
    pub layout: IrLayout,
}

/// One top-level statement's IR as it lay in the previous version.
struct Taken {
    /// Its node kind (see [`StatementSpan::kind`]).
    kind: u16,
    start: usize,
    first_function: usize,
    first_class: usize,
    ir: ModuleIr,
}

/// [`ir::lower`] of `root`, taking from `previous` the IR of the top-level
/// statements whose text is unchanged, and the layout of the result.
///
/// A tree with syntax errors is lowered as [`ir::lower`] lowers it: the
/// top-level statements it parsed cleanly, and its broken regions parsed
/// again block by block. Of those, only the statements without errors are
/// kept for the next version.
pub fn lower_with_previous(root: Node, text: &str, previous: Option<LoweredVersion>) -> (ModuleIr, IrLayout) {
    let previous = match previous.map(|p| splice(root, text, p)) {
        Some(Ok(lowered)) => return lowered,
        Some(Err(previous)) => Some(previous),
        None => None,
    };
    let previous_text = previous.as_ref().map(|p| p.text.clone());
    // This version is about as large as the last: room for it up front.
    let mut module = ModuleIr::default();
    let mut layout = IrLayout::default();
    if let Some(p) = &previous {
        module.body.reserve(p.ir.body.len());
        module.functions.reserve(p.ir.functions.len());
        module.classes.reserve(p.ir.classes.len());
        layout.statements.reserve(p.layout.statements.len());
    }
    let kept = match (&previous_text, previous) {
        (Some(old_text), Some(previous)) => take_apart(old_text, previous.ir, &previous.layout.statements, (0, 0)),
        _ => FxHashMap::default(),
    };
    let mut lowering = Lowering { text, kept, module, layout };
    ir::collect_syntax_errors(root, &mut lowering.module.syntax_errors);
    ir::for_each_top_level_statement(root, text, |statement| lowering.add(statement));
    (lowering.module, lowering.layout)
}

/// [`lower_with_previous`] for a clean tree whose top-level statements
/// before and after the one place the text changed are the previous
/// version's, where they were and moved by the edit: the previous IR's
/// prefix is kept where it is, the statements around the edit are lowered,
/// and its suffix is moved into place as one block. An edit inside a
/// function body (a keystroke) changes one statement of hundreds, and this
/// neither hashes nor compares the texts of the others, nor takes the IR
/// apart statement by statement; the text of a statement clear of the edit
/// is the same by construction. The statements between are found by text
/// among the previous version's between (a block cut and pasted elsewhere).
/// Anything else (syntax errors now or then) gives `previous` back for the
/// general case.
fn splice(root: Node, text: &str, previous: LoweredVersion) -> Result<(ModuleIr, IrLayout), LoweredVersion> {
    let spans = &previous.layout.statements;
    if root.has_error() || spans.iter().any(|s| s.text.is_none()) {
        return Err(previous);
    }
    let nodes: Vec<Node> = crate::python::syntax::children_of(root).into_iter().filter(|n| n.is_named()).collect();
    let edit = TextEdit::between(&previous.text, text);
    let delta = edit.new_end as isize - edit.old_end as isize;
    // Whether `node` is the statement `span` was, moved `shift` bytes.
    let was = |node: &Node, span: &StatementSpan, shift: isize| {
        let moved = span.text.as_ref().map(|r| (r.start.checked_add_signed(shift), r.end.checked_add_signed(shift)));
        node.kind_id() == span.kind && moved == Some((Some(node.start_byte()), Some(node.end_byte())))
    };
    let (n, m) = (nodes.len(), spans.len());
    let mut prefix = 0;
    while prefix < n.min(m) && nodes[prefix].end_byte() <= edit.start && was(&nodes[prefix], &spans[prefix], 0) {
        prefix += 1;
    }
    let mut suffix = 0;
    while suffix < (n - prefix).min(m - prefix)
        && nodes[n - 1 - suffix].start_byte() >= edit.new_end
        && was(&nodes[n - 1 - suffix], &spans[m - 1 - suffix], delta)
    {
        suffix += 1;
    }
    let count = |spans: &[StatementSpan]| spans.iter().fold((0, 0, 0), |(b, f, c), s| (b + s.stmts, f + s.functions, c + s.classes));
    let (kept_stmts, kept_functions, kept_classes) = count(&spans[..prefix]);
    let (moved_stmts, moved_functions, moved_classes) = count(&spans[m - suffix..]);
    let LoweredVersion { text: old_text, ir: old, layout: old_layout } = previous;
    let ModuleIr { mut body, mut functions, mut classes, .. } = old;
    let old_functions_before_suffix = functions.len() - moved_functions;
    let old_classes_before_suffix = classes.len() - moved_classes;
    let mut moved_body = body.split_off(body.len() - moved_stmts);
    let mut moved_function_irs = functions.split_off(old_functions_before_suffix);
    let mut moved_class_irs = classes.split_off(old_classes_before_suffix);
    let between = ModuleIr { body: body.split_off(kept_stmts), functions: functions.split_off(kept_functions), classes: classes.split_off(kept_classes), syntax_errors: Vec::new() };
    let mut old_spans = old_layout.statements;
    let moved_spans = old_spans.split_off(m - suffix);
    let between_spans = old_spans.split_off(prefix);
    let mut lowering = Lowering {
        text,
        kept: take_apart(&old_text, between, &between_spans, (kept_functions, kept_classes)),
        module: ModuleIr { body, functions, classes, syntax_errors: Vec::new() },
        layout: IrLayout { statements: old_spans },
    };
    for &node in &nodes[prefix..n - suffix] {
        lowering.add(node);
    }
    let Lowering { mut module, mut layout, .. } = lowering;
    let place = Placement {
        bytes: delta,
        functions: module.functions.len() as isize - old_functions_before_suffix as isize,
        classes: module.classes.len() as isize - old_classes_before_suffix as isize,
    };
    if !place.is_identity() {
        place.stmts(&mut moved_body);
        moved_function_irs.iter_mut().for_each(|f| place.function(f));
        moved_class_irs.iter_mut().for_each(|c| place.class(c));
    }
    module.body.append(&mut moved_body);
    module.functions.append(&mut moved_function_irs);
    module.classes.append(&mut moved_class_irs);
    layout.statements.extend(moved_spans.into_iter().map(|span| StatementSpan {
        text: span.text.map(|r| r.start.saturating_add_signed(delta)..r.end.saturating_add_signed(delta)),
        ..span
    }));
    #[cfg(test)]
    SPLICED.with(|s| s.set(s.get() + 1));
    Ok((module, layout))
}

#[cfg(test)]
thread_local! {
    /// How many lowerings on this thread took [`splice`]'s way.
    static SPLICED: std::cell::Cell<usize> = const { std::cell::Cell::new(0) };
}

/// A module being lowered statement by statement.
struct Lowering<'a, 'p> {
    text: &'a str,
    kept: FxHashMap<&'p str, Taken>,
    module: ModuleIr,
    layout: IrLayout,
}

impl Lowering<'_, '_> {
    /// Appends a top-level statement's IR: taken from the previous version
    /// if its text is unchanged, else lowered.
    fn add(&mut self, statement: Node) {
        let start = statement.start_byte();
        let source = &self.text[statement.byte_range()];
        // A statement with a syntax error is lowered every time (what the
        // error recovery made of it is not a statement to reuse), and so is
        // a second statement with the text of one already taken.
        let clean = !statement.has_error() && !statement.is_error() && !statement.is_missing();
        let same_kind = |t: &Taken| t.kind == statement.kind_id();
        let reused = clean && self.kept.get(source).is_some_and(same_kind);
        let taken = reused.then(|| self.kept.remove(source)).flatten().unwrap_or_else(|| Taken {
            kind: statement.kind_id(),
            start,
            first_function: 0,
            first_class: 0,
            ir: ir::lower_top_level_statement(statement, self.text),
        });
        let place = Placement {
            bytes: start as isize - taken.start as isize,
            functions: self.module.functions.len() as isize - taken.first_function as isize,
            classes: self.module.classes.len() as isize - taken.first_class as isize,
        };
        let mut ir = taken.ir;
        if !place.is_identity() {
            place.stmts(&mut ir.body);
            ir.functions.iter_mut().for_each(|f| place.function(f));
            ir.classes.iter_mut().for_each(|c| place.class(c));
        }
        self.layout.statements.push(StatementSpan {
            text: clean.then(|| statement.byte_range()),
            kind: statement.kind_id(),
            stmts: ir.body.len(),
            functions: ir.functions.len(),
            classes: ir.classes.len(),
        });
        self.module.body.append(&mut ir.body);
        self.module.functions.append(&mut ir.functions);
        self.module.classes.append(&mut ir.classes);
    }
}

/// The previous version's IR of the top-level statements `spans`, taken
/// apart by statement and keyed by the statement's text (moved, not
/// copied); `first` is the number of its first function and class.
fn take_apart<'t>(text: &'t str, ir: ModuleIr, spans: &[StatementSpan], first: (usize, usize)) -> FxHashMap<&'t str, Taken> {
    let (mut body, mut functions, mut classes) = (ir.body.into_iter(), ir.functions.into_iter(), ir.classes.into_iter());
    let (mut first_function, mut first_class) = first;
    let mut kept = FxHashMap::with_capacity_and_hasher(spans.len(), Default::default());
    for span in spans {
        let part = ModuleIr {
            body: body.by_ref().take(span.stmts).collect(),
            functions: functions.by_ref().take(span.functions).collect(),
            classes: classes.by_ref().take(span.classes).collect(),
            syntax_errors: Vec::new(),
        };
        if let Some(source) = span.text.clone().and_then(|range| Some((range.start, text.get(range)?))) {
            kept.insert(source.1, Taken { kind: span.kind, start: source.0, first_function, first_class, ir: part });
        }
        first_function += span.functions;
        first_class += span.classes;
    }
    kept
}

/// Where a statement's IR moves: `bytes` further in the text, its function
/// and class ids shifted by `functions` and `classes`.
#[derive(Clone, Copy)]
struct Placement {
    bytes: isize,
    functions: isize,
    classes: isize,
}

impl Placement {
    fn is_identity(self) -> bool {
        self.bytes == 0 && self.functions == 0 && self.classes == 0
    }

    fn range(self, r: &mut TextRange) {
        *r = r.shifted(self.bytes);
    }

    fn function_id(self, f: &mut usize) {
        *f = f.saturating_add_signed(self.functions);
    }

    fn class_id(self, c: &mut usize) {
        *c = c.saturating_add_signed(self.classes);
    }

    fn stmts(self, stmts: &mut [Stmt]) {
        stmts.iter_mut().for_each(|s| self.stmt(s));
    }

    fn exprs(self, exprs: &mut [Expr]) {
        exprs.iter_mut().for_each(|e| self.expr(e));
    }

    fn stmt(self, s: &mut Stmt) {
        match s {
            Stmt::Assign { targets, value } => {
                targets.iter_mut().for_each(|t| self.target(t));
                self.expr(value);
            }
            Stmt::Expr(e) | Stmt::Return(Some(e)) => self.expr(e),
            Stmt::Return(None) | Stmt::Global(_) | Stmt::Import { .. } | Stmt::ImportFrom { .. } => {}
            Stmt::If { test, body, orelse } => {
                self.expr(test);
                self.stmts(body);
                self.stmts(orelse);
            }
            Stmt::Loop { target, iter, body, orelse } => {
                if let Some(t) = target {
                    self.target(t);
                }
                if let Some(e) = iter {
                    self.expr(e);
                }
                self.stmts(body);
                self.stmts(orelse);
            }
            Stmt::With { items, body } => {
                for (e, t) in items {
                    self.expr(e);
                    if let Some(t) = t {
                        self.target(t);
                    }
                }
                self.stmts(body);
            }
            Stmt::Blocks(blocks) => blocks.iter_mut().for_each(|b| self.stmts(b)),
            Stmt::Def(f) => self.function_id(f),
            Stmt::Class(c) => self.class_id(c),
        }
    }

    fn target(self, t: &mut Target) {
        match t {
            Target::Name(_) => {}
            Target::Attr(e, _) | Target::Other(e) => self.expr(e),
            Target::Tuple(ts) => ts.iter_mut().for_each(|t| self.target(t)),
            Target::Star(t) => self.target(t),
        }
    }

    fn expr(self, e: &mut Expr) {
        e.span = TextRange::from(e.span).shifted(self.bytes).into();
        match &mut e.kind {
            ExprKind::Name(_) | ExprKind::Str(_) | ExprKind::None | ExprKind::False => {}
            ExprKind::Attr(obj, _) | ExprKind::Walrus(_, obj) => self.expr(obj),
            ExprKind::Call { func, args } => {
                self.expr(func);
                args.iter_mut().for_each(|a| self.arg(a));
            }
            ExprKind::Seq(items) | ExprKind::Alternatives(items) | ExprKind::Other(items) => self.exprs(items),
            ExprKind::Dict(items) => {
                for (k, v) in items {
                    if let Some(k) = k {
                        self.expr(k);
                    }
                    self.expr(v);
                }
            }
            ExprKind::Subscript(obj, index) => {
                self.expr(obj);
                self.expr(index);
            }
            ExprKind::Comprehension(c) => {
                for (t, iter, ifs) in c.generators.iter_mut() {
                    self.target(t);
                    self.expr(iter);
                    self.exprs(ifs);
                }
                self.exprs(&mut c.elts);
            }
            ExprKind::Lambda(f) => self.function_id(f),
        }
    }

    fn arg(self, a: &mut Arg) {
        match a {
            Arg::Positional(e) | Arg::Keyword(_, e) | Arg::Star(e) | Arg::StarStar(e) => self.expr(e),
        }
    }

    fn function(self, f: &mut FunctionIr) {
        if let Some(c) = &mut f.class {
            self.class_id(c);
        }
        for Param { default, .. } in &mut f.params {
            if let Some(d) = default {
                self.expr(d);
            }
        }
        self.stmts(&mut f.body);
        self.exprs(&mut f.decorators);
        self.range(&mut f.range);
        self.range(&mut f.name_range);
        self.range(&mut f.body_range);
        if let Some(p) = &mut f.parent {
            self.function_id(p);
        }
    }

    fn class(self, c: &mut ClassIr) {
        self.stmts(&mut c.body);
        c.methods.iter_mut().for_each(|m| self.function_id(m));
        self.range(&mut c.range);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Lowers each version of a file in turn with the memo the previous one
    /// left, and requires the same IR as lowering each afresh.
    fn check_versions(versions: &[&str]) {
        let mut previous = None;
        for (i, text) in versions.iter().enumerate() {
            let tree = crate::python::parse(text, None);
            let (ir, layout) = lower_with_previous(tree.root_node(), text, previous);
            let fresh = ir::lower(tree.root_node(), text);
            assert_eq!(format!("{ir:#?}"), format!("{fresh:#?}"), "version {i}:\n{text}");
            previous = Some(LoweredVersion { text: (*text).into(), ir, layout });
        }
    }

    const APP: &str = "import boto3\nfrom chalice import Chalice\n\napp = Chalice(app_name='x')  # ✓ コメント\nddb = boto3.resource('dynamodb')\n\n\n@app.route('/a')\ndef a():\n    t = ddb.Table('t')\n    return t.scan()\n\n\nclass Repo:\n    def __init__(self):\n        self.s3 = boto3.client('s3')\n\n    def get(self, key):\n        f = lambda k: self.s3.get_object(Bucket='b', Key=k)\n        return f(key)\n\n\ndef b():\n    def inner():\n        return ddb.Table('u').query()\n    return inner()\n";

    #[test]
    fn edited_versions_lower_as_fresh_ones() {
        let renamed = APP.replace("t = ddb", "tt = ddb");
        let grown = APP.replace("def a():\n", "def a():\n    x = 1\n    y = [i for i in range(3)]\n");
        let moved = format!("# header\n\n{}", APP.replace("class Repo:", "class Repository:"));
        let duplicated = format!("{APP}\n\ndef b():\n    def inner():\n        return ddb.Table('u').query()\n    return inner()\n");
        let crlf = APP.replace('\n', "\r\n");
        check_versions(&[APP, &renamed, APP, &grown, &moved, &duplicated, APP, &crlf, "", APP]);
    }

    #[test]
    fn broken_versions_lower_as_fresh_ones() {
        let colon = APP.replace("def a():", "def a(:");
        let bracket = APP.replace("t = ddb.Table('t')", "t = ddb.Table('t'");
        let class = APP.replace("class Repo:", "class Repo(:");
        let dangling = format!("{APP}\nx = (\n");
        check_versions(&[APP, &colon, APP, &colon, &colon, &bracket, &class, APP, &dangling, &bracket, APP]);
    }

    /// The last line is an expression statement in the first version and,
    /// after the edit above it, a bare call among the pieces of a region
    /// tree-sitter recovered from an error: the same text, another kind of
    /// node (found by the protocol fuzzer).
    #[test]
    fn a_statement_read_as_another_kind_is_lowered_again() {
        let before = "import boto3\nfrom chalice import Chalice\n\napp''' =😀 Chalice(app_name='links')\ns3 = boto3.resource('s3')\n('''\n@app.route('/xform')\ndef form():\n    return s3.meta.cli\r\nent.g(enerate_presigned_post(\n Fields={'acl': 'private'},\n        Conditions=[{'acl': 'private'content-length-range', 0, 1048576]],\n    )\nboto3.client('s3').list_buckets()\n";
        let after = "import boto3\nfrom chalice import Chalice\n\napp''' =😀 Chalice(app_name='links')\ns3 = boto3.resource('s3')\n('''\n@app.route(('/xform')\ndef form():\n    return s3.meta.cliboto3.client('s3').list_buckets()\n\r\nent.g(enerate_presigned_post(\n Fields={'acl': 'private'},\n        Conditions=[{'acl': 'private'content-length-range', 0, 1048576]],\n    )\nboto3.client('s3').list_buckets()\n";
        check_versions(&[before, after, before]);
    }

    /// Keystrokes anywhere in the corpus's files (inside a body, between
    /// statements, at a statement's first or last byte, breaking the syntax
    /// and mending it), each version lowered from the last: the same IR as
    /// lowering it afresh, and a third of the versions or more spliced (some
    /// of the corpus is broken Python, which is not).
    #[test]
    fn keystrokes_lower_as_fresh_versions() {
        let mut rng = crate::lsp::test_support::Rng::new(17);
        let texts: Vec<String> = crate::lsp::edit_fuzz::corpus_python_texts().into_iter().filter(|text| !text.is_empty()).collect();
        let before = SPLICED.with(std::cell::Cell::get);
        let mut versions = 0;
        for text in &texts {
            let mut versions_of_text = vec![text.clone()];
            let mut current = text.clone();
            for _ in 0..12 {
                let mut at = rng.below(current.len() + 1);
                while !current.is_char_boundary(at) {
                    at -= 1;
                }
                let word_end = |t: &str, i: usize| {
                    t[..i].chars().next_back().is_some_and(|c| c.is_alphanumeric() || c == '_') && !t[i..].chars().next().is_some_and(|c| c.is_alphanumeric() || c == '_')
                };
                match rng.below(5) {
                    // A name's last letter typed over: a text of the same length.
                    0 => {
                        if let Some(i) = (at..=current.len()).find(|&i| current.is_char_boundary(i) && word_end(&current, i) && current.as_bytes()[i - 1].is_ascii_alphabetic()) {
                            let other = if current.as_bytes()[i - 1] == b'q' { "z" } else { "q" };
                            current.replace_range(i - 1..i, other);
                        }
                    }
                    // A name typed longer, where one ends (the syntax holds).
                    1 => {
                        if let Some(i) = (at..=current.len()).find(|&i| current.is_char_boundary(i) && word_end(&current, i)) {
                            current.insert(i, 'x');
                        }
                    }
                    // Anything typed anywhere, then taken back.
                    2 => {
                        let edited = format!("{}{}{}", &current[..at], ["(", ":", "\n", "def f():\n    pass\n", "# é\n", "'"][rng.below(6)], &current[at..]);
                        versions_of_text.push(edited);
                    }
                    // A line break at the end of a line.
                    _ => {
                        if let Some(i) = current[at..].find('\n') {
                            current.insert(at + i, '\n');
                        }
                    }
                }
                versions_of_text.push(current.clone());
            }
            versions += versions_of_text.len();
            check_versions(&versions_of_text.iter().map(String::as_str).collect::<Vec<_>>());
        }
        let spliced = SPLICED.with(std::cell::Cell::get) - before;
        assert!(versions > 300 && spliced * 3 > versions, "{spliced} of {versions} versions spliced");
    }
}
