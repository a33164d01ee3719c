//! chalice 1.34.0's `policies.json` and `policies-extra.json`: what
//! `chalice deploy` maps each captured client call to. Used only to emulate
//! autogen; our own view of what a call needs comes from `services`.

use std::collections::HashMap;
use std::sync::OnceLock;

static CHALICE_TXT: &str = include_str!("data/chalice.txt");

#[derive(Debug, Default)]
pub struct ChaliceServiceTable {
    /// botocore operation name → the action chalice grants for it.
    pub operations: HashMap<&'static str, &'static str>,
    /// `policies-extra.json`: client method → extra actions (s3 transfer).
    pub extra: HashMap<&'static str, Vec<&'static str>>,
}

/// Each service's records (`O` and `X` lines after its `S` line), parsed
/// into a table on first use.
struct Entry {
    records: &'static str,
    table: OnceLock<ChaliceServiceTable>,
}

impl Entry {
    fn table(&self) -> &ChaliceServiceTable {
        self.table.get_or_init(|| {
            let mut t = ChaliceServiceTable::default();
            for line in super::records(self.records) {
                let mut f = line.split(' ');
                match (f.next(), f.next(), f.next()) {
                    (Some("O"), Some(op), Some(action)) => {
                        t.operations.insert(op, action);
                    }
                    (Some("X"), Some(method), Some(actions)) => {
                        t.extra.insert(method, actions.split(',').collect());
                    }
                    _ => {}
                }
            }
            t
        })
    }
}

fn tables() -> &'static HashMap<&'static str, Entry> {
    static T: OnceLock<HashMap<&'static str, Entry>> = OnceLock::new();
    T.get_or_init(|| {
        // Split the file at its `S name` lines without parsing the rest.
        let mut map: HashMap<&'static str, Entry> = HashMap::new();
        let mut current: Option<(&'static str, usize)> = None;
        let mut offset = 0;
        let close = |current: Option<(&'static str, usize)>, end: usize, map: &mut HashMap<&'static str, Entry>| {
            if let Some((name, start)) = current {
                map.insert(name, Entry { records: &CHALICE_TXT[start..end], table: OnceLock::new() });
            }
        };
        for line in CHALICE_TXT.split_inclusive('\n') {
            if let Some(name) = line.strip_prefix("S ") {
                close(current.take(), offset, &mut map);
                current = Some((name.split([' ', '\n', '\r']).next().unwrap_or(""), offset + line.len()));
            }
            offset += line.len();
        }
        close(current, offset, &mut map);
        map
    })
}

/// chalice's table for a client name; `None` means chalice prints
/// "Unsupported service for auto policy generation" and grants nothing.
pub fn chalice_policy_table(client_name: &str) -> Option<&'static ChaliceServiceTable> {
    tables().get(client_name).map(Entry::table)
}

/// Every client name `policies.json` has an entry for.
pub fn chalice_supported_services() -> impl Iterator<Item = &'static str> {
    let mut v: Vec<_> = tables().keys().copied().collect();
    v.sort_unstable();
    v.into_iter()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chalice_tables_match_the_research_notes() {
        let s3 = chalice_policy_table("s3").unwrap();
        assert_eq!(s3.operations["ListObjectsV2"], "s3:ListBucket");
        assert_eq!(s3.extra["upload_file"], vec!["s3:PutObject", "s3:AbortMultipartUpload"]);
        assert!(!chalice_policy_table("lambda").unwrap().operations.contains_key("Invoke"));
        assert!(chalice_policy_table("bedrock-runtime").is_none());
        assert_eq!(chalice_supported_services().count(), 226);
    }
}
