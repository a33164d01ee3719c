//! `workspace/executeCommand`.

use serde_json::Value;
use tower_lsp_server::jsonrpc::{Error, Result};
use tower_lsp_server::ls_types::ExecuteCommandParams;

use super::session::Session;

/// Returns the IAM policy document a project's code needs, as a JSON
/// string. Argument: the project root as a `file:` URI or a path; may be
/// left out when the workspace has one project.
pub const SHOW_POLICY: &str = "chalice-iam.showPolicy";

/// Test builds only: a command whose handler panics, to show that a panic
/// in a request handler is caught, logged and answered.
#[cfg(test)]
pub(super) const TEST_PANIC: &str = "chalice-iam.test.panic";

pub(super) fn handle(session: &mut Session, params: ExecuteCommandParams) -> Result<Option<Value>> {
    #[cfg(test)]
    if params.command == TEST_PANIC {
        panic!("test panic in a request handler");
    }
    match params.command.as_str() {
        SHOW_POLICY => {
            let name = params.arguments.first().and_then(Value::as_str);
            let root = session.project_named(name).ok_or_else(|| match name {
                Some(name) => Error::invalid_params(format!("{name} is not a loaded Chalice project")),
                None => Error::invalid_params("name the project: the workspace has no or several Chalice projects"),
            })?;
            let policy = session.policy_json(&root).ok_or_else(Error::internal_error)?;
            Ok(Some(Value::String(policy)))
        }
        other => Err(Error::invalid_params(format!("unknown command {other}"))),
    }
}
