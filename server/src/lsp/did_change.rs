//! `textDocument/didChange`: incremental edits, applied in order.

use tower_lsp_server::ls_types::DidChangeTextDocumentParams;

use super::document::ChangeOutcome;
use super::session::Session;

pub(super) fn handle(session: &mut Session, params: DidChangeTextDocumentParams) {
    let _keystroke = crate::process::KeystrokeWork::start();
    let uri = params.text_document.uri;
    let version = params.text_document.version;
    let encoding = session.encoding;
    let Some(document) = session.documents.get_mut(&uri) else {
        session.outbox.warn(format!("didChange for {} which is not open; ignored", uri.as_str()));
        return;
    };
    match document.apply_changes(version, &params.content_changes, encoding) {
        ChangeOutcome::Applied => session.document_changed(&uri),
        ChangeOutcome::NotNewer { current } => session
            .outbox
            .warn(format!("didChange for {} version {version} ignored: already at version {current}", uri.as_str())),
    }
}
