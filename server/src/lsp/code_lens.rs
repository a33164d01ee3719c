//! `textDocument/codeLens`: over each handler in app.py, the actions it
//! needs; clicking shows the project's whole needed policy.

use serde_json::Value;
use tower_lsp_server::ls_types::{CodeLens, CodeLensParams, Command};

use super::convert::file_uri;
use super::execute_command::SHOW_POLICY;
use super::session::Session;

pub(super) fn handle(session: &mut Session, params: CodeLensParams) -> Vec<CodeLens> {
    session
        .lenses(&params.text_document.uri)
        .into_iter()
        .map(|(range, title, root)| CodeLens {
            range,
            command: Some(Command {
                title,
                command: SHOW_POLICY.to_owned(),
                arguments: file_uri(&root).map(|uri| vec![Value::String(uri.as_str().to_owned())]),
            }),
            data: None,
        })
        .collect()
}
