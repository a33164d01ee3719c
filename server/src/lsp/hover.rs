//! `textDocument/hover`: what a boto3 call sends and which IAM actions it
//! needs, per stage.

use tower_lsp_server::ls_types::{Hover, HoverContents, HoverParams, MarkupContent, MarkupKind};

use super::session::Session;

pub(super) fn handle(session: &mut Session, params: HoverParams) -> Option<Hover> {
    let position = params.text_document_position_params;
    let markdown = session.hover(&position.text_document.uri, position.position)?;
    Some(Hover {
        contents: HoverContents::Markup(MarkupContent { kind: MarkupKind::Markdown, value: markdown }),
        range: None,
    })
}
