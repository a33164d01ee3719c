//! Evaluating a project again after an edit, running only the function
//! whose body the edit is in, when that gives what evaluating everything
//! again would.
//!
//! The evaluation is a least fixpoint: summaries start empty and grow while
//! units run. Say the edit is inside the body of function `f` of one module
//! and changes the IR of `f` alone (and of functions nested in it), every
//! other unit's IR staying the same but for its offsets. Let `S` be the
//! summaries the previous evaluation ended with.
//!
//! - If `f`'s old run, with `S`, put nothing into any summary, it put nothing
//!   into them with any smaller summaries either (a run only reads them, and
//!   more values in never mean fewer out), so `S` is also the fixpoint of
//!   the other units alone.
//! - If the new `f`, run with `S`, puts nothing into any summary either, the
//!   fixpoint of the other units with the new `f` is again `S`: every other
//!   unit's run, and so its facts, stays what it was.
//!
//! So only the new `f` runs, with `S`, and the other units' facts move by the
//! length the edit added. "Nothing" is strict: no value and no new name put
//! anywhere, and no value set that was full and dropped a value (a full set
//! is where more in can mean something else out). The blank lines right
//! after a body count as the body's (a new last line is typed there).
//! Everything else (an edit outside any function body, several files
//! changed, a function that returns a client, a change in which functions
//! and classes exist, syntax errors) evaluates the whole project again, and
//! so does the first edit in a module: the state keeps the units' runs only
//! for the module last edited. `analysis::tests::again` and the language
//! server's edit fuzzer compare the result with a fresh evaluation.

use std::sync::Arc;

use super::{encloses, Evaluator, ModuleSource, ProjectFacts, Reruns, Summaries, Unit, UnitRun};
use crate::analysis::facts::{CallFact, TextEdit, TextRange, UnresolvedCall};
use crate::analysis::ir::{ClassId, FuncId, ParamKind};
use crate::analysis::name::Name;

/// What one evaluation leaves for the next (see [`evaluate_again`]).
pub struct EvalState {
    pub(super) sums: Summaries,
    pub(super) stamps: Vec<u64>,
    pub(super) clock: u64,
    /// The units' last runs, of the module `edited` only.
    pub(super) units: Vec<Vec<UnitRun>>,
    pub(super) encloses: Vec<Vec<bool>>,
    pub(super) converged: bool,
    pub(super) modules: Vec<ModuleShape>,
    /// The module last edited: the only one whose units keep their facts
    /// and call edges, and whose outline is kept (an edit is usually followed
    /// by more in the same file; one in another evaluates everything once).
    pub(super) edited: Option<usize>,
    /// Whether the evaluation that left this state ran only an edited
    /// function.
    pub(super) ran_edited_function_only: bool,
    /// Whether that function's new run found what its last one did, moved
    /// with the text (and so the whole project's facts are the last ones,
    /// moved): see [`EvalState::facts_moved_only`].
    pub(super) facts_moved_only: bool,
}

impl EvalState {
    /// Whether the evaluation that left this state ran only the function
    /// an edit was in (or nothing, when no module changed).
    pub fn ran_edited_function_only(&self) -> bool {
        self.ran_edited_function_only
    }

    /// Whether the facts of the evaluation that left this state are those
    /// of the one before, every range moved by the edit between the two
    /// versions of the module edited ([`TextEdit::map`]), and nothing else
    /// changed: the edit left every unit's calls, unresolved calls and call
    /// edges as they were. Also true when no module changed.
    pub fn facts_moved_only(&self) -> bool {
        self.facts_moved_only
    }
}

/// What the state knew of a module: its text, and for the module last
/// edited its outline.
pub(super) struct ModuleShape {
    name: String,
    is_package: bool,
    text: Arc<str>,
    outline: Option<Outline>,
}

/// Where a module's functions and classes were and what they took.
struct Outline {
    clean: bool,
    statements: usize,
    functions: Vec<FunctionShape>,
    classes: Vec<ClassShape>,
}

struct FunctionShape {
    qualname: Name,
    parent: Option<FuncId>,
    class: Option<ClassId>,
    /// Each parameter's name and kind, and whether it has a default.
    params: Vec<(Name, ParamKind, bool)>,
    flags: [bool; 4],
    range: TextRange,
    body_range: TextRange,
}

struct ClassShape {
    qualname: Name,
    methods: Vec<FuncId>,
    statements: usize,
    range: TextRange,
}

impl ModuleShape {
    fn of(m: &ModuleSource<'_>, with_outline: bool) -> ModuleShape {
        ModuleShape { name: m.name.to_string(), is_package: m.is_package, text: m.text.clone(), outline: with_outline.then(|| Outline::of(m)) }
    }
}

impl Outline {
    fn of(m: &ModuleSource<'_>) -> Outline {
        Outline {
            clean: m.ir.syntax_errors.is_empty(),
            statements: m.ir.body.len(),
            functions: m
                .ir
                .functions
                .iter()
                .map(|f| FunctionShape {
                    qualname: f.qualname.clone(),
                    parent: f.parent,
                    class: f.class,
                    params: f.params.iter().map(|p| (p.name.clone(), p.kind, p.default.is_some())).collect(),
                    flags: [f.is_property, f.is_static, f.is_classmethod, f.is_lambda],
                    range: f.range,
                    body_range: f.body_range,
                })
                .collect(),
            classes: m
                .ir
                .classes
                .iter()
                .map(|c| ClassShape { qualname: c.qualname.clone(), methods: c.methods.clone(), statements: c.body.len(), range: c.range })
                .collect(),
        }
    }
}

/// Evaluates `modules`, running only what an edit since `previous` (the
/// state and facts of the last evaluation) changed when that is enough (see
/// the module documentation), and leaves the state for the next time.
pub fn evaluate_again(modules: &[ModuleSource<'_>], previous: Option<(EvalState, ProjectFacts)>) -> (ProjectFacts, EvalState) {
    let edited = previous.as_ref().map(|(state, _)| edited_module(modules, state));
    let again = previous.zip(edited).and_then(|((state, facts), edited)| run_edited_function(modules, edited.ok()?, state, facts));
    let edited = edited.and_then(Result::ok).flatten();
    if let Some((facts, mut state)) = again {
        state.ran_edited_function_only = true;
        return (facts, state);
    }
    let mut ev = Evaluator::new(modules, Reruns::WhenReadsChanged);
    ev.run_rounds();
    let shapes = modules.iter().enumerate().map(|(i, m)| ModuleShape::of(m, Some(i) == edited)).collect();
    ev.into_facts_and_state(edited, shapes)
}

/// The one module whose text differs from what `state` knew (`None` when
/// none does); `Err` when the modules are not the same ones or several
/// changed.
fn edited_module(modules: &[ModuleSource<'_>], state: &EvalState) -> Result<Option<usize>, ()> {
    if state.modules.len() != modules.len() {
        return Err(());
    }
    let mut edited = None;
    for (i, (new, old)) in modules.iter().zip(&state.modules).enumerate() {
        if new.name != old.name || new.is_package != old.is_package {
            return Err(());
        }
        // The same text (read again from disk, say) lowers the same; most
        // are the very same string, which needs no comparing.
        let same = Arc::ptr_eq(new.text, &old.text) || **new.text == *old.text;
        if !same && edited.replace(i).is_some() {
            return Err(());
        }
    }
    Ok(edited)
}

/// `body` with the blank lines that follow it, up to the start of the line
/// of the next non-blank character (its indentation is not included: an
/// edit there re-indents that line).
fn with_blank_lines(text: &str, body: TextRange) -> TextRange {
    let rest = text.as_bytes().get(body.end..).unwrap_or_default();
    let blank = rest.iter().take_while(|b| matches!(b, b' ' | b'\t' | b'\r' | b'\n' | b'\x0c')).count();
    match rest[..blank].iter().rposition(|&b| b == b'\n') {
        Some(last_break) => TextRange::new(body.start, body.end + last_break + 1),
        None => body,
    }
}

/// The incremental case of [`evaluate_again`], or `None` when the project
/// must be evaluated whole; `edited` is [`edited_module`]'s answer.
fn run_edited_function(modules: &[ModuleSource<'_>], edited: Option<usize>, mut state: EvalState, mut facts: ProjectFacts) -> Option<(ProjectFacts, EvalState)> {
    if !state.converged {
        return None;
    }
    let old_text = edited.map(|m| state.modules[m].text.clone());
    for (new, old) in modules.iter().zip(&mut state.modules) {
        old.text = new.text.clone();
    }
    let (Some(m), Some(old_text)) = (edited, old_text) else {
        state.facts_moved_only = true;
        return Some((facts, state));
    };
    if state.edited != Some(m) {
        return None;
    }
    let (new, old) = (&modules[m], state.modules[m].outline.as_ref()?);
    if !old.clean || !new.ir.syntax_errors.is_empty() {
        return None;
    }
    let edit = TextEdit::between(&old_text, new.text);
    let shape = Outline::of(new);
    let same_outline = shape.statements == old.statements
        && shape.functions.len() == old.functions.len()
        && shape.classes.len() == old.classes.len()
        && old.classes.iter().zip(&shape.classes).all(|(o, n)| o.qualname == n.qualname && o.methods == n.methods && o.statements == n.statements)
        && old.functions.iter().zip(&shape.functions).all(|(o, n)| {
            o.qualname == n.qualname && o.parent == n.parent && o.class == n.class && o.params == n.params && o.flags == n.flags
        });
    if !same_outline {
        return None;
    }
    // The innermost function whose body holds the edit, before and after;
    // the blank lines right after a body count as its own (typing a new last
    // line starts there).
    let edited_function = (0..shape.functions.len())
        .filter(|&f| {
            let (o, n) = (old.functions[f].body_range, shape.functions[f].body_range);
            edit.within(with_blank_lines(&old_text, o), with_blank_lines(new.text, n))
        })
        .max_by_key(|&f| shape.functions[f].body_range.start)?;
    // What holds the edited function (itself, and the functions and classes
    // it is in) starts where it did and may end elsewhere; anything else
    // must be where it was.
    let edited_range = old.functions[edited_function].range;
    let holds_edited = |o: TextRange| o.start <= edited_range.start && edited_range.end <= o.end;
    let in_place = |o: TextRange, n: TextRange| if holds_edited(o) { o.start == n.start } else { edit.map(o) == Some(n) };
    if !old.classes.iter().zip(&shape.classes).all(|(o, n)| in_place(o.range, n.range)) {
        return None;
    }
    let nested_in_edited = |mut f: FuncId| loop {
        match shape.functions[f].parent {
            Some(p) if p == edited_function => return true,
            Some(p) => f = p,
            None => return false,
        }
    };
    // It runs again, and so does every function nested in it that the edit
    // touched or moved within it. Any other function must be where it was.
    let mut rerun = vec![edited_function];
    for (f, (o, n)) in old.functions.iter().zip(&shape.functions).enumerate() {
        // The body of what holds the edited function grows or shrinks with it.
        let where_it_was = if holds_edited(o.range) {
            o.range.start == n.range.start && o.body_range.start == n.body_range.start
        } else {
            in_place(o.range, n.range) && in_place(o.body_range, n.body_range)
        };
        if f == edited_function {
            if !where_it_was {
                return None;
            }
        } else if nested_in_edited(f) && !(where_it_was && edit.clear_of(o.range)) {
            rerun.push(f);
        } else if !where_it_was {
            return None;
        }
    }
    let unit_index = |f: FuncId| 1 + f;
    let nothing_given = |run: &UnitRun| run.ran && !run.contributed && !run.capped;
    if !rerun.iter().all(|&f| nothing_given(&state.units[m][unit_index(f)])) {
        return None;
    }
    // What the units run again found last time, moved with the text: if
    // they find the same, nothing in the project's facts changed but their
    // places.
    let moved_facts = |run: &UnitRun| -> Option<(Vec<CallFact>, Vec<UnresolvedCall>)> {
        let facts = run.facts.iter().map(|f| Some(CallFact { range: edit.map(f.range)?, ..f.clone() })).collect::<Option<_>>()?;
        let unresolved = run.unresolved.iter().map(|u| Some(UnresolvedCall { range: edit.map(u.range)?, ..u.clone() })).collect::<Option<_>>()?;
        Some((facts, unresolved))
    };
    let last_runs: Vec<_> = rerun.iter().map(|&f| {
        let run = &state.units[m][unit_index(f)];
        (moved_facts(run), run.edges.clone())
    }).collect();
    // The other units' facts move with the text.
    for (index, run) in state.units[m].iter_mut().enumerate() {
        if rerun.iter().any(|&f| unit_index(f) == index) {
            continue;
        }
        for fact in &mut run.facts {
            fact.range = edit.map(fact.range)?;
        }
        for call in &mut run.unresolved {
            call.range = edit.map(call.range)?;
        }
    }
    state.modules[m].outline = Some(shape);
    state.encloses[m] = encloses(new.ir);
    let shapes = std::mem::take(&mut state.modules);
    let mut ev = Evaluator::from_state(modules, state);
    ev.reruns = Reruns::All;
    for &f in &rerun {
        ev.run_unit(m, Unit::Function(f));
        if !nothing_given(&ev.units[m][unit_index(f)]) {
            return None;
        }
    }
    ev.reruns = Reruns::WhenReadsChanged;
    let found_the_same = rerun.iter().zip(&last_runs).all(|(&f, (last, edges))| {
        let run = &ev.units[m][unit_index(f)];
        last.as_ref().is_some_and(|(facts, unresolved)| *facts == run.facts && *unresolved == run.unresolved) && *edges == run.edges
    });
    facts.files[m] = ev.module_facts(m);
    for &f in &rerun {
        let key = (m, new.ir.functions[f].qualname.to_string());
        let callees: std::collections::BTreeSet<_> =
            ev.units[m].iter().flat_map(|run| &run.edges).filter(|(from, _)| *from == key).map(|(_, to)| to.clone()).collect();
        if callees.is_empty() {
            facts.call_graph.remove(&key);
        } else {
            facts.call_graph.insert(key, callees);
        }
    }
    let mut state = ev.into_state(shapes, Some(m));
    state.facts_moved_only = found_the_same;
    Some((facts, state))
}
