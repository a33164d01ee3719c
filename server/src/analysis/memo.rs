//! Lowering an edited file without lowering it all again: the IR of each
//! top-level statement is kept by the statement's text, and the next
//! version of the file lowers only the statements whose text changed. The
//! others are copied into place: their offsets moved by as much as the text
//! before them grew or shrank, their function and class ids by the number
//! of functions and classes defined before them.
//!
//! Lowering a top-level statement depends on nothing outside it (no
//! enclosing scope, no nesting depth), so the result equals what
//! [`super::ir::lower`] makes of the whole file (tested below).

use rustc_hash::FxHashMap;
use tree_sitter::Node;

use super::facts::TextRange;
use super::ir::{self, Arg, ClassIr, Expr, ExprKind, FunctionIr, ModuleIr, Param, Stmt, Target};

/// The IR of one version of a file, by top-level statement text, for
/// lowering the next version.
#[derive(Default)]
pub struct LoweringMemo {
    statements: FxHashMap<Box<str>, LoweredStatement>,
}

struct LoweredStatement {
    /// Where the statement started when it was lowered.
    start: usize,
    ir: ModuleIr,
}

/// [`ir::lower`] of `root`, reusing from `memo` the IR of top-level
/// statements whose text is unchanged, and the memo for the next version.
/// A tree with syntax errors is lowered whole (its broken regions are
/// parsed again block by block), and leaves `memo` as it was.
pub fn lower_with_memo(root: Node, text: &str, memo: LoweringMemo) -> (ModuleIr, LoweringMemo) {
    if root.has_error() {
        return (ir::lower(root, text), memo);
    }
    let mut old = memo.statements;
    let mut new = FxHashMap::default();
    let mut module = ModuleIr::default();
    let mut cursor = root.walk();
    for statement in root.named_children(&mut cursor) {
        let source = &text[statement.byte_range()];
        let start = statement.start_byte();
        // Each kept statement is used once: a second statement with the
        // same text is lowered on its own.
        let (source, lowered) = match old.remove_entry(source) {
            Some(kept) => kept,
            None => (source.into(), LoweredStatement { start, ir: ir::lower_top_level_statement(statement, text) }),
        };
        let place = Placement {
            bytes: start as isize - lowered.start as isize,
            functions: module.functions.len(),
            classes: module.classes.len(),
        };
        module.body.extend(lowered.ir.body.iter().map(|s| place.stmt(s)));
        module.functions.extend(lowered.ir.functions.iter().map(|f| place.function(f)));
        module.classes.extend(lowered.ir.classes.iter().map(|c| place.class(c)));
        new.insert(source, lowered);
    }
    (module, LoweringMemo { statements: new })
}

/// Where a statement's IR goes: `bytes` further in the text, after
/// `functions` functions and `classes` classes.
#[derive(Clone, Copy)]
struct Placement {
    bytes: isize,
    functions: usize,
    classes: usize,
}

impl Placement {
    fn range(self, r: TextRange) -> TextRange {
        TextRange::new(r.start.saturating_add_signed(self.bytes), r.end.saturating_add_signed(self.bytes))
    }

    fn stmts(self, stmts: &[Stmt]) -> Vec<Stmt> {
        stmts.iter().map(|s| self.stmt(s)).collect()
    }

    fn exprs(self, exprs: &[Expr]) -> Vec<Expr> {
        exprs.iter().map(|e| self.expr(e)).collect()
    }

    fn stmt(self, s: &Stmt) -> Stmt {
        match s {
            Stmt::Assign { targets, value } => Stmt::Assign { targets: targets.iter().map(|t| self.target(t)).collect(), value: self.expr(value) },
            Stmt::Expr(e) => Stmt::Expr(self.expr(e)),
            Stmt::Return(e) => Stmt::Return(e.as_ref().map(|e| self.expr(e))),
            Stmt::If { test, body, orelse } => Stmt::If { test: Box::new(self.expr(test)), body: self.stmts(body), orelse: self.stmts(orelse) },
            Stmt::Loop { target, iter, body, orelse } => Stmt::Loop {
                target: target.as_ref().map(|t| Box::new(self.target(t))),
                iter: iter.as_ref().map(|e| Box::new(self.expr(e))),
                body: self.stmts(body),
                orelse: self.stmts(orelse),
            },
            Stmt::With { items, body } => Stmt::With {
                items: items.iter().map(|(e, t)| (self.expr(e), t.as_ref().map(|t| self.target(t)))).collect(),
                body: self.stmts(body),
            },
            Stmt::Blocks(blocks) => Stmt::Blocks(blocks.iter().map(|b| self.stmts(b)).collect()),
            Stmt::Global(names) => Stmt::Global(names.clone()),
            Stmt::Import { module, alias } => Stmt::Import { module: module.clone(), alias: alias.clone() },
            Stmt::ImportFrom { module, level, names, star } => {
                Stmt::ImportFrom { module: module.clone(), level: *level, names: names.clone(), star: *star }
            }
            Stmt::Def(f) => Stmt::Def(f + self.functions),
            Stmt::Class(c) => Stmt::Class(c + self.classes),
        }
    }

    fn target(self, t: &Target) -> Target {
        match t {
            Target::Name(n) => Target::Name(n.clone()),
            Target::Attr(e, name) => Target::Attr(self.expr(e), name.clone()),
            Target::Tuple(ts) => Target::Tuple(ts.iter().map(|t| self.target(t)).collect()),
            Target::Star(t) => Target::Star(Box::new(self.target(t))),
            Target::Other(e) => Target::Other(self.expr(e)),
        }
    }

    fn expr(self, e: &Expr) -> Expr {
        let kind = match &e.kind {
            ExprKind::Name(n) => ExprKind::Name(n.clone()),
            ExprKind::Attr(obj, name) => ExprKind::Attr(Box::new(self.expr(obj)), name.clone()),
            ExprKind::Call { func, args } => ExprKind::Call { func: Box::new(self.expr(func)), args: args.iter().map(|a| self.arg(a)).collect() },
            ExprKind::Str(s) => ExprKind::Str(s.clone()),
            ExprKind::Seq(items) => ExprKind::Seq(self.exprs(items)),
            ExprKind::Dict(items) => ExprKind::Dict(items.iter().map(|(k, v)| (k.as_ref().map(|k| self.expr(k)), self.expr(v))).collect()),
            ExprKind::Subscript(obj, index) => ExprKind::Subscript(Box::new(self.expr(obj)), Box::new(self.expr(index))),
            ExprKind::Comprehension { generators, elts } => ExprKind::Comprehension {
                generators: generators.iter().map(|(t, iter, ifs)| (self.target(t), self.expr(iter), self.exprs(ifs))).collect(),
                elts: elts.iter().map(|e| self.expr(e)).collect(),
            },
            ExprKind::Lambda(f) => ExprKind::Lambda(f + self.functions),
            ExprKind::Alternatives(items) => ExprKind::Alternatives(self.exprs(items)),
            ExprKind::Walrus(name, value) => ExprKind::Walrus(name.clone(), Box::new(self.expr(value))),
            ExprKind::None => ExprKind::None,
            ExprKind::False => ExprKind::False,
            ExprKind::Other(items) => ExprKind::Other(self.exprs(items)),
        };
        Expr { kind, range: self.range(e.range) }
    }

    fn arg(self, a: &Arg) -> Arg {
        match a {
            Arg::Positional(e) => Arg::Positional(self.expr(e)),
            Arg::Keyword(name, e) => Arg::Keyword(name.clone(), self.expr(e)),
            Arg::Star(e) => Arg::Star(self.expr(e)),
            Arg::StarStar(e) => Arg::StarStar(self.expr(e)),
        }
    }

    fn function(self, f: &FunctionIr) -> FunctionIr {
        FunctionIr {
            name: f.name.clone(),
            qualname: f.qualname.clone(),
            class: f.class.map(|c| c + self.classes),
            params: f.params.iter().map(|p| Param { name: p.name.clone(), default: p.default.as_ref().map(|d| self.expr(d)), kind: p.kind }).collect(),
            body: self.stmts(&f.body),
            decorators: self.exprs(&f.decorators),
            range: self.range(f.range),
            name_range: self.range(f.name_range),
            is_property: f.is_property,
            is_static: f.is_static,
            is_classmethod: f.is_classmethod,
            is_lambda: f.is_lambda,
            parent: f.parent.map(|p| p + self.functions),
        }
    }

    fn class(self, c: &ClassIr) -> ClassIr {
        ClassIr {
            name: c.name.clone(),
            qualname: c.qualname.clone(),
            body: self.stmts(&c.body),
            methods: c.methods.iter().map(|m| m + self.functions).collect(),
            range: self.range(c.range),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Lowers each version of a file in turn with the memo the previous one
    /// left, and requires the same IR as lowering each afresh.
    fn check_versions(versions: &[&str]) {
        let mut memo = LoweringMemo::default();
        for (i, text) in versions.iter().enumerate() {
            let tree = crate::python::parse(text, None);
            let (ir, next) = lower_with_memo(tree.root_node(), text, memo);
            memo = next;
            let fresh = ir::lower(tree.root_node(), text);
            assert_eq!(format!("{ir:#?}"), format!("{fresh:#?}"), "version {i}:\n{text}");
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
    fn a_broken_version_keeps_the_memo_for_the_next() {
        let broken = APP.replace("def a():", "def a(:");
        check_versions(&[APP, &broken, APP, &broken, &broken]);
    }
}
