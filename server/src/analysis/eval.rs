//! Inference over the IR of every module of a project.
//!
//! An abstract interpreter: statements run in order with branch joins,
//! values are small sets of [`Value`]s, and what flows between scopes
//! (function parameters and returns, module globals, `self.x` attributes)
//! lives in summaries that grow until nothing changes.
//!
//! The units that run are a module's top-level code, each function and each
//! class body. A round runs them in order; rounds repeat while a summary
//! grows. A unit none of whose summary reads changed since it last ran
//! would compute exactly what it computed then, so it is skipped and keeps
//! its facts: every unit's facts come from a run that saw the final
//! summaries, as if a last round had run everything. Most of the work of
//! the rounds after the first (which usually only confirm) is saved.

use std::borrow::Cow;
use std::cell::RefCell;
use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use super::facts::{CallDetails, CallFact, Construct, FileFacts, Origin, TextRange, UnresolvedCall};
use super::ir::{Arg, ClassIr, Expr, ExprKind, FunctionIr, ModuleIr, ParamKind, Stmt, Target};
use super::name::Name;
use super::value::{self, DefRef, Value, ValueSet};
use crate::model;

mod again;
mod parts;
pub use again::{evaluate_again, EvalState};
pub use parts::evaluate_in_parts;

/// Environments and summaries are hashed on every name lookup and binding;
/// FxHash is several times cheaper than the default SipHash on short keys
/// (nothing here needs protection from adversarial collisions).
type HashMap<K, V> = rustc_hash::FxHashMap<K, V>;

/// One module of the project as the evaluator sees it.
#[derive(Clone)]
pub struct ModuleSource<'a> {
    /// Dotted module name: `app`, `chalicelib.db`, `chalicelib` (for
    /// `chalicelib/__init__.py`).
    pub name: &'a str,
    /// Whether this is a package's `__init__.py` (relative imports resolve
    /// against the package itself).
    pub is_package: bool,
    pub ir: &'a ModuleIr,
    /// The text `ir` was lowered from (what [`evaluate_again`] compares).
    pub text: &'a Arc<str>,
}

/// A function in the call graph: module index and qualname; the empty
/// qualname stands for module-level code.
pub type FnKey = (usize, String);

#[derive(Debug, PartialEq)]
pub struct ProjectFacts {
    pub files: Vec<FileFacts>,
    /// Which functions each function (or module-level code) calls.
    pub call_graph: BTreeMap<FnKey, BTreeSet<FnKey>>,
}

/// Rounds of summary propagation before giving up on a fixpoint. Real code
/// converges in two or three; the cap bounds adversarial input.
const MAX_ROUNDS: usize = 8;

pub fn evaluate(modules: &[ModuleSource<'_>]) -> ProjectFacts {
    evaluate_with(modules, Reruns::WhenReadsChanged)
}

/// Which units a round after the first runs again.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Reruns {
    /// Those whose summary reads changed since they last ran.
    WhenReadsChanged,
    /// All of them: what skipping must be indistinguishable from (tests),
    /// and how [`evaluate_again`] runs the edited function.
    All,
}

/// [`evaluate`] running every unit in every round.
#[cfg(test)]
pub(super) fn evaluate_rerunning_everything(modules: &[ModuleSource<'_>]) -> ProjectFacts {
    evaluate_with(modules, Reruns::All)
}

fn evaluate_with(modules: &[ModuleSource<'_>], reruns: Reruns) -> ProjectFacts {
    let mut ev = Evaluator::new(modules, reruns);
    ev.run_rounds();
    ev.finish()
}

/// [`evaluate`] of modules still being read, each as soon as it is read:
/// `modules` names every module (in module order), with an empty IR for
/// those not read yet; `arrive(m)` waits until module `m` is read and
/// returns it, or `None` when it could not be read (the evaluation is then
/// given up, since the modules are not those named). The first round runs
/// the modules in module order, as [`evaluate`]'s does, each once it has
/// arrived: no unit reads a summary of a module that has not run (its
/// functions and classes are reached only through values its own run
/// made), so each computes exactly what it computes there, and the result
/// is [`evaluate`]'s. A one-shot command evaluates a project this way while
/// the rest of it is still being parsed.
pub fn evaluate_arriving<'a>(modules: Vec<ModuleSource<'a>>, mut arrive: impl FnMut(usize) -> Option<ModuleSource<'a>>) -> Option<ProjectFacts> {
    let mut ev = Evaluator::without_summaries(Cow::Owned(modules), Reruns::WhenReadsChanged);
    for m in 0..ev.modules.len() {
        let module = arrive(m)?;
        ev.modules.to_mut()[m] = module;
        ev.add_summaries(m);
        ev.run_module(m);
    }
    ev.rounds_after_the_first();
    Some(ev.finish())
}

/// A summary, or a set of them, whose changes are tracked: what one unit
/// reads and another may change.
type Cell = u32;

/// A new cell, never changed yet.
fn new_cell(stamps: &mut Vec<u64>) -> Cell {
    stamps.push(0);
    (stamps.len() - 1) as Cell
}

/// A named summary (a module global, a class attribute, a function's local
/// binding) and the cell that tracks it.
struct Slot {
    vals: ValueSet,
    cell: Cell,
}

/// Summaries by name: a read of a name not there depends on `keys`, the
/// cell of the names added; `any` changes with any entry (star imports
/// read them all).
struct Named {
    slots: HashMap<Name, Slot>,
    keys: Cell,
    any: Cell,
}

impl Named {
    fn new(stamps: &mut Vec<u64>) -> Named {
        Named { slots: HashMap::default(), keys: new_cell(stamps), any: new_cell(stamps) }
    }

    fn get(&self, name: &str) -> Result<&Slot, Cell> {
        self.slots.get(name).ok_or(self.keys)
    }
}

#[derive(Default)]
struct Summaries {
    module_env: Vec<Named>,
    params: Vec<Vec<Vec<ValueSet>>>,
    returns: Vec<Vec<ValueSet>>,
    class_attrs: Vec<Vec<Named>>,
    /// Every binding a function makes, for the closures nested in it.
    locals: Vec<Vec<Named>>,
    /// Per module and function: the cells of its parameters and of its
    /// return value.
    param_cells: Vec<Vec<Cell>>,
    return_cells: Vec<Vec<Cell>>,
}

/// Where a named summary lives.
#[derive(Clone, Copy)]
enum NamedAt {
    Env(usize),
    ClassAttrs(DefRef),
    Locals(DefRef),
}

/// What one run of a unit found, kept until it runs again.
#[derive(Default)]
struct UnitRun {
    ran: bool,
    /// The clock when it started: a read cell stamped later invalidates it.
    started: u64,
    reads: Vec<Cell>,
    facts: Vec<CallFact>,
    unresolved: Vec<UnresolvedCall>,
    edges: Vec<(FnKey, FnKey)>,
    /// Whether it put any value into a summary (or a name into one), and
    /// whether a value set it built was full and dropped a value. A unit
    /// that did neither gives nothing to any other unit, with these
    /// summaries or any smaller ones (see [`evaluate_again`]).
    contributed: bool,
    capped: bool,
}

/// A unit of a module: its top-level code, a function, a class body.
#[derive(Clone, Copy)]
enum Unit {
    Module,
    Function(usize),
    Class(usize),
}

struct Frame {
    module: usize,
    func: Option<usize>,
    env: HashMap<Name, ValueSet>,
    globals: Vec<Name>,
    is_module: bool,
    /// Inside a class body: assignments become class attributes.
    class_body: Option<usize>,
    returns: ValueSet,
}

struct Evaluator<'a> {
    /// Owned while the modules are still being read (see
    /// [`evaluate_arriving`]).
    modules: Cow<'a, [ModuleSource<'a>]>,
    by_name: HashMap<&'a str, usize>,
    sums: Summaries,
    changed: bool,
    reruns: Reruns,
    /// Per cell, the clock when it last changed; the clock ticks at every
    /// change and at the start of every unit run.
    stamps: Vec<u64>,
    clock: u64,
    /// Per module, its units' last runs: top-level code, then functions,
    /// then classes.
    units: Vec<Vec<UnitRun>>,
    /// The run under way: its reads, facts, unresolved calls and call edges.
    reads: RefCell<Vec<Cell>>,
    facts: Vec<CallFact>,
    unresolved: Vec<UnresolvedCall>,
    edges: Vec<(FnKey, FnKey)>,
    /// Per module and function: whether another function (or lambda) is
    /// nested directly in it.
    encloses: Vec<Vec<bool>>,
    /// Whether the unit running put anything into a summary.
    contributed: bool,
    /// Whether the last rounds ended at a fixpoint (not at [`MAX_ROUNDS`]).
    converged: bool,
}

/// An empty list for each of `n` modules.
fn none_per_module<T>(n: usize) -> Vec<Vec<T>> {
    (0..n).map(|_| Vec::new()).collect()
}

/// Per function of `ir`, whether another function (or lambda) is nested
/// directly in it.
fn encloses(ir: &ModuleIr) -> Vec<bool> {
    let mut encloses = vec![false; ir.functions.len()];
    for f in &ir.functions {
        if let Some(p) = f.parent {
            encloses[p] = true;
        }
    }
    encloses
}

/// One module's facts from what its units found, in the order a round runs
/// the units (the order of a last round that ran them all).
fn file_facts(mut calls: Vec<CallFact>, mut unresolved: Vec<UnresolvedCall>, ir: &ModuleIr) -> FileFacts {
    calls.sort_by(|a, b| (a.range, &a.service).cmp(&(b.range, &b.service)));
    calls.dedup_by(|a, b| a.range == b.range && a.service == b.service && a.construct == b.construct);
    unresolved.sort_by(|a, b| a.range.cmp(&b.range));
    unresolved.dedup_by(|a, b| a.range == b.range);
    // A call resolved through one path is not also unresolved.
    unresolved.retain(|u| !calls.iter().any(|c| c.range == u.range));
    FileFacts { calls, unresolved, syntax_errors: ir.syntax_errors.clone() }
}

fn rc(s: &str) -> Arc<str> {
    Arc::from(s)
}

impl<'a> Evaluator<'a> {
    fn new(modules: &'a [ModuleSource<'a>], reruns: Reruns) -> Self {
        let mut ev = Evaluator::without_summaries(Cow::Borrowed(modules), reruns);
        for m in 0..modules.len() {
            ev.add_summaries(m);
        }
        ev
    }

    /// An evaluator with every module's names but none of its functions'
    /// and classes' summaries yet (see [`Self::add_summaries`]).
    fn without_summaries(modules: Cow<'a, [ModuleSource<'a>]>, reruns: Reruns) -> Self {
        let mut stamps = Vec::new();
        let n = modules.len();
        let sums = Summaries {
            module_env: (0..n).map(|_| Named::new(&mut stamps)).collect(),
            params: none_per_module(n),
            returns: none_per_module(n),
            class_attrs: none_per_module(n),
            locals: none_per_module(n),
            param_cells: none_per_module(n),
            return_cells: none_per_module(n),
        };
        Evaluator {
            by_name: modules.iter().enumerate().map(|(i, m)| (m.name, i)).collect(),
            sums,
            changed: false,
            reruns,
            stamps,
            clock: 0,
            units: none_per_module(n),
            reads: RefCell::new(Vec::new()),
            facts: Vec::new(),
            unresolved: Vec::new(),
            edges: Vec::new(),
            encloses: none_per_module(n),
            contributed: false,
            converged: false,
            modules,
        }
    }

    /// The summaries of module `m`'s functions and classes, and the record
    /// of its units' runs: none has run, nothing is known of any.
    fn add_summaries(&mut self, m: usize) {
        let ir = self.ir(m);
        let functions = ir.functions.len();
        let stamps = &mut self.stamps;
        self.sums.params[m] = ir.functions.iter().map(|f| vec![ValueSet::empty(); f.params.len()]).collect();
        self.sums.returns[m] = vec![ValueSet::empty(); functions];
        self.sums.class_attrs[m] = (0..ir.classes.len()).map(|_| Named::new(stamps)).collect();
        self.sums.locals[m] = (0..functions).map(|_| Named::new(stamps)).collect();
        self.sums.param_cells[m] = (0..functions).map(|_| new_cell(stamps)).collect();
        self.sums.return_cells[m] = (0..functions).map(|_| new_cell(stamps)).collect();
        self.units[m] = (0..1 + functions + ir.classes.len()).map(|_| UnitRun::default()).collect();
        self.encloses[m] = encloses(ir);
    }

    /// Rounds over every module until no summary grows (or [`MAX_ROUNDS`]).
    fn run_rounds(&mut self) {
        self.changed = false;
        for m in 0..self.modules.len() {
            self.run_module(m);
        }
        self.rounds_after_the_first();
    }

    /// The rounds after a first that ran every module, while a round
    /// changes a summary, up to [`MAX_ROUNDS`] in all.
    fn rounds_after_the_first(&mut self) {
        for _ in 1..MAX_ROUNDS {
            if !self.changed {
                break;
            }
            self.changed = false;
            for m in 0..self.modules.len() {
                self.run_module(m);
            }
        }
        self.converged = !self.changed;
    }

    /// An evaluator that goes on from `state`, for the same modules but one
    /// (see [`evaluate_again`]).
    fn from_state(modules: &'a [ModuleSource<'a>], state: EvalState) -> Self {
        Evaluator {
            modules: Cow::Borrowed(modules),
            by_name: modules.iter().enumerate().map(|(i, m)| (m.name, i)).collect(),
            sums: state.sums,
            changed: false,
            reruns: Reruns::WhenReadsChanged,
            stamps: state.stamps,
            clock: state.clock,
            units: state.units,
            reads: RefCell::new(Vec::new()),
            facts: Vec::new(),
            unresolved: Vec::new(),
            edges: Vec::new(),
            encloses: state.encloses,
            contributed: false,
            converged: state.converged,
        }
    }

    fn into_state(self, modules: Vec<again::ModuleShape>, edited: Option<usize>) -> EvalState {
        EvalState {
            sums: self.sums,
            stamps: self.stamps,
            clock: self.clock,
            units: self.units,
            encloses: self.encloses,
            converged: self.converged,
            modules,
            edited,
            ran_edited_function_only: false,
            facts_moved_only: false,
        }
    }

    /// The facts, and the state for [`evaluate_again`]: what units read is
    /// only needed between rounds, and the units' runs only for the module
    /// `edited` (the others' facts and call edges are moved into the facts).
    fn into_facts_and_state(mut self, edited: Option<usize>, modules: Vec<again::ModuleShape>) -> (ProjectFacts, EvalState) {
        let mut call_graph: BTreeMap<FnKey, BTreeSet<FnKey>> = BTreeMap::new();
        let mut files = Vec::new();
        for m in 0..self.modules.len() {
            if Some(m) == edited {
                for (from, to) in self.units[m].iter().flat_map(|u| &u.edges) {
                    call_graph.entry(from.clone()).or_default().insert(to.clone());
                }
                files.push(self.module_facts(m));
            } else {
                let (mut calls, mut unresolved) = (Vec::new(), Vec::new());
                // In the order a round runs the units: the order of a last
                // round that ran them all.
                for unit in &mut self.units[m] {
                    calls.append(&mut unit.facts);
                    unresolved.append(&mut unit.unresolved);
                    for (from, to) in std::mem::take(&mut unit.edges) {
                        call_graph.entry(from).or_default().insert(to);
                    }
                }
                files.push(file_facts(calls, unresolved, self.modules[m].ir));
                self.units[m] = Vec::new();
            }
            for unit in &mut self.units[m] {
                unit.reads = Vec::new();
            }
        }
        if edited.is_none() {
            // Nothing is being edited (a project just read): the summaries
            // would only take memory until the first edit, which evaluates
            // everything anyway to learn which module is edited.
            self.sums = Summaries::default();
            self.stamps = Vec::new();
            self.encloses = Vec::new();
        }
        (ProjectFacts { files, call_graph }, self.into_state(modules, edited))
    }

    /// Module `m`'s facts, leaving its units' as they are.
    fn module_facts(&self, m: usize) -> FileFacts {
        let units = &self.units[m];
        let calls = units.iter().flat_map(|u| u.facts.iter().cloned()).collect();
        let unresolved = units.iter().flat_map(|u| u.unresolved.iter().cloned()).collect();
        file_facts(calls, unresolved, self.modules[m].ir)
    }

    fn finish(self) -> ProjectFacts {
        self.into_facts_and_state(None, Vec::new()).0
    }

    // ----- summaries and units ---------------------------------------------

    /// Records that the unit running reads `cell`.
    fn read(&self, cell: Cell) {
        self.reads.borrow_mut().push(cell);
    }

    fn stamp(&mut self, cell: Cell) {
        self.clock += 1;
        self.stamps[cell as usize] = self.clock;
    }

    fn named(&self, at: NamedAt) -> &Named {
        match at {
            NamedAt::Env(m) => &self.sums.module_env[m],
            NamedAt::ClassAttrs(c) => &self.sums.class_attrs[c.module][c.index],
            NamedAt::Locals(f) => &self.sums.locals[f.module][f.index],
        }
    }

    /// A named summary's values, recording the read.
    fn get_named(&self, at: NamedAt, name: &str) -> ValueSet {
        match self.named(at).get(name) {
            Ok(slot) => {
                self.read(slot.cell);
                slot.vals.clone()
            }
            Err(keys) => {
                self.read(keys);
                ValueSet::empty()
            }
        }
    }

    /// Adds `vals` to a named summary (creating the name if new), stamping
    /// what changed; `self.changed` is set when values grew.
    fn merge_named(&mut self, at: NamedAt, name: &str, vals: &ValueSet) {
        let named = match at {
            NamedAt::Env(m) => &mut self.sums.module_env[m],
            NamedAt::ClassAttrs(c) => &mut self.sums.class_attrs[c.module][c.index],
            NamedAt::Locals(f) => &mut self.sums.locals[f.module][f.index],
        };
        let (keys, any) = (named.keys, named.any);
        self.contributed |= !vals.is_empty();
        let (cell, added, grew) = match named.slots.get_mut(name) {
            Some(slot) => (slot.cell, false, slot.vals.union(vals)),
            None => {
                let cell = new_cell(&mut self.stamps);
                named.slots.insert(name.into(), Slot { vals: vals.clone(), cell });
                (cell, true, !vals.is_empty())
            }
        };
        if added {
            self.contributed = true;
            self.stamp(keys);
        }
        if added || grew {
            self.stamp(cell);
            self.stamp(any);
        }
        if grew {
            self.changed = true;
        }
    }

    /// Runs one unit of module `m`, unless none of its reads changed since
    /// its last run (see the module documentation).
    fn run_unit(&mut self, m: usize, unit: Unit) {
        let index = match unit {
            Unit::Module => 0,
            Unit::Function(f) => 1 + f,
            Unit::Class(c) => 1 + self.ir(m).functions.len() + c,
        };
        let last = &self.units[m][index];
        let unchanged = last.ran && last.reads.iter().all(|&c| self.stamps[c as usize] <= last.started);
        if self.reruns == Reruns::WhenReadsChanged && unchanged {
            return;
        }
        self.clock += 1;
        let started = self.clock;
        self.contributed = false;
        value::take_dropped();
        match unit {
            Unit::Module => self.run_module_body(m),
            Unit::Function(f) => self.run_function(DefRef { module: m, index: f }),
            Unit::Class(c) => self.run_class_body(DefRef { module: m, index: c }),
        }
        let mut reads = std::mem::take(self.reads.get_mut());
        reads.sort_unstable();
        reads.dedup();
        let mut edges = std::mem::take(&mut self.edges);
        edges.sort();
        edges.dedup();
        self.units[m][index] = UnitRun {
            ran: true,
            started,
            reads,
            facts: std::mem::take(&mut self.facts),
            unresolved: std::mem::take(&mut self.unresolved),
            edges,
            contributed: self.contributed,
            capped: value::take_dropped(),
        };
    }

    fn ir(&self, m: usize) -> &'a ModuleIr {
        self.modules[m].ir
    }

    fn func(&self, d: DefRef) -> &'a FunctionIr {
        &self.modules[d.module].ir.functions[d.index]
    }

    fn class(&self, d: DefRef) -> &'a ClassIr {
        &self.modules[d.module].ir.classes[d.index]
    }

    // ----- module and function bodies -----------------------------------

    fn run_module(&mut self, m: usize) {
        self.run_unit(m, Unit::Module);
        for f in 0..self.ir(m).functions.len() {
            self.run_unit(m, Unit::Function(f));
        }
        for c in 0..self.ir(m).classes.len() {
            self.run_unit(m, Unit::Class(c));
        }
    }

    fn run_module_body(&mut self, m: usize) {
        let ir = self.ir(m);
        let mut frame = Frame {
            module: m,
            func: None,
            env: HashMap::default(),
            globals: Vec::new(),
            is_module: true,
            class_body: None,
            returns: ValueSet::empty(),
        };
        self.block(&mut frame, &ir.body);
        // The module's final bindings are what other modules import.
        for (name, vals) in frame.env {
            self.merge_named(NamedAt::Env(m), &name, &vals);
        }
    }

    fn run_class_body(&mut self, c: DefRef) {
        let class = self.class(c);
        let mut frame = Frame {
            module: c.module,
            func: None,
            env: HashMap::default(),
            globals: Vec::new(),
            is_module: false,
            class_body: Some(c.index),
            returns: ValueSet::empty(),
        };
        self.block(&mut frame, &class.body);
        for (name, vals) in frame.env {
            self.add_class_attr(c, &name, &vals);
        }
    }

    fn add_class_attr(&mut self, c: DefRef, name: &str, vals: &ValueSet) {
        if vals.is_empty() {
            return;
        }
        self.merge_named(NamedAt::ClassAttrs(c), name, vals);
    }

    fn run_function(&mut self, f: DefRef) {
        let func = self.func(f);
        let mut frame = Frame {
            module: f.module,
            func: Some(f.index),
            env: HashMap::default(),
            globals: Vec::new(),
            is_module: false,
            class_body: None,
            returns: ValueSet::empty(),
        };
        for (i, p) in func.params.iter().enumerate() {
            self.read(self.sums.param_cells[f.module][f.index]);
            let mut vals = self.sums.params[f.module][f.index][i].clone();
            if let Some(d) = &p.default {
                let dv = self.expr(&mut frame, d);
                vals.union(&dv);
            }
            // `self` of a method holds an instance of its class.
            if i == 0 && p.kind == ParamKind::Positional && !func.is_static {
                if let Some(c) = func.class {
                    let cref = DefRef { module: f.module, index: c };
                    vals.insert(if func.is_classmethod { Value::Class(cref) } else { Value::Instance(cref) });
                }
            }
            frame.env.insert(p.name.clone(), vals);
        }
        self.block(&mut frame, &func.body);
        // Only closures read a function's bindings (see `lookup`): for a
        // function with none nested in it, keeping them would only cost
        // memory and, when they grow, another round over every module.
        if self.encloses[f.module][f.index] {
            for (name, vals) in &frame.env {
                self.merge_named(NamedAt::Locals(f), name, vals);
            }
        }
        let ret = std::mem::take(&mut frame.returns);
        self.contributed |= !ret.is_empty();
        if self.sums.returns[f.module][f.index].union(&ret) {
            self.changed = true;
            self.stamp(self.sums.return_cells[f.module][f.index]);
        }
    }

    fn block(&mut self, fr: &mut Frame, stmts: &[Stmt]) {
        for s in stmts {
            self.stmt(fr, s);
        }
    }

    fn stmt(&mut self, fr: &mut Frame, s: &Stmt) {
        match s {
            Stmt::Assign { targets, value } => {
                let v = self.expr(fr, value);
                for t in targets {
                    self.bind(fr, t, &v);
                }
            }
            Stmt::Expr(e) => {
                self.expr(fr, e);
            }
            Stmt::Return(e) => {
                if let Some(e) = e {
                    let v = self.expr(fr, e);
                    fr.returns.union(&v);
                }
            }
            Stmt::If { test, body, orelse } => {
                self.expr(fr, test);
                let before = fr.env.clone();
                self.block(fr, body);
                let after_body = std::mem::replace(&mut fr.env, before);
                self.block(fr, orelse);
                join_into(&mut fr.env, after_body);
            }
            Stmt::Loop { target, iter, body, orelse } => {
                if let Some(iter) = iter {
                    let items = self.iterate(fr, iter);
                    if let Some(t) = target {
                        self.bind(fr, t, &items);
                    }
                }
                let before = fr.env.clone();
                self.block(fr, body);
                join_into(&mut fr.env, before);
                self.block(fr, orelse);
            }
            Stmt::With { items, body } => {
                for (ctx, target) in items {
                    let v = self.expr(fr, ctx);
                    if let Some(t) = target {
                        // Clients, resources and batch writers return
                        // themselves from __enter__.
                        self.bind(fr, t, &v);
                    }
                }
                self.block(fr, body);
            }
            Stmt::Blocks(blocks) => {
                let start = fr.env.clone();
                let mut joined: Option<HashMap<Name, ValueSet>> = None;
                for b in blocks {
                    self.block(fr, b);
                    match &mut joined {
                        None => joined = Some(fr.env.clone()),
                        Some(j) => join_into(j, fr.env.clone()),
                    }
                }
                if let Some(mut j) = joined {
                    join_into(&mut j, start);
                    fr.env = j;
                }
            }
            Stmt::Global(names) => fr.globals.extend(names.iter().cloned()),
            Stmt::Import { module, alias } => self.import(fr, module, alias.as_ref()),
            Stmt::ImportFrom { module, level, names, star } => self.import_from(fr, module, *level, names, *star),
            Stmt::Def(f) => {
                let d = DefRef { module: fr.module, index: *f };
                // Decorators run at definition time; chalice's and
                // functools' decorators return the function itself.
                for deco in &self.func(d).decorators {
                    self.expr(fr, deco);
                }
                let name = self.func(d).name.clone();
                self.assign_name(fr, &name, ValueSet::one(Value::Function(d)));
            }
            Stmt::Class(c) => {
                let d = DefRef { module: fr.module, index: *c };
                let name = self.class(d).name.clone();
                self.assign_name(fr, &name, ValueSet::one(Value::Class(d)));
            }
        }
    }

    fn import(&mut self, fr: &mut Frame, module: &Name, alias: Option<&Name>) {
        let (bind_name, value) = match alias {
            Some(a) => (a.clone(), self.module_value(module)),
            // `import a` binds `a` itself; `import a.b` binds `a`.
            None => match module.split_once('.') {
                None => (module.clone(), self.module_value(module)),
                Some((top, _)) => (Name::from(top), self.module_value(top)),
            },
        };
        if !value.is_empty() {
            self.assign_name(fr, &bind_name, value);
        }
    }

    /// The value of an imported module by dotted name.
    fn module_value(&self, dotted: &str) -> ValueSet {
        match dotted {
            "boto3" => ValueSet::one(Value::Boto3Module),
            "boto3.session" => ValueSet::one(Value::Boto3SessionModule),
            _ => match self.by_name.get(dotted) {
                Some(&m) => ValueSet::one(Value::Module(m)),
                None => ValueSet::empty(),
            },
        }
    }

    fn import_from(&mut self, fr: &mut Frame, module: &str, level: usize, names: &[(Name, Option<Name>)], star: bool) {
        let base = if level == 0 {
            module.to_string()
        } else {
            let me = self.modules[fr.module].name;
            let mut parts: Vec<&str> = me.split('.').collect();
            // A package's __init__ is its own base for one dot.
            let drop = if self.modules[fr.module].is_package { level - 1 } else { level };
            for _ in 0..drop {
                parts.pop();
            }
            let mut b = parts.join(".");
            if !module.is_empty() {
                if !b.is_empty() {
                    b.push('.');
                }
                b.push_str(module);
            }
            b
        };
        if star {
            if let Some(&m) = self.by_name.get(base.as_str()) {
                let named = &self.sums.module_env[m];
                self.read(named.any);
                self.read(named.keys);
                let env: Vec<(Name, ValueSet)> = named.slots.iter().map(|(k, v)| (k.clone(), v.vals.clone())).collect();
                for (k, v) in env {
                    self.assign_name(fr, &k, v);
                }
            }
        }
        for (name, alias) in names {
            let value = self.from_import_value(&base, name);
            if !value.is_empty() {
                let bind = alias.clone().unwrap_or_else(|| name.clone());
                self.assign_name(fr, &bind, value);
            }
        }
    }

    fn from_import_value(&self, base: &str, name: &str) -> ValueSet {
        match (base, name) {
            ("boto3", "client") => return ValueSet::one(Value::ClientFactory(Origin::ImportedFactory)),
            ("boto3", "resource") => return ValueSet::one(Value::ResourceFactory(Origin::Resource)),
            ("boto3", "Session") | ("boto3.session", "Session") => return ValueSet::one(Value::SessionClass),
            ("boto3", "session") => return ValueSet::one(Value::Boto3SessionModule),
            _ => {}
        }
        let sub = format!("{base}.{name}");
        if let Some(&m) = self.by_name.get(sub.as_str()) {
            return ValueSet::one(Value::Module(m));
        }
        match self.by_name.get(base) {
            Some(&m) => self.get_named(NamedAt::Env(m), name),
            None => ValueSet::empty(),
        }
    }

    fn assign_name(&mut self, fr: &mut Frame, name: &Name, v: ValueSet) {
        if !fr.is_module && fr.class_body.is_none() && fr.globals.iter().any(|g| g == name) {
            // `global x; x = ...` in a function: the module's x may hold it
            // from now on (lazy singletons).
            self.merge_named(NamedAt::Env(fr.module), name, &v);
        }
        fr.env.insert(name.clone(), v);
    }

    fn bind(&mut self, fr: &mut Frame, t: &Target, v: &ValueSet) {
        match t {
            Target::Name(n) => self.assign_name(fr, n, v.clone()),
            Target::Attr(obj, attr) => {
                let objs = self.expr(fr, obj);
                for o in objs.iter() {
                    match o {
                        Value::Instance(c) | Value::Class(c) => self.add_class_attr(*c, attr, v),
                        Value::Module(m) => self.merge_named(NamedAt::Env(*m), attr, v),
                        _ => {}
                    }
                }
            }
            Target::Tuple(items) => {
                let n = items.len();
                let mut per: Vec<ValueSet> = vec![ValueSet::empty(); n];
                let mut lost = false;
                for val in v.iter() {
                    match val {
                        Value::Tuple(parts) if parts.len() == n && !items.iter().any(|t| matches!(t, Target::Star(_))) => {
                            for (i, p) in parts.iter().enumerate() {
                                per[i].union(p);
                            }
                        }
                        other if other.is_boto3() => lost = true,
                        _ => {}
                    }
                }
                for (i, t) in items.iter().enumerate() {
                    if lost {
                        per[i].insert(Value::Opaque("a value unpacked from a sequence of unknown shape"));
                    }
                    self.bind(fr, t, &per[i]);
                }
            }
            Target::Star(inner) => {
                let vals = if v.has_boto3() {
                    ValueSet::one(Value::Opaque("a starred unpacking"))
                } else {
                    ValueSet::empty()
                };
                self.bind(fr, inner, &vals);
            }
            Target::Other(e) => {
                self.expr(fr, e);
            }
        }
    }

    fn lookup(&self, fr: &Frame, name: &str) -> ValueSet {
        if let Some(v) = fr.env.get(name) {
            return v.clone();
        }
        // Free variables of nested functions and lambdas: the enclosing
        // functions' bindings.
        let mut parent = fr.func.and_then(|f| self.ir(fr.module).functions[f].parent);
        while let Some(p) = parent {
            match self.sums.locals[fr.module][p].get(name) {
                Ok(slot) => {
                    self.read(slot.cell);
                    return slot.vals.clone();
                }
                Err(keys) => self.read(keys),
            }
            parent = self.ir(fr.module).functions[p].parent;
        }
        self.get_named(NamedAt::Env(fr.module), name)
    }

    // ----- expressions ---------------------------------------------------

    fn expr(&mut self, fr: &mut Frame, e: &Expr) -> ValueSet {
        match &e.kind {
            ExprKind::Name(n) => self.lookup(fr, n),
            ExprKind::Attr(obj, attr) => {
                let objs = self.expr(fr, obj);
                let mut out = ValueSet::empty();
                for o in objs.iter() {
                    out.union(&self.attribute(fr, o, attr, e.range()));
                }
                out
            }
            ExprKind::Call { func, args } => self.call(fr, func, args, e.range()),
            ExprKind::Str(Some(s)) => ValueSet::one(Value::Str(s.clone())),
            ExprKind::Str(None) | ExprKind::None | ExprKind::False => ValueSet::empty(),
            ExprKind::Seq(items) => {
                let parts: Vec<ValueSet> = items.iter().map(|i| self.expr(fr, i)).collect();
                if parts.iter().any(|p| !p.is_empty()) {
                    ValueSet::one(Value::Tuple(parts.into()))
                } else {
                    ValueSet::empty()
                }
            }
            ExprKind::Dict(pairs) => {
                let mut boto = false;
                for (k, v) in pairs {
                    if let Some(k) = k {
                        self.expr(fr, k);
                    }
                    boto |= self.expr(fr, v).has_boto3();
                }
                if boto {
                    ValueSet::one(Value::Opaque("a dict"))
                } else {
                    ValueSet::empty()
                }
            }
            ExprKind::Subscript(value, index) => {
                let v = self.expr(fr, value);
                self.expr(fr, index);
                if v.has_boto3() {
                    ValueSet::one(Value::Opaque("a subscript"))
                } else {
                    ValueSet::empty()
                }
            }
            ExprKind::Comprehension(c) => {
                let saved = fr.env.clone();
                for (target, iter, conds) in c.generators.iter() {
                    let items = self.iterate(fr, iter);
                    self.bind(fr, target, &items);
                    for c in conds {
                        self.expr(fr, c);
                    }
                }
                let mut boto = false;
                for el in c.elts.iter() {
                    boto |= self.expr(fr, el).has_boto3();
                }
                // Comprehension variables do not leak (Python 3).
                fr.env = saved;
                if boto {
                    ValueSet::one(Value::Opaque("a comprehension"))
                } else {
                    ValueSet::empty()
                }
            }
            ExprKind::Lambda(f) => ValueSet::one(Value::Function(DefRef { module: fr.module, index: *f })),
            ExprKind::Alternatives(alts) => {
                let mut out = ValueSet::empty();
                for a in alts {
                    let v = self.expr(fr, a);
                    out.union(&v);
                }
                out
            }
            ExprKind::Walrus(name, value) => {
                let v = self.expr(fr, value);
                self.assign_name(fr, name, v.clone());
                v
            }
            ExprKind::Other(kids) => {
                for k in kids {
                    self.expr(fr, k);
                }
                ValueSet::empty()
            }
        }
    }

    /// What iterating `e` yields; iterating a collection sends its request.
    fn iterate(&mut self, fr: &mut Frame, e: &Expr) -> ValueSet {
        let vals = self.expr(fr, e);
        self.iterate_values(fr, &vals, e.range())
    }

    fn iterate_values(&mut self, fr: &mut Frame, vals: &ValueSet, range: TextRange) -> ValueSet {
        let mut out = ValueSet::empty();
        for v in vals.iter() {
            match v {
                Value::Collection { service, owner, name } => {
                    if let Some(c) = collection_model(service, owner, name) {
                        self.fact(
                            fr,
                            range,
                            service,
                            Construct::Collection { resource: owner_label(owner), collection: name.to_string() },
                            Origin::Resource,
                            vec![c.op.clone()],
                            Vec::new(),
                            None,
                        );
                        out.insert(Value::Resource { service: service.clone(), rtype: rc(&c.item_type), loaded: c.items_loaded });
                    }
                }
                Value::PageIterator { service, name, passed } => self.page_fact(fr, service, name, passed, range),
                Value::Tuple(parts) => {
                    for p in parts.iter() {
                        out.union(p);
                    }
                }
                Value::Opaque(_) => {
                    out.insert(Value::Opaque("an element of a container"));
                }
                _ => {}
            }
        }
        out
    }

    fn call(&mut self, fr: &mut Frame, func: &Expr, args: &[Arg], range: TextRange) -> ValueSet {
        // Builtins that iterate their argument or pass it through.
        if let ExprKind::Name(n) = &func.kind {
            if self.lookup(fr, n).is_empty() {
                match n.as_str() {
                    "list" | "tuple" | "sorted" | "set" | "frozenset" | "iter" | "next" | "enumerate" | "any" | "all"
                    | "sum" | "min" | "max" | "reversed" | "dict" => {
                        if let Some(Arg::Positional(a)) = args.first() {
                            let items = self.iterate(fr, a);
                            for rest in &args[1..] {
                                self.arg_values(fr, rest);
                            }
                            return match n.as_str() {
                                "next" => items,
                                _ if items.has_boto3() => ValueSet::one(Value::Tuple(vec![items].into())),
                                _ => ValueSet::empty(),
                            };
                        }
                    }
                    "closing" | "cast" => {
                        let vals: Vec<ValueSet> = args.iter().map(|a| self.arg_values(fr, a)).collect();
                        return vals.last().cloned().unwrap_or_default();
                    }
                    "getattr" => return self.getattr_call(fr, args, range),
                    _ => {}
                }
            }
        }
        if let ExprKind::Attr(obj, attr) = &func.kind {
            if attr == "closing" || attr == "cast" {
                let objv = self.expr(fr, obj);
                if objv.is_empty() {
                    let vals: Vec<ValueSet> = args.iter().map(|a| self.arg_values(fr, a)).collect();
                    return vals.last().cloned().unwrap_or_default();
                }
            }
        }
        let callees = self.expr(fr, func);
        let passed = Passed::of(args);
        let argv: Vec<(Option<&str>, ValueSet, bool)> = args
            .iter()
            .map(|a| match a {
                Arg::Positional(e) => (None, self.expr(fr, e), false),
                Arg::Keyword(k, e) => (Some(k.as_str()), self.expr(fr, e), false),
                Arg::Star(e) | Arg::StarStar(e) => (None, self.expr(fr, e), true),
            })
            .collect();
        let mut out = ValueSet::empty();
        for c in callees.iter() {
            let r = self.call_value(fr, c, &argv, &passed, range);
            out.union(&r);
        }
        out
    }

    fn arg_values(&mut self, fr: &mut Frame, a: &Arg) -> ValueSet {
        match a {
            Arg::Positional(e) | Arg::Keyword(_, e) | Arg::Star(e) | Arg::StarStar(e) => self.expr(fr, e),
        }
    }

    fn getattr_call(&mut self, fr: &mut Frame, args: &[Arg], range: TextRange) -> ValueSet {
        let vals: Vec<ValueSet> = args.iter().map(|a| self.arg_values(fr, a)).collect();
        let (Some(obj), Some(name)) = (vals.first(), vals.get(1)) else {
            return ValueSet::empty();
        };
        let names: Vec<Arc<str>> = name.strings().cloned().collect();
        let mut out = ValueSet::empty();
        if names.len() == 1 {
            for o in obj.iter() {
                out.union(&self.attribute(fr, o, &names[0], range));
            }
        } else if obj.has_boto3() {
            out.insert(Value::Opaque("getattr with a computed name"));
        }
        out
    }

    // ----- attribute access ---------------------------------------------

    fn attribute(&mut self, fr: &mut Frame, obj: &Value, attr: &str, range: TextRange) -> ValueSet {
        let method = |v: &Value| ValueSet::one(Value::Method { recv: Arc::new(v.clone()), name: rc(attr) });
        match obj {
            Value::Boto3Module => match attr {
                "client" => ValueSet::one(Value::ClientFactory(Origin::Boto3Client)),
                "resource" => ValueSet::one(Value::ResourceFactory(Origin::Resource)),
                "Session" => ValueSet::one(Value::SessionClass),
                "session" => ValueSet::one(Value::Boto3SessionModule),
                _ => ValueSet::empty(),
            },
            Value::Boto3SessionModule => match attr {
                "Session" => ValueSet::one(Value::SessionClass),
                _ => ValueSet::empty(),
            },
            Value::Session => match attr {
                "client" => ValueSet::one(Value::ClientFactory(Origin::SessionClient)),
                "resource" => ValueSet::one(Value::ResourceFactory(Origin::Resource)),
                _ => ValueSet::empty(),
            },
            Value::Client { .. } => match attr {
                // Local, non-request attributes of every client.
                "meta" | "exceptions" | "waiter_names" => ValueSet::empty(),
                _ => method(obj),
            },
            Value::ServiceResource { service, .. } => {
                if attr == "meta" {
                    return ValueSet::one(Value::ResourceMeta { service: service.clone() });
                }
                let Some(model) = model::resource_model(service) else { return ValueSet::empty() };
                if model.service.collections.contains_key(attr) {
                    return ValueSet::one(Value::Collection { service: service.clone(), owner: rc(""), name: rc(attr) });
                }
                method(obj)
            }
            Value::Resource { service, rtype, loaded } => {
                let loaded = *loaded;
                if attr == "meta" {
                    return ValueSet::one(Value::ResourceMeta { service: service.clone() });
                }
                let Some(res) = model::resource_model(service).and_then(|m| m.resources.get(&**rtype)) else {
                    return ValueSet::empty();
                };
                if res.collections.contains_key(attr) {
                    return ValueSet::one(Value::Collection { service: service.clone(), owner: rtype.clone(), name: rc(attr) });
                }
                if res.identifiers.iter().any(|i| i == attr) {
                    return ValueSet::empty();
                }
                if let Some(target) = res.references.get(attr) {
                    // References are built from loaded data: reading one loads.
                    if !loaded {
                        self.load_fact(fr, service, rtype, Some(attr), range);
                    }
                    return ValueSet::one(Value::Resource { service: service.clone(), rtype: rc(target), loaded: false });
                }
                if res.attributes.iter().any(|a| a == attr) {
                    if !loaded {
                        self.load_fact(fr, service, rtype, Some(attr), range);
                    }
                    return ValueSet::empty();
                }
                method(obj)
            }
            Value::ResourceMeta { service } => match attr {
                "client" => ValueSet::one(Value::Client { service: service.clone(), origin: Origin::ResourceMetaClient }),
                _ => ValueSet::empty(),
            },
            Value::Collection { .. }
            | Value::Paginator { .. }
            | Value::PageIterator { .. }
            | Value::Waiter { .. }
            | Value::BatchWriter { .. } => method(obj),
            Value::Opaque(what) => ValueSet::one(Value::Opaque(what)),
            Value::Module(m) => {
                let mut v = self.get_named(NamedAt::Env(*m), attr);
                let sub = format!("{}.{}", self.modules[*m].name, attr);
                if let Some(&sm) = self.by_name.get(sub.as_str()) {
                    v.insert(Value::Module(sm));
                }
                v
            }
            Value::Instance(c) => self.instance_attribute(fr, *c, attr, true),
            Value::Class(c) => self.instance_attribute(fr, *c, attr, false),
            Value::Str(_)
            | Value::ClientFactory(_)
            | Value::ResourceFactory(_)
            | Value::SessionClass
            | Value::Method { .. }
            | Value::Function(_)
            | Value::BoundMethod { .. }
            | Value::Tuple(_) => ValueSet::empty(),
        }
    }

    fn instance_attribute(&mut self, fr: &mut Frame, c: DefRef, attr: &str, bound: bool) -> ValueSet {
        let class = self.class(c);
        let mut out = self.get_named(NamedAt::ClassAttrs(c), attr);
        for &mi in &class.methods {
            let f = &self.ir(c.module).functions[mi];
            if f.name != attr {
                continue;
            }
            let fref = DefRef { module: c.module, index: mi };
            if f.is_property && bound {
                // Reading a property runs its getter.
                self.edge(fr, fref);
                self.read(self.sums.return_cells[c.module][mi]);
                out.union(&self.sums.returns[c.module][mi].clone());
            } else if bound && !f.is_static {
                out.insert(Value::BoundMethod { func: fref, instance: c });
            } else {
                out.insert(Value::Function(fref));
            }
        }
        out
    }

    // ----- calls -----------------------------------------------------------

    fn call_value(&mut self, fr: &mut Frame, callee: &Value, args: &[(Option<&str>, ValueSet, bool)], passed: &Passed, range: TextRange) -> ValueSet {
        match callee {
            Value::Function(f) => self.call_function(fr, *f, None, args),
            Value::BoundMethod { func, instance } => {
                self.call_function(fr, *func, Some(Value::Instance(*instance)), args)
            }
            Value::Class(c) => {
                let class = self.class(*c);
                let init = class.methods.iter().copied().find(|&mi| self.ir(c.module).functions[mi].name == "__init__");
                if let Some(mi) = init {
                    self.call_function(fr, DefRef { module: c.module, index: mi }, Some(Value::Instance(*c)), args);
                }
                ValueSet::one(Value::Instance(*c))
            }
            Value::ClientFactory(origin) => self.create_client(fr, *origin, args, range),
            Value::ResourceFactory(origin) => self.create_resource(fr, *origin, args, range),
            Value::SessionClass => ValueSet::one(Value::Session),
            Value::Method { recv, name } => self.call_method(fr, recv, name, args, passed, range),
            Value::Opaque(what) => {
                self.unresolved(fr, range, format!("calls a boto3 value held in {what}, which is not tracked"));
                ValueSet::empty()
            }
            _ => ValueSet::empty(),
        }
    }

    fn call_function(
        &mut self,
        fr: &mut Frame,
        f: DefRef,
        self_value: Option<Value>,
        args: &[(Option<&str>, ValueSet, bool)],
    ) -> ValueSet {
        self.edge(fr, f);
        let func = self.func(f);
        let mut positional = args.iter().filter(|(k, _, star)| k.is_none() && !star).map(|(_, v, _)| v);
        let mut bound: Vec<(usize, ValueSet)> = Vec::new();
        let mut first = true;
        for (i, p) in func.params.iter().enumerate() {
            if first && self_value.is_some() && p.kind == ParamKind::Positional {
                first = false;
                continue; // `self` is bound when the body is evaluated
            }
            first = false;
            match p.kind {
                ParamKind::Positional => {
                    if let Some(v) = positional.next() {
                        bound.push((i, v.clone()));
                    } else if let Some((_, v, _)) = args.iter().find(|(k, _, _)| *k == Some(p.name.as_str())) {
                        bound.push((i, v.clone()));
                    }
                }
                ParamKind::KeywordOnly => {
                    if let Some((_, v, _)) = args.iter().find(|(k, _, _)| *k == Some(p.name.as_str())) {
                        bound.push((i, v.clone()));
                    }
                }
                ParamKind::VarArgs | ParamKind::VarKeywords => {}
            }
        }
        for (i, v) in bound {
            self.contributed |= !v.is_empty();
            if self.sums.params[f.module][f.index][i].union(&v) {
                self.changed = true;
                self.stamp(self.sums.param_cells[f.module][f.index]);
            }
        }
        self.read(self.sums.return_cells[f.module][f.index]);
        self.sums.returns[f.module][f.index].clone()
    }

    fn edge(&mut self, fr: &Frame, to: DefRef) {
        let from = (fr.module, fr.func.map(|f| self.ir(fr.module).functions[f].qualname.to_string()).unwrap_or_default());
        let to = (to.module, self.func(to).qualname.to_string());
        self.edges.push((from, to));
    }

    /// The service name of `boto3.client(...)` / `.resource(...)`.
    fn service_arg<'v>(args: &'v [(Option<&str>, ValueSet, bool)]) -> (Option<&'v ValueSet>, bool) {
        if let Some((_, v, _)) = args.iter().find(|(k, _, star)| k.is_none() && !star) {
            return (Some(v), false);
        }
        if let Some((_, v, _)) = args.iter().find(|(k, _, _)| *k == Some("service_name")) {
            return (Some(v), true);
        }
        (None, false)
    }

    fn create_client(&mut self, fr: &mut Frame, origin: Origin, args: &[(Option<&str>, ValueSet, bool)], range: TextRange) -> ValueSet {
        let (arg, keyword) = Self::service_arg(args);
        let origin = if keyword && origin == Origin::Boto3Client { Origin::Boto3ClientKeyword } else { origin };
        let names: Vec<Arc<str>> = arg.map(|a| a.strings().cloned().collect()).unwrap_or_default();
        if names.is_empty() {
            self.unresolved(fr, range, "creates a client whose service name is not a string constant".into());
            return ValueSet::one(Value::Opaque("a client of an unknown service"));
        }
        let mut out = ValueSet::empty();
        for n in names {
            if model::service(&n).is_some() {
                out.insert(Value::Client { service: n, origin });
            } else {
                self.unresolved(fr, range, format!("creates a client for '{n}', which is not a boto3 service"));
            }
        }
        out
    }

    fn create_resource(&mut self, fr: &mut Frame, origin: Origin, args: &[(Option<&str>, ValueSet, bool)], range: TextRange) -> ValueSet {
        let (arg, _) = Self::service_arg(args);
        let names: Vec<Arc<str>> = arg.map(|a| a.strings().cloned().collect()).unwrap_or_default();
        if names.is_empty() {
            self.unresolved(fr, range, "creates a resource whose service name is not a string constant".into());
            return ValueSet::one(Value::Opaque("a resource of an unknown service"));
        }
        let mut out = ValueSet::empty();
        for n in names {
            if model::resource_model(&n).is_some() {
                out.insert(Value::ServiceResource { service: n, origin });
            } else {
                self.unresolved(fr, range, format!("boto3 has no resource API for '{n}'"));
            }
        }
        out
    }

    #[allow(clippy::too_many_arguments)]
    fn call_method(
        &mut self,
        fr: &mut Frame,
        recv: &Value,
        name: &str,
        args: &[(Option<&str>, ValueSet, bool)],
        passed: &Passed,
        range: TextRange,
    ) -> ValueSet {
        match recv {
            Value::Client { service, origin } => self.client_method(fr, service, *origin, name, args, passed, range),
            Value::Paginator { service, name: pname } if name == "paginate" => {
                let passed = (!passed.splat).then(|| passed.names.iter().map(|n| rc(n)).collect());
                ValueSet::one(Value::PageIterator { service: service.clone(), name: pname.clone(), passed })
            }
            Value::PageIterator { service, name: pname, passed } => {
                if matches!(name, "build_full_result" | "search" | "result_key_iters") {
                    self.page_fact(fr, service, pname, passed, range);
                }
                ValueSet::empty()
            }
            Value::Waiter { service, name: wname } if name == "wait" => {
                if let Some(op) = model::service(service).and_then(|s| s.waiter_operation(wname)) {
                    self.fact(fr, range, service, Construct::Waiter { name: wname.to_string() }, Origin::Boto3Client, vec![op.to_string()], Vec::new(), None);
                }
                ValueSet::empty()
            }
            Value::ServiceResource { service, origin } => self.service_resource_method(fr, service, *origin, name, passed, range),
            Value::Resource { service, rtype, loaded } => self.resource_method(fr, service, rtype, *loaded, name, passed, range),
            Value::Collection { service, owner, name: cname } => {
                let Some(c) = collection_model(service, owner, cname) else { return ValueSet::empty() };
                match name {
                    // boto3 pages a collection with PaginationConfig
                    // PageSize; botocore raises PaginationError, before
                    // sending, when the paginator has no page-size parameter
                    // (sns topics): iterating it sends nothing.
                    "page_size" if !model::service(service).is_some_and(|s| s.page_size_supported(&c.op)) => ValueSet::empty(),
                    "all" | "filter" | "limit" | "page_size" | "pages" | "iterator" => ValueSet::one(recv.clone()),
                    _ => {
                        if let Some(op) = c.batch.get(name) {
                            // A batch action lists the collection, then acts
                            // on each page of results.
                            self.fact(
                                fr,
                                range,
                                service,
                                Construct::BatchAction { resource: owner_label(owner), collection: cname.to_string(), action: name.to_string() },
                                Origin::Resource,
                                vec![c.op.clone(), op.clone()],
                                Vec::new(),
                                Some(passed),
                            );
                        } else {
                            self.unresolved(fr, range, format!("the {service} collection '{cname}' has no method '{name}'"));
                        }
                        ValueSet::empty()
                    }
                }
            }
            // BatchWriter.put_item / delete_item buffer; the request is the
            // batch_writer() call's.
            Value::BatchWriter { .. } => ValueSet::empty(),
            _ => ValueSet::empty(),
        }
    }

    fn client_method(
        &mut self,
        fr: &mut Frame,
        service: &Arc<str>,
        origin: Origin,
        name: &str,
        args: &[(Option<&str>, ValueSet, bool)],
        passed: &Passed,
        range: TextRange,
    ) -> ValueSet {
        let Some(svc) = model::service(service) else { return ValueSet::empty() };
        let first_str = |key: &str| -> Vec<Arc<str>> {
            args.iter()
                .find(|(k, _, star)| (k.is_none() && !star) || *k == Some(key))
                .map(|(_, v, _)| v.strings().cloned().collect())
                .unwrap_or_default()
        };
        match name {
            "get_paginator" | "get_waiter" => {
                let names = first_str(if name == "get_paginator" { "operation_name" } else { "waiter_name" });
                if names.is_empty() {
                    self.unresolved(fr, range, format!("{name} with a name that is not a string constant"));
                    return ValueSet::empty();
                }
                let mut out = ValueSet::empty();
                for n in names {
                    let known = if name == "get_paginator" { svc.paginator_operation(&n).is_some() } else { svc.waiter_operation(&n).is_some() };
                    if !known {
                        self.unresolved(fr, range, format!("{service} has no {} named '{n}'", if name == "get_paginator" { "paginator" } else { "waiter" }));
                    } else if name == "get_paginator" {
                        out.insert(Value::Paginator { service: service.clone(), name: n });
                    } else {
                        out.insert(Value::Waiter { service: service.clone(), name: n });
                    }
                }
                out
            }
            "generate_presigned_url" => {
                let methods = first_str("ClientMethod");
                for m in methods {
                    if let Some(op) = svc.operation_for_method(&m) {
                        self.fact(fr, range, service, Construct::Presigned { method: m.to_string() }, origin, vec![op.name.to_string()], Vec::new(), None);
                    } else {
                        self.unresolved(fr, range, format!("presigns '{m}', which is not a {service} method"));
                    }
                }
                ValueSet::empty()
            }
            "generate_presigned_post" if &**service == "s3" => {
                self.fact(fr, range, service, Construct::Presigned { method: name.to_string() }, origin, vec!["PutObject".to_string()], Vec::new(), None);
                ValueSet::empty()
            }
            "can_paginate" | "close" => ValueSet::empty(),
            _ => {
                if let Some(inj) = svc.injected_method(name) {
                    let ops = inj.operations.iter().map(|s| s.to_string()).collect();
                    let cond = inj.conditional.iter().map(|s| s.to_string()).collect();
                    // An injected method's arguments are not the operations'
                    // parameters (upload_file's ExtraArgs).
                    self.fact(fr, range, service, Construct::ClientInjected { method: name.to_string() }, origin, ops, cond, None);
                } else if let Some(op) = svc.operation_for_method(name) {
                    let op = op.name.to_string();
                    self.fact(fr, range, service, Construct::ClientMethod { method: name.to_string() }, origin, vec![op], Vec::new(), Some(passed));
                } else {
                    self.unresolved(fr, range, format!("the {service} client has no method '{name}'"));
                }
                ValueSet::empty()
            }
        }
    }

    fn service_resource_method(&mut self, fr: &mut Frame, service: &Arc<str>, origin: Origin, name: &str, passed: &Passed, range: TextRange) -> ValueSet {
        let Some(model) = model::resource_model(service) else { return ValueSet::empty() };
        let sr = &model.service;
        if let Some(t) = sr.has.get(name) {
            return ValueSet::one(Value::Resource { service: service.clone(), rtype: rc(t), loaded: false });
        }
        if let Some(a) = sr.actions.get(name) {
            self.fact(
                fr,
                range,
                service,
                Construct::ResourceAction { resource: "ServiceResource".into(), action: name.to_string() },
                origin,
                vec![a.op.clone()],
                Vec::new(),
                Some(passed),
            );
            return action_result(service, a);
        }
        if let Some(inj) = sr.injected.get(name) {
            self.fact(
                fr,
                range,
                service,
                Construct::ResourceInjected { resource: "ServiceResource".into(), method: name.to_string() },
                origin,
                inj.ops.clone(),
                inj.conditional.clone(),
                None,
            );
            return ValueSet::empty();
        }
        if name == "get_available_subresources" {
            return ValueSet::empty();
        }
        self.unresolved(fr, range, format!("the {service} service resource has no method '{name}'"));
        ValueSet::empty()
    }

    #[allow(clippy::too_many_arguments)]
    fn resource_method(
        &mut self,
        fr: &mut Frame,
        service: &Arc<str>,
        rtype: &Arc<str>,
        loaded: bool,
        name: &str,
        passed: &Passed,
        range: TextRange,
    ) -> ValueSet {
        let Some(res) = model::resource_model(service).and_then(|m| m.resources.get(&**rtype)) else {
            return ValueSet::empty();
        };
        if let Some(t) = res.subresources.get(name) {
            return ValueSet::one(Value::Resource { service: service.clone(), rtype: rc(t), loaded: false });
        }
        if let Some(inj) = res.injected.get(name) {
            self.fact(
                fr,
                range,
                service,
                Construct::ResourceInjected { resource: rtype.to_string(), method: name.to_string() },
                Origin::Resource,
                inj.ops.clone(),
                inj.conditional.clone(),
                None,
            );
            return if name == "batch_writer" { ValueSet::one(Value::BatchWriter { service: service.clone() }) } else { ValueSet::empty() };
        }
        if let Some(a) = res.actions.get(name) {
            // A parameter from the resource's data loads it first.
            let mut ops = Vec::new();
            if a.loads_first && !loaded {
                ops.extend(res.load.iter().cloned());
            }
            ops.push(a.op.clone());
            self.fact(
                fr,
                range,
                service,
                Construct::ResourceAction { resource: rtype.to_string(), action: name.to_string() },
                Origin::Resource,
                ops,
                Vec::new(),
                Some(passed),
            );
            return action_result(service, a);
        }
        if let Some(waiter) = res.waiters.get(name) {
            if let Some(op) = model::service(service).and_then(|s| s.waiter_operation_by_model_name(waiter)) {
                self.fact(fr, range, service, Construct::Waiter { name: name.to_string() }, Origin::Resource, vec![op.to_string()], Vec::new(), None);
            }
            return ValueSet::empty();
        }
        if name == "load" || name == "reload" {
            if res.load.is_some() {
                self.load_fact(fr, service, rtype, None, range);
            } else {
                self.unresolved(fr, range, format!("{rtype} resources cannot be loaded"));
            }
            return ValueSet::empty();
        }
        if name == "get_available_subresources" {
            return ValueSet::empty();
        }
        self.unresolved(fr, range, format!("the {service} {rtype} resource has no method '{name}'"));
        ValueSet::empty()
    }

    fn page_fact(&mut self, fr: &mut Frame, service: &Arc<str>, name: &Arc<str>, passed: &Option<Arc<[Arc<str>]>>, range: TextRange) {
        if let Some(op) = model::service(service).and_then(|s| s.paginator_operation(name)) {
            let passed = passed.as_ref().map(|names| Passed { names: names.iter().map(|n| &**n).collect(), splat: false });
            self.fact(fr, range, service, Construct::Paginator { name: name.to_string() }, Origin::Boto3Client, vec![op.to_string()], Vec::new(), passed.as_ref());
        }
    }

    fn load_fact(&mut self, fr: &mut Frame, service: &Arc<str>, rtype: &Arc<str>, attribute: Option<&str>, range: TextRange) {
        let Some(res) = model::resource_model(service).and_then(|m| m.resources.get(&**rtype)) else { return };
        // Bucket has no model `load`; boto3 injects one that lists buckets.
        let (ops, cond) = match (&res.load, res.injected.get("load")) {
            (Some(op), _) => (vec![op.clone()], Vec::new()),
            (None, Some(inj)) => (inj.ops.clone(), inj.conditional.clone()),
            (None, None) => return,
        };
        self.fact(
            fr,
            range,
            service,
            Construct::ResourceLoad { resource: rtype.to_string(), attribute: attribute.map(str::to_string) },
            Origin::Resource,
            ops,
            cond,
            None,
        );
    }

    // ----- output --------------------------------------------------------

    #[allow(clippy::too_many_arguments)]
    fn fact(
        &mut self,
        fr: &Frame,
        range: TextRange,
        service: &str,
        construct: Construct,
        origin: Origin,
        operations: Vec<String>,
        conditional_operations: Vec<String>,
        passed: Option<&Passed>,
    ) {
        let svc = model::service(service);
        let mut actions = BTreeSet::new();
        let mut unmapped = Vec::new();
        for op in operations.iter().chain(&conditional_operations) {
            let acts = svc.map(|s| s.actions_of(op)).unwrap_or(&[]);
            if acts.is_empty() {
                unmapped.push(op.clone());
            }
            actions.extend(acts.iter().map(|a| a.to_string()));
        }
        let mut dependent_actions: Vec<&'static model::DependentAction> = Vec::new();
        for op in operations.iter().chain(&conditional_operations) {
            for d in model::dependent_actions(service, op) {
                let applies = match (d.when_param, passed) {
                    (Some(param), Some(p)) => p.may_pass(param),
                    _ => true,
                };
                if applies && !dependent_actions.contains(&d) {
                    dependent_actions.push(d);
                }
            }
        }
        let function = fr.func.map(|f| self.ir(fr.module).functions[f].qualname.to_string());
        self.facts.push(CallFact {
            range,
            details: Arc::new(CallDetails {
                service: service.to_string(),
                construct,
                origin,
                operations,
                conditional_operations,
                actions: actions.into_iter().collect(),
                unmapped_operations: unmapped,
                dependent_actions,
                function,
            }),
        });
    }

    fn unresolved(&mut self, fr: &Frame, range: TextRange, reason: String) {
        let function = fr.func.map(|f| self.ir(fr.module).functions[f].qualname.to_string());
        self.unresolved.push(UnresolvedCall { range, reason, function });
    }
}

/// The value a resource action returns: a resource, a list of them, or
/// nothing of interest.
fn action_result(service: &Arc<str>, a: &model::ResourceAction) -> ValueSet {
    let Some(t) = &a.returns else { return ValueSet::empty() };
    let r = ValueSet::one(Value::Resource { service: service.clone(), rtype: rc(t), loaded: a.returns_loaded });
    if a.returns_list {
        ValueSet::one(Value::Tuple(vec![r].into()))
    } else {
        r
    }
}

fn owner_label(owner: &str) -> String {
    if owner.is_empty() { "ServiceResource".to_string() } else { owner.to_string() }
}

fn collection_model(service: &str, owner: &str, name: &str) -> Option<&'static model::CollectionModel> {
    let m = model::resource_model(service)?;
    if owner.is_empty() {
        m.service.collections.get(name)
    } else {
        m.resources.get(owner)?.collections.get(name)
    }
}

fn join_into(into: &mut HashMap<Name, ValueSet>, other: HashMap<Name, ValueSet>) {
    for (k, v) in other {
        into.entry(k).or_default().union(&v);
    }
}

/// The keyword arguments a call passes, for dependent actions that apply
/// only when a parameter is passed (`WithDecryption=True`, `Role=...`).
pub(super) struct Passed<'a> {
    /// Keywords passed with a value other than a literal `None` or `False`.
    names: Vec<&'a str>,
    /// A `**kwargs` argument may pass anything.
    splat: bool,
}

impl<'a> Passed<'a> {
    fn of(args: &'a [Arg]) -> Self {
        let mut p = Passed { names: Vec::new(), splat: false };
        for a in args {
            match a {
                Arg::Keyword(k, e) if !matches!(e.kind, ExprKind::None | ExprKind::False) => p.names.push(k),
                Arg::StarStar(_) => p.splat = true,
                _ => {}
            }
        }
        p
    }

    fn may_pass(&self, param: &str) -> bool {
        self.splat || self.names.contains(&param)
    }
}
