//! The tree-sitter queries in `grammar-queries/python/`, compiled into the
//! binary and compiled against the grammar on first use.

use std::sync::OnceLock;

use streaming_iterator::StreamingIterator;
use tree_sitter::{Query, QueryCursor, Tree};

use crate::analysis::TextRange;

/// Every query shipped, by file name, for the compile test.
pub const QUERY_SOURCES: &[(&str, &str)] = &[
    ("handlers.scm", include_str!("../../../grammar-queries/python/handlers.scm")),
    ("imports.scm", include_str!("../../../grammar-queries/python/imports.scm")),
];

fn compiled(name: &str) -> &'static Query {
    static HANDLERS: OnceLock<Query> = OnceLock::new();
    static IMPORTS: OnceLock<Query> = OnceLock::new();
    let cell = match name {
        "handlers.scm" => &HANDLERS,
        _ => &IMPORTS,
    };
    cell.get_or_init(|| {
        let src = QUERY_SOURCES.iter().find(|(n, _)| *n == name).map(|(_, s)| *s).unwrap_or_default();
        // The queries are part of the binary and tested; failing here is a
        // build defect, not a user error.
        Query::new(&super::language(), src).unwrap_or_else(|e| panic!("grammar-queries/python/{name}: {e}"))
    })
}

/// A function registered by a decorator call on some object
/// (`@app.route(...)`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DecoratedHandler {
    /// The decorator's attribute name: `route`, `on_sqs_message`, ...
    pub kind: String,
    /// The object it is called on: `app`, `bp`.
    pub object: String,
    pub name: String,
    /// The whole decorated definition.
    pub range: TextRange,
    pub name_range: TextRange,
}

/// Decorated module-level functions (nested ones are not handlers).
pub fn decorated_handlers(tree: &Tree, text: &str) -> Vec<DecoratedHandler> {
    let q = compiled("handlers.scm");
    let idx = |n: &str| q.capture_index_for_name(n).expect("capture defined in handlers.scm");
    let (i_obj, i_kind, i_name, i_handler) = (idx("decorator.object"), idx("decorator.kind"), idx("handler.name"), idx("handler"));
    let mut cursor = QueryCursor::new();
    let mut matches = cursor.matches(q, tree.root_node(), text.as_bytes());
    let mut out = Vec::new();
    while let Some(m) = matches.next() {
        let get = |i| m.captures().iter().find(|c| c.index == i).map(|c| c.node);
        let (Some(obj), Some(kind), Some(name), Some(handler)) = (get(i_obj), get(i_kind), get(i_name), get(i_handler)) else { continue };
        if handler.parent().is_some_and(|p| p.kind() != "module") {
            continue;
        }
        let src = |n: tree_sitter::Node| text.get(n.byte_range()).unwrap_or("").to_string();
        out.push(DecoratedHandler {
            kind: src(kind),
            object: src(obj),
            name: src(name),
            range: TextRange::new(handler.start_byte(), handler.end_byte()),
            name_range: TextRange::new(name.start_byte(), name.end_byte()),
        });
    }
    out
}

/// Module names imported by a file, as written (`chalicelib.db`, `.db`).
pub fn imported_modules(tree: &Tree, text: &str) -> Vec<String> {
    let q = compiled("imports.scm");
    let mut cursor = QueryCursor::new();
    let mut captures = cursor.captures(q, tree.root_node(), text.as_bytes());
    let mut out = Vec::new();
    while let Some((m, i)) = captures.next() {
        let node = m.captures()[*i].node;
        if let Some(s) = text.get(node.byte_range()) {
            out.push(s.to_string());
        }
    }
    out.sort();
    out.dedup();
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_query_compiles_against_the_grammar() {
        for (name, src) in QUERY_SOURCES {
            Query::new(&crate::python::language(), src).unwrap_or_else(|e| panic!("{name}: {e}"));
        }
    }

    #[test]
    fn finds_handlers_and_imports() {
        let text = "import boto3, os.path as p\nfrom chalicelib.db import t\nfrom . import x\n@app.route('/')\n@other\ndef index():\n    @bp.route('/x')\n    def inner(): pass\n@bp.on_sqs_message(queue='q')\ndef q(event): pass\n";
        let tree = crate::python::parse(text, None);
        let hs: Vec<(String, String, String)> = decorated_handlers(&tree, text).into_iter().map(|h| (h.object, h.kind, h.name)).collect();
        assert_eq!(hs, [("app".into(), "route".into(), "index".into()), ("bp".into(), "on_sqs_message".into(), "q".into())]);
        assert_eq!(imported_modules(&tree, text), [".", "boto3", "chalicelib.db", "os.path"]);
    }
}
