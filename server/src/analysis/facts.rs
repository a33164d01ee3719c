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

/// One call site that sends (or signs) AWS API requests.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CallFact {
    /// The whole call expression.
    pub range: TextRange,
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
