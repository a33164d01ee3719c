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

/// A service's records (the `O` and `X` lines after its `S` line in the
/// byte range `start..end` of the text), parsed into a table on first use.
/// The text is sliced only then: even checking a slice's bounds reads the
/// text there.
struct Entry {
    start: usize,
    end: usize,
    table: OnceLock<ChaliceServiceTable>,
}

impl Entry {
    fn table(&self) -> &ChaliceServiceTable {
        self.table.get_or_init(|| {
            let mut t = ChaliceServiceTable::default();
            for line in super::records(&CHALICE_TXT[self.start..self.end]) {
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

include!(concat!(env!("OUT_DIR"), "/chalice_index.rs"));

/// Per entry of [`CHALICE_INDEX`], its records, parsed on first use. The
/// build script found the `S name` lines, so the rest of the text is not
/// read (and its pages never become resident) until a service is asked for.
fn tables() -> &'static [Entry] {
    static T: OnceLock<Vec<Entry>> = OnceLock::new();
    T.get_or_init(|| CHALICE_INDEX.iter().map(|&(_, start, end)| Entry { start, end, table: OnceLock::new() }).collect())
}

/// chalice's table for a client name; `None` means chalice prints
/// "Unsupported service for auto policy generation" and grants nothing.
pub fn chalice_policy_table(client_name: &str) -> Option<&'static ChaliceServiceTable> {
    let i = CHALICE_INDEX.binary_search_by(|e| e.0.cmp(client_name)).ok()?;
    Some(tables()[i].table())
}

/// Every client name `policies.json` has an entry for.
pub fn chalice_supported_services() -> impl Iterator<Item = &'static str> {
    CHALICE_INDEX.iter().map(|e| e.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The build script's index: every `S name` section of the text, each
    /// table holding exactly the section's `O` and `X` records.
    #[test]
    fn the_index_holds_every_section_of_the_text() {
        let mut sections: Vec<(&str, Vec<&str>)> = Vec::new();
        for line in super::super::records(CHALICE_TXT) {
            match line.strip_prefix("S ") {
                Some(name) => sections.push((name.trim(), Vec::new())),
                None => sections.last_mut().expect("records come after a header").1.push(line),
            }
        }
        assert_eq!(sections.len(), CHALICE_INDEX.len());
        assert_eq!(chalice_supported_services().count(), sections.len());
        for (name, records) in sections {
            let table = chalice_policy_table(name).unwrap_or_else(|| panic!("{name} is indexed"));
            let operations = records.iter().filter(|r| r.starts_with("O ")).count();
            let extra = records.iter().filter(|r| r.starts_with("X ")).count();
            assert_eq!((table.operations.len(), table.extra.len()), (operations, extra), "{name}");
        }
    }

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
