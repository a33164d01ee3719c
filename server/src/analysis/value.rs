//! What a Python expression may hold, as far as boto3 is concerned.

use std::sync::Arc;

use super::facts::Origin;

/// A function or class defined in module `module` of the project.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct DefRef {
    pub module: usize,
    pub index: usize,
}

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Value {
    /// A string constant (service names, waiter names, ClientMethod=...).
    Str(Arc<str>),
    /// The `boto3` module (however it was imported).
    Boto3Module,
    /// The `boto3.session` module.
    Boto3SessionModule,
    /// `boto3.client`, `session.client`, `from boto3 import client`.
    ClientFactory(Origin),
    /// `boto3.resource`, `session.resource`.
    ResourceFactory(Origin),
    /// `boto3.Session` / `boto3.session.Session`.
    SessionClass,
    Session,
    /// A low-level client. An empty service means the service name could
    /// not be worked out.
    Client { service: Arc<str>, origin: Origin },
    /// `boto3.resource(service)`.
    ServiceResource { service: Arc<str>, origin: Origin },
    /// A resource of type `rtype` (`Table`, `Bucket`, `ObjectSummary`).
    /// `loaded` when it was built with its data (a collection item), so
    /// reading an attribute sends nothing.
    Resource { service: Arc<str>, rtype: Arc<str>, loaded: bool },
    /// A collection: `owner` is the resource type, or empty for the service
    /// resource; `name` is the collection attribute (`objects`).
    Collection { service: Arc<str>, owner: Arc<str>, name: Arc<str> },
    Paginator { service: Arc<str>, name: Arc<str> },
    /// What `paginator.paginate(...)` returns: requests are sent when it is
    /// iterated (or `build_full_result()` / `search()` is called).
    /// `passed`: the keyword arguments of `paginate(...)` (`None` with a
    /// `**kwargs`), which go to every page's request.
    PageIterator { service: Arc<str>, name: Arc<str>, passed: Option<Arc<[Arc<str>]>> },
    Waiter { service: Arc<str>, name: Arc<str> },
    /// What `table.batch_writer()` returns.
    BatchWriter { service: Arc<str> },
    /// `resource.meta`.
    ResourceMeta { service: Arc<str> },
    /// A method of a boto3 object, looked up but not called yet.
    Method { recv: Arc<Value>, name: Arc<str> },
    Function(DefRef),
    /// A method bound to an instance (`self.save`).
    BoundMethod { func: DefRef, instance: DefRef },
    Class(DefRef),
    Instance(DefRef),
    Module(usize),
    /// A tuple of values, for unpacking.
    Tuple(Arc<[ValueSet]>),
    /// A boto3 value stored somewhere we do not track (a dict, a list
    /// element, a `getattr`). Calls on it are reported as unresolved.
    Opaque(&'static str),
}

impl Value {
    /// Whether the value is (or contains) something from boto3.
    pub fn is_boto3(&self) -> bool {
        match self {
            Value::Str(_)
            | Value::Function(_)
            | Value::BoundMethod { .. }
            | Value::Class(_)
            | Value::Instance(_)
            | Value::Module(_) => false,
            Value::Tuple(items) => items.iter().any(|s| s.iter().any(Value::is_boto3)),
            _ => true,
        }
    }
}

/// Cap on the alternatives one expression may hold; beyond it new
/// alternatives are dropped (keeps pathological code linear).
const MAX_ALTERNATIVES: usize = 12;

std::thread_local! {
    /// Whether a set was full and dropped a value since [`take_dropped`].
    static DROPPED: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
}

/// Whether a value was dropped from a full set on this thread since the last
/// call. A unit that dropped one may give other units values with smaller
/// summaries that it does not give with the final ones: the evaluation is
/// not monotone there, and its run cannot vouch for its smaller runs.
pub fn take_dropped() -> bool {
    DROPPED.with(|d| d.replace(false))
}

/// A small set of alternatives; empty means "unknown / not boto3".
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash)]
pub struct ValueSet(Vec<Value>);

impl ValueSet {
    pub fn empty() -> Self {
        ValueSet(Vec::new())
    }

    pub fn one(v: Value) -> Self {
        ValueSet(vec![v])
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    pub fn iter(&self) -> std::slice::Iter<'_, Value> {
        self.0.iter()
    }

    /// Adds `v`; returns whether the set grew.
    pub fn insert(&mut self, v: Value) -> bool {
        if self.0.contains(&v) {
            return false;
        }
        if self.0.len() >= MAX_ALTERNATIVES {
            DROPPED.with(|d| d.set(true));
            return false;
        }
        self.0.push(v);
        true
    }

    /// Adds every value of `other`; returns whether the set grew.
    pub fn union(&mut self, other: &ValueSet) -> bool {
        let mut grew = false;
        for v in &other.0 {
            grew |= self.insert(v.clone());
        }
        grew
    }

    pub fn strings(&self) -> impl Iterator<Item = &Arc<str>> {
        self.0.iter().filter_map(|v| if let Value::Str(s) = v { Some(s) } else { None })
    }

    pub fn has_boto3(&self) -> bool {
        self.0.iter().any(Value::is_boto3)
    }
}

impl FromIterator<Value> for ValueSet {
    fn from_iter<I: IntoIterator<Item = Value>>(iter: I) -> Self {
        let mut s = ValueSet::empty();
        for v in iter {
            s.insert(v);
        }
        s
    }
}

impl<'a> IntoIterator for &'a ValueSet {
    type Item = &'a Value;
    type IntoIter = std::slice::Iter<'a, Value>;
    fn into_iter(self) -> Self::IntoIter {
        self.0.iter()
    }
}
