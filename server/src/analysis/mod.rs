//! boto3 value inference over a Chalice project: which call sends which
//! AWS API operations, and so needs which IAM actions.
//!
//! Inputs are file texts (or their lowered IR); outputs are plain-data facts
//! with byte ranges. Nothing here knows LSP or output formats.
//!
//! Per file, [`lower`] turns the tree-sitter tree into a small IR (the only
//! per-keystroke work); [`analyze`] then infers values across all modules of
//! the project and produces one [`FileFacts`] per module.

mod eval;
mod facts;
mod ir;
mod memo;
mod name;
mod value;

pub use eval::{EvalState, FnKey, ProjectFacts};
pub use facts::{CallDetails, CallFact, Construct, FileFacts, Origin, TextEdit, TextRange, UnresolvedCall};
pub use crate::python::top_level_blocks;
pub use ir::ModuleIr;
pub use memo::{IrLayout, LoweredVersion};

use std::sync::Arc;

use crate::python::ParsedFile;

/// Lowers a parsed file for [`analyze`].
pub fn lower(tree: &tree_sitter::Tree, text: &str) -> ModuleIr {
    ir::lower(tree.root_node(), text)
}

/// Lowers a parsed file: whole, or in chunks.
pub fn lower_parsed(parsed: &ParsedFile, text: &str) -> ModuleIr {
    match parsed {
        ParsedFile::Tree(tree) => lower(tree, text),
        ParsedFile::Syntax(trees) => {
            let mut ir = ir::lower_syntax(trees, text);
            // A file read in chunks is a large one, read once for a command
            // or a project's first load; the vectors of a smaller one are
            // made to fit, since the language server keeps them.
            if trees.len() == 1 {
                ir.shrink();
            }
            ir
        }
    }
}

/// [`lower_parsed`] for a new version of an edited text, taking the IR of
/// its unchanged top-level statements from the `previous` version (see
/// [`memo`]); also returns the layout the version after it needs, or, for a
/// text read into a [`SyntaxTree`], `previous` back.
pub fn lower_edited(parsed: &ParsedFile, text: &str, previous: Option<LoweredVersion>) -> (ModuleIr, Result<IrLayout, Option<LoweredVersion>>) {
    match parsed {
        ParsedFile::Tree(tree) => {
            let (ir, layout) = memo::lower_with_previous(tree.root_node(), text, previous);
            (ir, Ok(layout))
        }
        ParsedFile::Syntax(_) => (lower_parsed(parsed, text), Err(previous)),
    }
}

/// Parses and lowers a file text.
pub fn lower_text(text: &str) -> ModuleIr {
    let tree = crate::python::parse(text, None);
    lower(&tree, text)
}

/// One Python file of a project, by its path relative to the project root.
pub struct ModuleInput<'a> {
    pub rel_path: &'a str,
    pub ir: &'a ModuleIr,
    /// The text `ir` was lowered from.
    pub text: &'a Arc<str>,
}

/// The dotted module name of a project file and whether it is a package
/// `__init__`: `chalicelib/db.py` → (`chalicelib.db`, false).
pub fn module_name(rel_path: &str) -> (String, bool) {
    let p = rel_path.trim_start_matches("./").replace('\\', "/");
    let stem = p.strip_suffix(".py").unwrap_or(&p);
    match stem.strip_suffix("/__init__") {
        Some(pkg) => (pkg.replace('/', "."), true),
        None => (stem.replace('/', "."), false),
    }
}

/// Analyses every module of a project together (imports between them are
/// followed). The result has one [`FileFacts`] per input, in input order.
pub fn analyze(inputs: &[ModuleInput<'_>]) -> ProjectFacts {
    analyze_with(inputs, eval::evaluate_in_parts)
}

/// [`analyze`] for the next version of a project the language server
/// analysed before: `previous` is what that analysis returned. After an edit
/// inside one function's body, often only that function is evaluated again
/// (see `eval::again`); the result is always what [`analyze`] gives.
pub fn analyze_again(inputs: &[ModuleInput<'_>], previous: Option<(EvalState, ProjectFacts)>) -> (ProjectFacts, EvalState) {
    let mut state = None;
    let facts = analyze_with(inputs, |sources| {
        let (facts, next) = eval::evaluate_again(sources, previous);
        state = Some(next);
        facts
    });
    (facts, state.expect("the evaluation ran"))
}

fn analyze_with(inputs: &[ModuleInput<'_>], evaluate: impl FnOnce(&[eval::ModuleSource<'_>]) -> ProjectFacts) -> ProjectFacts {
    let names: Vec<(String, bool)> = inputs.iter().map(|i| module_name(i.rel_path)).collect();
    // Namespace packages (a `chalicelib/` without `__init__.py`) still
    // exist as modules: `from chalicelib import db` must find `db`.
    let empty = ModuleIr::default();
    let no_text: Arc<str> = Arc::from("");
    // Looked up by name: a tree of 10,000 modules asked a list of them for
    // each of their packages.
    let known: std::collections::HashSet<&str> = names.iter().map(|(m, _)| m.as_str()).collect();
    let mut extra: Vec<String> = Vec::new();
    for (n, _) in &names {
        let mut parts: Vec<&str> = n.split('.').collect();
        while parts.len() > 1 {
            parts.pop();
            let pkg = parts.join(".");
            if !known.contains(pkg.as_str()) && !extra.contains(&pkg) {
                extra.push(pkg);
            }
        }
    }
    let mut sources: Vec<eval::ModuleSource<'_>> = inputs
        .iter()
        .zip(&names)
        .map(|(i, (n, pkg))| eval::ModuleSource { name: n, is_package: *pkg, ir: i.ir, text: i.text })
        .collect();
    for pkg in &extra {
        sources.push(eval::ModuleSource { name: pkg, is_package: true, ir: &empty, text: &no_text });
    }
    let mut result = evaluate(&sources);
    result.files.truncate(inputs.len());
    result
}

#[cfg(test)]
pub(crate) mod tests;
