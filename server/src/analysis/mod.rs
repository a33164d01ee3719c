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
    let (names, packages) = module_names(inputs.iter().map(|i| i.rel_path));
    let (empty, no_text) = (ModuleIr::default(), Arc::from(""));
    let mut sources: Vec<eval::ModuleSource<'_>> = inputs
        .iter()
        .zip(&names)
        .map(|(i, (n, pkg))| eval::ModuleSource { name: n, is_package: *pkg, ir: i.ir, text: i.text })
        .collect();
    sources.extend(packages.iter().map(|pkg| eval::ModuleSource { name: pkg, is_package: true, ir: &empty, text: &no_text }));
    let mut result = evaluate(&sources);
    result.files.truncate(inputs.len());
    result
}

/// [`analyze`] of a project whose files are still being read, each
/// evaluated as soon as it is (see `eval::evaluate_arriving`): `rel_paths`
/// are the inputs' paths, in input order, and `arrive(i)` waits until input
/// `i` is read and lowered and returns its IR and text, or `None` when it
/// could not be read (the analysis is then given up: the modules are not
/// those named). The facts are [`analyze`]'s.
pub fn analyze_arriving<'a>(rel_paths: &[&str], mut arrive: impl FnMut(usize) -> Option<(&'a ModuleIr, &'a Arc<str>)>) -> Option<ProjectFacts> {
    let (names, packages) = module_names(rel_paths.iter().copied());
    let (empty, no_text) = (ModuleIr::default(), Arc::from(""));
    let named: Vec<eval::ModuleSource<'_>> = names
        .iter()
        .map(|(n, pkg)| (n, *pkg))
        .chain(packages.iter().map(|pkg| (pkg, true)))
        .map(|(name, is_package)| eval::ModuleSource { name, is_package, ir: &empty, text: &no_text })
        .collect();
    let mut facts = eval::evaluate_arriving(named.clone(), |m| match names.get(m) {
        Some(_) => arrive(m).map(|(ir, text)| eval::ModuleSource { ir, text, ..named[m].clone() }),
        // A namespace package has no file: it is there at once.
        None => Some(named[m].clone()),
    })?;
    facts.files.truncate(names.len());
    Some(facts)
}

/// Each input's module name and whether it is a package, then the
/// namespace packages above them that no input is (a `chalicelib/` without
/// `__init__.py` still exists as a module: `from chalicelib import db` must
/// find `db`).
fn module_names<'p>(rel_paths: impl Iterator<Item = &'p str>) -> (Vec<(String, bool)>, Vec<String>) {
    let names: Vec<(String, bool)> = rel_paths.map(module_name).collect();
    // Looked up by name: a tree of 10,000 modules asked a list of them for
    // each of their packages.
    let known: std::collections::HashSet<&str> = names.iter().map(|(m, _)| m.as_str()).collect();
    let mut packages: Vec<String> = Vec::new();
    for (n, _) in &names {
        let mut parts: Vec<&str> = n.split('.').collect();
        while parts.len() > 1 {
            parts.pop();
            let pkg = parts.join(".");
            if !known.contains(pkg.as_str()) && !packages.contains(&pkg) {
                packages.push(pkg);
            }
        }
    }
    (names, packages)
}

#[cfg(test)]
pub(crate) mod tests;
