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

/// Parses a whole file. tree-sitter always returns a tree (with ERROR nodes
/// for broken code) unless cancelled, which we never do.
pub fn parse(text: &str, old: Option<&Tree>) -> Tree {
    thread_local! {
        static PARSER: std::cell::RefCell<Option<Parser>> = const { std::cell::RefCell::new(None) };
    }
    PARSER.with(|p| {
        let mut p = p.borrow_mut();
        let parser = p.get_or_insert_with(|| parser().expect("grammar ABI is checked at start-up"));
        parser.parse(text, old).expect("parsing without a timeout or cancellation flag always yields a tree")
    })
}

#[cfg(test)]
mod tests {
    #[test]
    fn grammar_abi_is_compatible() {
        super::parser().unwrap();
    }
}
