//! botocore services: client name, IAM prefix, operations with their boto3
//! method names and IAM actions, paginators, waiters, and the client methods
//! boto3 injects (s3 transfer).

use std::collections::HashMap;
use std::sync::OnceLock;

static SERVICES_TXT: &str = include_str!("data/services.txt");

/// One botocore operation as a boto3 client exposes it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Operation {
    /// botocore's operation name, e.g. `ListObjectsV2`.
    pub name: &'static str,
    /// The client method, e.g. `list_objects_v2`.
    pub method: &'static str,
    /// IAM actions the operation needs; empty when no catalogue action is
    /// known for it (reported as unresolved, never guessed).
    pub actions: Vec<&'static str>,
}

/// A client method boto3 adds on top of the service model (s3 transfer).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InjectedClientMethod {
    pub method: &'static str,
    /// Operations sent on every call.
    pub operations: Vec<&'static str>,
    /// Operations sent depending on size or failure (multipart transfers).
    pub conditional: Vec<&'static str>,
}

#[derive(Debug)]
pub struct ServiceModel {
    /// The name passed to `boto3.client(...)`, e.g. `stepfunctions`.
    pub client_name: &'static str,
    /// The IAM prefix, e.g. `states`; `None` when IAM has no such service.
    pub iam_prefix: Option<&'static str>,
    operations: Vec<Operation>,
    by_method: HashMap<&'static str, usize>,
    by_name: HashMap<&'static str, usize>,
    paginators: HashMap<&'static str, &'static str>,
    /// Operations whose paginator has no page-size parameter.
    paginated_without_page_size: Vec<&'static str>,
    waiters: HashMap<&'static str, &'static str>,
    waiters_by_model_name: HashMap<String, &'static str>,
    injected: Vec<InjectedClientMethod>,
}

impl ServiceModel {
    pub fn operations(&self) -> &[Operation] {
        &self.operations
    }

    /// The operation behind a client method (`scan` → `Scan`).
    pub fn operation_for_method(&self, method: &str) -> Option<&Operation> {
        self.by_method.get(method).map(|&i| &self.operations[i])
    }

    /// An operation by its botocore name (`Scan`).
    pub fn operation(&self, name: &str) -> Option<&Operation> {
        self.by_name.get(name).map(|&i| &self.operations[i])
    }

    /// `client.get_paginator(name)` → the operation it pages through.
    pub fn paginator_operation(&self, name: &str) -> Option<&'static str> {
        self.paginators.get(name).copied()
    }

    /// Whether paging through `operation` with a page size works: true
    /// unless botocore pages it with a paginator that has no page-size
    /// parameter (then `PaginationConfig={'PageSize': n}`, which boto3's
    /// `collection.page_size(n)` passes, raises before sending anything).
    pub fn page_size_supported(&self, operation: &str) -> bool {
        !self.paginated_without_page_size.contains(&operation)
    }

    /// `client.get_waiter(name)` → the operation it polls.
    pub fn waiter_operation(&self, name: &str) -> Option<&'static str> {
        self.waiters.get(name).copied()
    }

    /// A waiter by its model name (`TableExists`), as resource models name it.
    pub fn waiter_operation_by_model_name(&self, name: &str) -> Option<&'static str> {
        self.waiters_by_model_name.get(name).copied()
    }

    pub fn paginator_names(&self) -> impl Iterator<Item = &'static str> + '_ {
        let mut v: Vec<_> = self.paginators.keys().copied().collect();
        v.sort_unstable();
        v.into_iter()
    }

    pub fn waiter_names(&self) -> impl Iterator<Item = &'static str> + '_ {
        let mut v: Vec<_> = self.waiters.keys().copied().collect();
        v.sort_unstable();
        v.into_iter()
    }

    pub fn injected_method(&self, method: &str) -> Option<&InjectedClientMethod> {
        self.injected.iter().find(|m| m.method == method)
    }

    pub fn injected_methods(&self) -> &[InjectedClientMethod] {
        &self.injected
    }

    /// IAM actions of an operation by botocore name; empty if unknown.
    pub fn actions_of(&self, operation: &str) -> &[&'static str] {
        self.operation(operation).map(|o| o.actions.as_slice()).unwrap_or(&[])
    }
}

/// A service: its body is the byte range `start..end` of the text, sliced
/// only when the service is first asked for. Even checking a slice's bounds
/// reads the text there, and the language server would then keep most of
/// the 1.8 MB resident.
struct Entry {
    name: &'static str,
    prefix: Option<&'static str>,
    start: usize,
    end: usize,
    parsed: OnceLock<ServiceModel>,
}

include!(concat!(env!("OUT_DIR"), "/services_index.rs"));

fn index() -> &'static Vec<Entry> {
    static INDEX: OnceLock<Vec<Entry>> = OnceLock::new();
    INDEX.get_or_init(|| {
        // The build script found the `S ` header lines; the bodies between
        // them are parsed only when a service is first asked for.
        SERVICE_INDEX
            .iter()
            .map(|&(name, prefix, start, end)| Entry { name, prefix, start, end, parsed: OnceLock::new() })
            .collect()
    })
}

fn parse(entry: &Entry) -> ServiceModel {
    let mut model = ServiceModel {
        client_name: entry.name,
        iam_prefix: entry.prefix,
        operations: Vec::new(),
        by_method: HashMap::new(),
        by_name: HashMap::new(),
        paginators: HashMap::new(),
        paginated_without_page_size: Vec::new(),
        waiters: HashMap::new(),
        waiters_by_model_name: HashMap::new(),
        injected: Vec::new(),
    };
    let list = |s: &'static str| -> Vec<&'static str> {
        if s == "-" {
            Vec::new()
        } else {
            s.split(',').collect()
        }
    };
    for line in SERVICES_TXT[entry.start..entry.end].lines() {
        let mut f = line.split(' ');
        match f.next() {
            Some("O") => {
                let (Some(name), Some(method), Some(actions)) = (f.next(), f.next(), f.next()) else {
                    continue;
                };
                let i = model.operations.len();
                model.operations.push(Operation { name, method, actions: list(actions) });
                model.by_method.insert(method, i);
                model.by_name.insert(name, i);
            }
            Some("P") => {
                if let (Some(m), Some(op)) = (f.next(), f.next()) {
                    model.paginators.insert(m, op);
                    if f.next() == Some("-") {
                        model.paginated_without_page_size.push(op);
                    }
                }
            }
            Some("W") => {
                if let (Some(m), Some(op)) = (f.next(), f.next()) {
                    model.waiters.insert(m, op);
                    model.waiters_by_model_name.insert(snake_to_camel(m), op);
                }
            }
            Some("I") => {
                if let (Some(m), Some(ops)) = (f.next(), f.next()) {
                    model.injected.push(InjectedClientMethod {
                        method: m,
                        operations: list(ops),
                        conditional: f.next().map(list).unwrap_or_default(),
                    });
                }
            }
            _ => {}
        }
    }
    model
}

/// `table_exists` → `TableExists` (waiter model names are CamelCase words).
fn snake_to_camel(s: &str) -> String {
    s.split('_')
        .map(|w| {
            let mut c = w.chars();
            c.next().map(|f| f.to_ascii_uppercase().to_string() + c.as_str()).unwrap_or_default()
        })
        .collect()
}

/// The botocore service a boto3 client name refers to.
pub fn service(client_name: &str) -> Option<&'static ServiceModel> {
    let entries = index();
    let i = entries.binary_search_by(|e| e.name.cmp(client_name)).ok()?;
    let e = &entries[i];
    Some(e.parsed.get_or_init(|| parse(e)))
}

/// Every client name botocore knows, sorted.
pub fn all_client_names() -> impl Iterator<Item = &'static str> {
    index().iter().map(|e| e.name)
}

pub(crate) fn header_versions() -> &'static str {
    SERVICES_TXT.lines().nth(1).and_then(|l| l.strip_prefix("# ")).unwrap_or("")
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The build script's index: one entry per `S ` header line, each body
    /// everything from the line after its header up to the next header.
    #[test]
    fn the_index_holds_every_service_and_its_whole_body() {
        let headers: Vec<(usize, &str)> = SERVICES_TXT.match_indices("S ").filter(|&(at, _)| at == 0 || SERVICES_TXT.as_bytes()[at - 1] == b'\n').collect();
        assert_eq!(headers.len(), SERVICE_INDEX.len());
        for (i, &(name, prefix, start, end)) in SERVICE_INDEX.iter().enumerate() {
            let header = &SERVICES_TXT[headers[i].0..start];
            assert_eq!(header.trim_end(), format!("S {name} {}", prefix.unwrap_or("-")));
            assert_eq!(end, headers.get(i + 1).map_or(SERVICES_TXT.len(), |h| h.0));
        }
    }

    #[test]
    fn services_are_sorted_for_binary_search() {
        let names: Vec<_> = all_client_names().collect();
        let mut sorted = names.clone();
        sorted.sort_unstable();
        assert_eq!(names, sorted);
        assert!(names.len() > 400);
    }

    #[test]
    fn first_middle_and_last_services_parse_whole() {
        let names: Vec<_> = all_client_names().collect();
        for name in [names[0], "dynamodb", "s3", names[names.len() - 1]] {
            let svc = service(name).unwrap();
            assert!(!svc.operations().is_empty(), "{name} has no operations");
        }
        let ddb = service("dynamodb").unwrap();
        assert_eq!(ddb.iam_prefix, Some("dynamodb"));
        assert_eq!(ddb.operation_for_method("scan").unwrap().actions, vec!["dynamodb:Scan"]);
        assert_eq!(ddb.waiter_operation("table_exists"), Some("DescribeTable"));
        assert_eq!(ddb.waiter_operation_by_model_name("TableExists"), Some("DescribeTable"));
        let s3 = service("s3").unwrap();
        assert_eq!(s3.paginator_operation("list_objects_v2"), Some("ListObjectsV2"));
        assert!(s3.page_size_supported("ListObjectsV2"));
        assert!(!service("sns").unwrap().page_size_supported("ListTopics"));
        assert_eq!(s3.actions_of("HeadObject"), &["s3:GetObject"]);
        // PutObject below the multipart threshold, multipart above it: the
        // size decides, so every operation of an upload is conditional.
        let upload = s3.injected_method("upload_file").unwrap();
        assert!(upload.operations.is_empty());
        assert_eq!(upload.conditional[..2], ["PutObject", "CreateMultipartUpload"]);
        assert_eq!(s3.injected_method("copy").unwrap().operations, vec!["HeadObject"]);
        assert_eq!(service("stepfunctions").unwrap().iam_prefix, Some("states"));
        assert_eq!(service("lambda").unwrap().actions_of("Invoke"), &["lambda:InvokeFunction"]);
        assert!(service("no-such-service").is_none());
    }
}
