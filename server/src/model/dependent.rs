//! Dependent actions: a second IAM action some calls need beyond their
//! own, depending on how the resource they touch is set up (`kms:Decrypt`
//! to read an SSE-KMS object) or on a parameter (`iam:PassRole` for a call
//! that hands a role to a service). Generated from the `DEPENDENT` table of
//! `tools/gen_model.py`, where each row names its source. They are hints:
//! the analysis reports them beside a call's actions, never among them.

use std::collections::HashMap;
use std::sync::OnceLock;

use serde::Serialize;

static DEPENDENT_TXT: &str = include_str!("data/dependent.txt");

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DependentAction {
    pub client: &'static str,
    pub operation: &'static str,
    /// The IAM action, e.g. `kms:Decrypt`.
    pub action: &'static str,
    /// `Some(param)`: only for calls that pass this keyword argument
    /// (`WithDecryption`); `None`: for every call (the reason says on what
    /// it depends).
    pub when_param: Option<&'static str>,
    /// Why, for the user: "if the object is encrypted with an AWS KMS key"
    /// (it may be needed) or "on the execution role it passes to Lambda
    /// (Role)" (it is needed).
    pub reason: &'static str,
    /// Where this is documented.
    pub source: &'static str,
}

impl DependentAction {
    /// Whether the action is needed for certain (the call passes a role),
    /// not only when the resource is set up in some way.
    pub fn is_certain(&self) -> bool {
        self.reason.starts_with("on ")
    }
}

/// Every row of the table, in file order.
pub fn all_dependent_actions() -> &'static [DependentAction] {
    static ROWS: OnceLock<Vec<DependentAction>> = OnceLock::new();
    ROWS.get_or_init(|| {
        super::records(DEPENDENT_TXT)
            .filter_map(|line| {
                let mut cols = line.split('\t');
                let (head, reason, source) = (cols.next()?, cols.next()?, cols.next()?);
                let mut f = head.split(' ');
                let (client, operation, action, when) = (f.next()?, f.next()?, f.next()?, f.next()?);
                Some(DependentAction { client, operation, action, when_param: when.strip_prefix("if:"), reason, source })
            })
            .collect()
    })
}

/// The dependent actions of one operation (a map lookup: the analysis asks
/// for every operation of every call).
pub fn dependent_actions<'a>(client: &'a str, operation: &'a str) -> impl Iterator<Item = &'static DependentAction> + 'a {
    type Index = HashMap<&'static str, HashMap<&'static str, Vec<&'static DependentAction>>>;
    static INDEX: OnceLock<Index> = OnceLock::new();
    let index = INDEX.get_or_init(|| {
        let mut index: Index = HashMap::new();
        for d in all_dependent_actions() {
            index.entry(d.client).or_default().entry(d.operation).or_default().push(d);
        }
        index
    });
    index.get(client).and_then(|ops| ops.get(operation)).into_iter().flatten().copied()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rows_parse_and_name_real_operations_and_actions() {
        let rows = all_dependent_actions();
        assert!(rows.len() >= 30, "only {} rows", rows.len());
        for d in rows {
            let svc = super::super::service(d.client).unwrap_or_else(|| panic!("{}: no such client", d.client));
            assert!(svc.operation(d.operation).is_some(), "{} has no {}", d.client, d.operation);
            assert!(super::super::is_known_action(d.action), "{} is not an IAM action", d.action);
            assert!(!d.source.is_empty(), "{} {} {}: no source", d.client, d.operation, d.action);
            assert!(d.reason.starts_with("if ") || d.reason.starts_with("on "), "{} {} {}: {}", d.client, d.operation, d.action, d.reason);
            assert_eq!(d.is_certain(), d.action == "iam:PassRole" && d.client != "events", "{} {}", d.client, d.operation);
        }
        let get: Vec<_> = dependent_actions("ssm", "GetParameter").collect();
        assert_eq!(get.len(), 1);
        assert_eq!((get[0].action, get[0].when_param), ("kms:Decrypt", Some("WithDecryption")));
        // StartExecution runs a state machine with its own role: nothing is passed.
        assert_eq!(dependent_actions("stepfunctions", "StartExecution").count(), 0);
        assert_eq!(dependent_actions("lambda", "CreateFunction").next().unwrap().action, "iam:PassRole");
    }
}
