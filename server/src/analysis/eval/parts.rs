//! Evaluating a project as groups of modules that cannot reach each other.
//!
//! Modules exchange values only through imports: a module's names, its
//! functions and its classes reach another module when one imports the
//! other (or a package or submodule of it). Modules linked by no chain of
//! imports share no summary, so the rounds of one group compute the same
//! whether the others run beside them or not, and each group can be
//! evaluated on its own, on every core. A large tree of independent
//! modules (the 1,000,000-line benchmark has 10,000 that import nothing of
//! each other) then takes half the time on two cores.

use std::collections::BTreeMap;

use rayon::prelude::*;

use super::{evaluate, FnKey, ModuleSource, ProjectFacts};
use crate::analysis::ir::{ModuleIr, Stmt};

/// [`evaluate`] of each group of modules linked by imports, side by side;
/// the facts are those of one evaluation of all the modules.
pub fn evaluate_in_parts(modules: &[ModuleSource<'_>]) -> ProjectFacts {
    let groups = linked_groups(modules);
    if groups.len() < 2 {
        return evaluate(modules);
    }
    let evaluated: Vec<(Vec<usize>, ProjectFacts)> = groups
        .into_par_iter()
        .map(|group| {
            let part: Vec<ModuleSource<'_>> = group.iter().map(|&m| modules[m].clone()).collect();
            let facts = evaluate(&part);
            (group, facts)
        })
        .collect();
    let mut files = vec![None; modules.len()];
    let mut call_graph: BTreeMap<FnKey, std::collections::BTreeSet<FnKey>> = BTreeMap::new();
    for (group, facts) in evaluated {
        for (local, file) in facts.files.into_iter().enumerate() {
            files[group[local]] = Some(file);
        }
        for ((m, function), callees) in facts.call_graph {
            let callees = callees.into_iter().map(|(c, callee)| (group[c], callee));
            call_graph.entry((group[m], function)).or_default().extend(callees);
        }
    }
    ProjectFacts { files: files.into_iter().map(|f| f.expect("every module is in one group")).collect(), call_graph }
}

/// The modules in groups linked by imports, each group in module order, the
/// groups in the order of their first module. An import links the
/// importing module with the module it names, with every package above that
/// one and with every module below it (an attribute of a module may be a
/// submodule); a relative import that climbs above the top links it with
/// every module.
fn linked_groups(modules: &[ModuleSource<'_>]) -> Vec<Vec<usize>> {
    let mut by_name: Vec<(&str, usize)> = modules.iter().enumerate().map(|(i, m)| (m.name, i)).collect();
    by_name.sort_unstable();
    let mut links = Links::new(modules.len());
    for (m, module) in modules.iter().enumerate() {
        for_each_import(module.ir, &mut |target, level| {
            let Some(base) = import_base(module, target, level) else {
                (0..modules.len()).for_each(|other| links.join(m, other));
                return;
            };
            // The module itself and the packages above it.
            let mut prefix = base.as_str();
            loop {
                if let Ok(at) = by_name.binary_search_by(|(name, _)| name.cmp(&prefix)) {
                    links.join(m, by_name[at].1);
                }
                match prefix.rsplit_once('.') {
                    Some((parent, _)) => prefix = parent,
                    None => break,
                }
            }
            // The modules below it: names from `base.` up to `base/`
            // ('/' sorts right after '.').
            let (below, past) = (format!("{base}."), format!("{base}/"));
            let start = by_name.partition_point(|(name, _)| *name < below.as_str());
            let end = by_name.partition_point(|(name, _)| *name < past.as_str());
            for &(_, other) in &by_name[start..end] {
                links.join(m, other);
            }
        });
    }
    let mut groups: BTreeMap<usize, Vec<usize>> = BTreeMap::new();
    let mut first_of_root: Vec<Option<usize>> = vec![None; modules.len()];
    for m in 0..modules.len() {
        let root = links.root(m);
        let first = *first_of_root[root].get_or_insert(m);
        groups.entry(first).or_default().push(m);
    }
    groups.into_values().collect()
}

/// The dotted name an import's module resolves against, as the evaluator
/// resolves it (`import_from`); `None` when a relative import climbs above
/// the top.
fn import_base(module: &ModuleSource<'_>, target: &str, level: usize) -> Option<String> {
    if level == 0 {
        return Some(target.to_string());
    }
    let mut parts: Vec<&str> = module.name.split('.').collect();
    let drop = if module.is_package { level - 1 } else { level };
    if drop > parts.len() {
        return None;
    }
    parts.truncate(parts.len() - drop);
    let mut base = parts.join(".");
    if !target.is_empty() {
        if !base.is_empty() {
            base.push('.');
        }
        base.push_str(target);
    }
    // `from . import x` at the top names no module: anything may be meant.
    (!base.is_empty()).then_some(base)
}

/// Every import statement of a module, wherever it is (functions, classes,
/// blocks): its module and its level.
fn for_each_import(ir: &ModuleIr, each: &mut impl FnMut(&str, usize)) {
    fn walk(stmts: &[Stmt], each: &mut impl FnMut(&str, usize)) {
        for s in stmts {
            match s {
                Stmt::Import { module, .. } => each(module, 0),
                Stmt::ImportFrom { module, level, .. } => each(module, *level),
                Stmt::If { body, orelse, .. } | Stmt::Loop { body, orelse, .. } => {
                    walk(body, each);
                    walk(orelse, each);
                }
                Stmt::With { body, .. } => walk(body, each),
                Stmt::Blocks(blocks) => blocks.iter().for_each(|b| walk(b, each)),
                Stmt::Assign { .. } | Stmt::Expr(_) | Stmt::Return(_) | Stmt::Global(_) | Stmt::Def(_) | Stmt::Class(_) => {}
            }
        }
    }
    walk(&ir.body, each);
    ir.functions.iter().for_each(|f| walk(&f.body, each));
    ir.classes.iter().for_each(|c| walk(&c.body, each));
}

/// Union-find over module indices.
struct Links(Vec<usize>);

impl Links {
    fn new(n: usize) -> Self {
        Links((0..n).collect())
    }

    fn root(&mut self, mut m: usize) -> usize {
        while self.0[m] != m {
            self.0[m] = self.0[self.0[m]];
            m = self.0[m];
        }
        m
    }

    fn join(&mut self, a: usize, b: usize) {
        let (a, b) = (self.root(a), self.root(b));
        if a != b {
            self.0[a.max(b)] = a.min(b);
        }
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use super::*;
    use crate::analysis::{analyze_with, lower_text, ModuleInput};

    /// `files` (path, text) evaluated whole and in groups.
    fn both(files: &[(String, String)]) -> (ProjectFacts, ProjectFacts, usize) {
        let irs: Vec<(String, ModuleIr, Arc<str>)> =
            files.iter().filter(|(rel, _)| rel.ends_with(".py")).map(|(rel, text)| (rel.clone(), lower_text(text), Arc::from(text.as_str()))).collect();
        let inputs: Vec<ModuleInput<'_>> = irs.iter().map(|(rel, ir, text)| ModuleInput { rel_path: rel, ir, text }).collect();
        let mut groups = 0;
        let whole = analyze_with(&inputs, evaluate);
        let parts = analyze_with(&inputs, |modules| {
            groups = linked_groups(modules).len();
            evaluate_in_parts(modules)
        });
        (whole, parts, groups)
    }

    /// Every project of the corpus (the examples and the analysis
    /// fixtures, whose chalicelib modules import each other in every
    /// style): the same facts evaluated whole and in groups; and all of them
    /// in one project, each under a package name of its own, so that they
    /// fall into many groups.
    #[test]
    fn groups_evaluate_as_the_whole_project_does() {
        let cases = crate::lsp::edit_fuzz::corpus();
        let mut merged = Vec::new();
        for (k, case) in cases.iter().enumerate() {
            let (whole, parts, _) = both(&case.files);
            assert_eq!(whole, parts, "{}", case.name);
            let own = |s: &str| s.replace("chalicelib", &format!("lib{k}"));
            merged.extend(case.files.iter().map(|(rel, text)| (own(rel).replace("app.py", &format!("app{k}.py")), own(text))));
        }
        let (whole, parts, groups) = both(&merged);
        assert_eq!(whole, parts);
        assert!(groups >= cases.len(), "{groups} groups for {} projects", cases.len());
    }

    /// Imports link what the evaluator can reach through them: relative
    /// ones, a package and its submodules, imports inside functions.
    #[test]
    fn imports_link_modules_and_packages() {
        let file = |rel: &str, text: &str| (rel.to_string(), text.to_string());
        let files = [
            file("app.py", "import boto3\nfrom chalicelib import db\n"),
            file("chalicelib/__init__.py", ""),
            file("chalicelib/db.py", "from .util import table\n"),
            file("chalicelib/util.py", "import boto3\ntable = boto3.resource('dynamodb').Table('t')\n"),
            file("chalicelib/alone.py", "import boto3\nboto3.client('s3').list_buckets()\n"),
            file("chalicelib/late.py", "def f():\n    import chalicelib.pkg\n    return chalicelib.pkg.inner.q\n"),
            file("chalicelib/pkg/__init__.py", ""),
            file("chalicelib/pkg/inner.py", "import boto3\nq = boto3.client('sqs')\n"),
            file("other.py", "x = 1\n"),
        ];
        let irs: Vec<(String, ModuleIr, Arc<str>)> = files.iter().map(|(rel, text)| (rel.clone(), lower_text(text), Arc::from(text.as_str()))).collect();
        let inputs: Vec<ModuleInput<'_>> = irs.iter().map(|(rel, ir, text)| ModuleInput { rel_path: rel, ir, text }).collect();
        let mut named = Vec::new();
        analyze_with(&inputs, |modules| {
            named = linked_groups(modules).into_iter().map(|g| g.into_iter().map(|m| modules[m].name.to_string()).collect::<Vec<_>>()).collect();
            evaluate(modules)
        });
        let expected: Vec<Vec<String>> = [
            vec!["app", "chalicelib", "chalicelib.db", "chalicelib.util", "chalicelib.alone", "chalicelib.late", "chalicelib.pkg", "chalicelib.pkg.inner"],
            vec!["other"],
        ]
        .into_iter()
        .map(|g| g.into_iter().map(str::to_string).collect())
        .collect();
        assert_eq!(named, expected, "`from chalicelib import db` links the package and all below it");
        let (whole, parts, _) = both(&files);
        assert_eq!(whole, parts);
    }
}
