//! Python source handling: the tree-sitter grammar, the compiled `.scm`
//! queries from `grammar-queries/python/`, and parsing.

pub mod queries;

use tree_sitter::{Language, Parser, Tree};

/// The tree-sitter Python grammar.
pub fn language() -> Language {
    tree_sitter_python::LANGUAGE.into()
}

/// A parser set to the Python grammar. Fails with a clear message when the
/// grammar's ABI does not match the tree-sitter runtime (a mismatch compiles
/// fine and only shows up here).
pub fn parser() -> Result<Parser, String> {
    let lang = language();
    let mut parser = Parser::new();
    parser.set_language(&lang).map_err(|e| {
        format!(
            "tree-sitter-python grammar ABI {} is not supported by this tree-sitter runtime \
             (accepts {}..={}): {e}",
            lang.abi_version(),
            tree_sitter::MIN_COMPATIBLE_LANGUAGE_VERSION,
            tree_sitter::LANGUAGE_VERSION
        )
    })?;
    Ok(parser)
}

thread_local! {
    static PARSER: std::cell::RefCell<Option<Parser>> = const { std::cell::RefCell::new(None) };
}

fn with_parser<R>(f: impl FnOnce(&mut Parser) -> R) -> R {
    PARSER.with(|p| {
        let mut p = p.borrow_mut();
        let parser = p.get_or_insert_with(|| parser().expect("grammar ABI is checked at start-up"));
        f(parser)
    })
}

/// Parses a whole file. tree-sitter always returns a tree (with ERROR nodes
/// for broken code) unless cancelled, which we never do.
pub fn parse(text: &str, old: Option<&Tree>) -> Tree {
    with_parser(|parser| parser.parse(text, old).expect("parsing without a timeout or cancellation flag always yields a tree"))
}

/// Byte offsets of line starts, for turning offsets into tree-sitter
/// points without rescanning the text each time.
pub struct LineStarts(Vec<usize>);

impl LineStarts {
    pub fn new(text: &str) -> Self {
        let mut v = vec![0];
        v.extend(text.match_indices('\n').map(|(i, _)| i + 1));
        LineStarts(v)
    }

    pub fn point(&self, offset: usize) -> tree_sitter::Point {
        let row = self.0.partition_point(|&s| s <= offset) - 1;
        tree_sitter::Point { row, column: offset - self.0[row] }
    }
}

/// Parses only `text[start..end]`, keeping the file's byte offsets in the
/// tree's nodes. Used to re-read the top-level blocks of a region that
/// tree-sitter's error recovery swallowed whole (an unclosed parenthesis
/// in one function must not hide the functions after it).
pub fn parse_range(text: &str, lines: &LineStarts, start: usize, end: usize) -> Tree {
    let range = tree_sitter::Range { start_byte: start, end_byte: end, start_point: lines.point(start), end_point: lines.point(end) };
    with_parser(|parser| {
        let tree = match parser.set_included_ranges(&[range]) {
            Ok(()) => parser.parse(text, None),
            Err(_) => None,
        };
        // Back to whole-file parsing for the next caller.
        let _ = parser.set_included_ranges(&[]);
        tree.unwrap_or_else(|| parser.parse("", None).expect("an empty text always parses"))
    })
}

#[cfg(test)]
mod tests {
    #[test]
    fn grammar_abi_is_compatible() {
        super::parser().unwrap();
    }
}
