//! The plain-data results of analysing one file.

use serde::Serialize;

/// A half-open byte range `[start, end)` into a file's UTF-8 text.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
pub struct TextRange {
    pub start: usize,
    pub end: usize,
}

impl TextRange {
    pub fn new(start: usize, end: usize) -> Self {
        TextRange { start, end }
    }

    pub fn contains(&self, offset: usize) -> bool {
        self.start <= offset && offset < self.end
    }

    /// The range `delta` bytes further on (back, when negative).
    pub fn shifted(self, delta: isize) -> TextRange {
        TextRange::new(self.start.saturating_add_signed(delta), self.end.saturating_add_signed(delta))
    }
}

/// One edit of a text, as found by comparing two versions of it: the bytes
/// `[start, old_end)` of the old text became `[start, new_end)` of the new
/// one, and what lies before and after is the same.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TextEdit {
    pub start: usize,
    pub old_end: usize,
    pub new_end: usize,
}

impl TextEdit {
    /// What lies between the common beginning and the common end of `old`
    /// and `new`.
    pub fn between(old: &str, new: &str) -> TextEdit {
        let (old, new) = (old.as_bytes(), new.as_bytes());
        let start = common_prefix(old, new);
        let room = old.len().min(new.len()) - start;
        let common_end = common_suffix(&old[start..], &new[start..], room);
        TextEdit { start, old_end: old.len() - common_end, new_end: new.len() - common_end }
    }

    /// Where a range of the old text is in the new one: the same before the
    /// edit, moved after it, grown or shrunk when it holds the edit; `None`
    /// when it holds only part of it.
    pub fn map(&self, r: TextRange) -> Option<TextRange> {
        let delta = self.new_end as isize - self.old_end as isize;
        if r.end <= self.start {
            Some(r)
        } else if r.start >= self.old_end {
            Some(r.shifted(delta))
        } else if r.start <= self.start && r.end >= self.old_end {
            Some(TextRange::new(r.start, r.end.saturating_add_signed(delta)))
        } else {
            None
        }
    }

    /// Where a range of the new text, clear of the edit, was in the old
    /// one: [`Self::map`] undone for the ranges it moves without changing
    /// them. `None` when the range touches the edit.
    pub fn map_back(&self, r: TextRange) -> Option<TextRange> {
        if r.end <= self.start {
            Some(r)
        } else if r.start >= self.new_end {
            Some(r.shifted(self.old_end as isize - self.new_end as isize))
        } else {
            None
        }
    }

    /// Whether the edit lies inside `old`, a range of the old text, and
    /// inside `new`, a range of the new one.
    pub(crate) fn within(&self, old: TextRange, new: TextRange) -> bool {
        old.start <= self.start && self.old_end <= old.end && new.start <= self.start && self.new_end <= new.end
    }

    /// Whether `old`, a range of the old text, lies wholly before or after
    /// the edit.
    pub(crate) fn clear_of(&self, old: TextRange) -> bool {
        old.end <= self.start || old.start >= self.old_end
    }
}

/// Slices are compared a block at a time (a vectorised `memcmp`) and only
/// the block that differs byte by byte: a keystroke compares two versions
/// of a file at least twice, and a byte-by-byte walk of a 150 KB file cost
/// a tenth of a millisecond each time.
const COMPARED_AT_ONCE: usize = 256;

/// How many bytes `a` and `b` start with in common.
fn common_prefix(a: &[u8], b: &[u8]) -> usize {
    let n = a.len().min(b.len());
    let mut i = 0;
    while i + COMPARED_AT_ONCE <= n && a[i..i + COMPARED_AT_ONCE] == b[i..i + COMPARED_AT_ONCE] {
        i += COMPARED_AT_ONCE;
    }
    i + a[i..n].iter().zip(&b[i..n]).take_while(|(x, y)| x == y).count()
}

/// How many bytes, at most `room`, `a` and `b` end with in common.
fn common_suffix(a: &[u8], b: &[u8], room: usize) -> usize {
    let (mut i, mut j, mut k) = (a.len(), b.len(), 0);
    while k + COMPARED_AT_ONCE <= room && a[i - COMPARED_AT_ONCE..i] == b[j - COMPARED_AT_ONCE..j] {
        i -= COMPARED_AT_ONCE;
        j -= COMPARED_AT_ONCE;
        k += COMPARED_AT_ONCE;
    }
    k + a[..i].iter().rev().zip(b[..j].iter().rev()).take(room - k).take_while(|(x, y)| x == y).count()
}

/// How a call reaches AWS, for messages and for deciding what chalice's own
/// analyzer can see.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Construct {
    /// `client.method(...)`: a service-model operation on a client.
    ClientMethod { method: String },
    /// `client.upload_file(...)` and the other methods boto3 injects.
    ClientInjected { method: String },
    /// `client.get_paginator(name).paginate(...)`.
    Paginator { name: String },
    /// `client.get_waiter(name).wait(...)` or `resource.wait_until_*()`.
    Waiter { name: String },
    /// `client.generate_presigned_url(...)`: no request is sent; the URL is
    /// signed with the role's credentials, so the role needs the action of
    /// the presigned operation when the URL is used.
    Presigned { method: String },
    /// `resource.action(...)` on a service resource or a resource.
    ResourceAction { resource: String, action: String },
    /// `resource.load()` / `reload()` or a first read of a shape attribute.
    ResourceLoad { resource: String, attribute: Option<String> },
    /// Iterating a collection (`bucket.objects.all()` in a `for`, ...).
    Collection { resource: String, collection: String },
    /// `collection.delete()` and other batch actions over a collection.
    BatchAction { resource: String, collection: String, action: String },
    /// `bucket.upload_file(...)`, `table.batch_writer()`, `bucket.load()`...
    ResourceInjected { resource: String, method: String },
}

/// One call site that sends (or signs) AWS API requests: where it is, and
/// what it is ([`CallDetails`], whose fields it gives access to). What it is
/// is shared, not copied, when the fact is: a keystroke moves every fact of
/// the edited file, and the language server's evaluation copies them into
/// the file's facts, hundreds of times a second.
#[derive(Clone, PartialEq, Eq, Serialize)]
pub struct CallFact {
    /// The whole call expression.
    pub range: TextRange,
    /// Serialized, and shown by `Debug`, as fields of the fact itself.
    #[serde(flatten)]
    pub details: std::sync::Arc<CallDetails>,
}

impl std::ops::Deref for CallFact {
    type Target = CallDetails;

    fn deref(&self) -> &CallDetails {
        &self.details
    }
}

impl std::fmt::Debug for CallFact {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let d = &*self.details;
        f.debug_struct("CallFact")
            .field("range", &self.range)
            .field("service", &d.service)
            .field("construct", &d.construct)
            .field("origin", &d.origin)
            .field("operations", &d.operations)
            .field("conditional_operations", &d.conditional_operations)
            .field("actions", &d.actions)
            .field("unmapped_operations", &d.unmapped_operations)
            .field("dependent_actions", &d.dependent_actions)
            .field("function", &d.function)
            .finish()
    }
}

/// What a call site is: its service, the construct, the operations it sends
/// and the actions they need (see [`CallFact`]).
#[derive(Debug, PartialEq, Eq, Serialize)]
pub struct CallDetails {
    /// The boto3 client name of the service (`dynamodb`, `stepfunctions`).
    pub service: String,
    pub construct: Construct,
    /// How the client or resource was created, when not plain
    /// `boto3.client('svc')` (e.g. `boto3.session.Session().client`), for
    /// explaining why chalice misses it.
    pub origin: Origin,
    /// botocore operations sent on every call.
    pub operations: Vec<String>,
    /// Operations sent only depending on size or failure (multipart).
    pub conditional_operations: Vec<String>,
    /// IAM actions needed: those of all operations above, sorted, unique.
    /// Every one is in the IAM catalogue.
    pub actions: Vec<String>,
    /// Operations for which the catalogue has no IAM action.
    pub unmapped_operations: Vec<String>,
    /// Actions the call may need beyond `actions`, depending on how the
    /// resource is set up (`kms:Decrypt` for an SSE-KMS object) or because
    /// it passes a role (`iam:PassRole`): hints with their reason, never
    /// among `actions` nor in any policy or fix. Rows whose condition is a
    /// parameter are kept only when the call (or `paginate(...)`) passes it
    /// with a value other than a literal `None` or `False`, or may, through
    /// `**kwargs`, or where the parameters are not the call's arguments
    /// (collections, waiters, `upload_file`).
    pub dependent_actions: Vec<&'static crate::model::DependentAction>,
    /// The innermost enclosing module-level function or method, dotted
    /// (`get_threads`, `Repo.save`); `None` at module level.
    pub function: Option<String>,
}

/// How the client or resource behind a call was obtained.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Origin {
    /// `boto3.client('svc')` with a positional service name.
    Boto3Client,
    /// `boto3.client(service_name='svc')`.
    Boto3ClientKeyword,
    /// `from boto3 import client` / an aliased boto3 module.
    ImportedFactory,
    /// `boto3.Session()` / `boto3.session.Session()` `.client(...)`.
    SessionClient,
    /// `boto3.resource(...)` or a session's `.resource(...)`.
    Resource,
    /// `resource.meta.client`.
    ResourceMetaClient,
}

/// A call that looks like boto3 but whose target could not be worked out.
/// Recorded so the user can see it; never guessed into actions.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct UnresolvedCall {
    pub range: TextRange,
    pub reason: String,
    pub function: Option<String>,
}

/// Everything the analysis found in one file.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct FileFacts {
    pub calls: Vec<CallFact>,
    pub unresolved: Vec<UnresolvedCall>,
    /// Ranges of tree-sitter ERROR / MISSING nodes (the rest of the file is
    /// still analysed).
    pub syntax_errors: Vec<TextRange>,
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every edit of every length at every place of texts longer than a
    /// compared block: what a byte-by-byte comparison finds.
    #[test]
    fn an_edit_is_found_where_a_byte_by_byte_comparison_finds_it() {
        let base: String = (0..700).map(|i| char::from(b'a' + (i % 7) as u8)).collect();
        let naive = |old: &str, new: &str| {
            let (o, n) = (old.as_bytes(), new.as_bytes());
            let start = o.iter().zip(n).take_while(|(a, b)| a == b).count();
            let room = o.len().min(n.len()) - start;
            let end = o.iter().rev().zip(n.iter().rev()).take(room).take_while(|(a, b)| a == b).count();
            TextEdit { start, old_end: o.len() - end, new_end: n.len() - end }
        };
        for at in (0..base.len()).step_by(37) {
            for removed in [0, 1, 5, 300] {
                for inserted in ["", "x", "abc", &"z".repeat(600)] {
                    let end = (at + removed).min(base.len());
                    let new = format!("{}{}{}", &base[..at], inserted, &base[end..]);
                    assert_eq!(TextEdit::between(&base, &new), naive(&base, &new), "at {at}, -{removed}, +{}", inserted.len());
                    assert_eq!(TextEdit::between(&new, &base), naive(&new, &base));
                }
            }
        }
    }

    /// Every range of a text: clear of an edit, it maps to the new text and
    /// back; touching it, it does not map back.
    #[test]
    fn a_range_clear_of_an_edit_maps_back_to_where_it_was() {
        for edit in [TextEdit { start: 10, old_end: 12, new_end: 15 }, TextEdit { start: 10, old_end: 14, new_end: 11 }, TextEdit { start: 10, old_end: 10, new_end: 11 }] {
            for start in 0..20 {
                for end in start..20 {
                    let old = TextRange::new(start, end);
                    if edit.clear_of(old) {
                        let new = edit.map(old).expect("a clear range maps");
                        assert_eq!(edit.map_back(new), Some(old), "{old:?} through {edit:?}");
                    }
                }
            }
            for start in edit.start..edit.new_end {
                assert_eq!(edit.map_back(TextRange::new(start, start + 1)), None, "{start} in {edit:?}");
            }
        }
    }
}
