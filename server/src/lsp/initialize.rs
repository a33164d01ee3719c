//! `initialize`: negotiate the position encoding, note what the client
//! supports, read `initializationOptions`, and announce our capabilities.

use std::path::PathBuf;

use tower_lsp_server::ls_types::*;

use super::code_action::FIX_ALL;
use super::document::file_path;
use super::execute_command::SHOW_POLICY;
use super::line_index::PositionEncoding;
use super::session::{ClientSupport, Session};
use super::settings::ClientSettings;

pub(super) fn handle(session: &mut Session, params: InitializeParams) -> InitializeResult {
    let offered = params.capabilities.general.as_ref().and_then(|g| g.position_encodings.as_deref());
    session.encoding = PositionEncoding::negotiate(offered);
    session.support = ClientSupport::from_capabilities(&params.capabilities);

    if let Some(options) = &params.initialization_options {
        let (settings, problems) = ClientSettings::from_json(options);
        problems.into_iter().for_each(|p| session.outbox.warn(p));
        session.set_initial_settings(settings);
    }
    session.set_folders(workspace_folders(&params));

    InitializeResult {
        capabilities: ServerCapabilities {
            position_encoding: Some(session.encoding.kind()),
            text_document_sync: Some(TextDocumentSyncCapability::Options(TextDocumentSyncOptions {
                open_close: Some(true),
                change: Some(TextDocumentSyncKind::INCREMENTAL),
                ..Default::default()
            })),
            hover_provider: Some(HoverProviderCapability::Simple(true)),
            code_action_provider: Some(CodeActionProviderCapability::Options(CodeActionOptions {
                code_action_kinds: Some(vec![CodeActionKind::QUICKFIX, FIX_ALL]),
                resolve_provider: Some(false),
                ..Default::default()
            })),
            code_lens_provider: Some(CodeLensOptions { resolve_provider: Some(false) }),
            execute_command_provider: Some(ExecuteCommandOptions {
                commands: vec![SHOW_POLICY.to_owned()],
                ..Default::default()
            }),
            workspace: Some(WorkspaceServerCapabilities {
                workspace_folders: Some(WorkspaceFoldersServerCapabilities {
                    supported: Some(true),
                    change_notifications: Some(OneOf::Left(true)),
                }),
                file_operations: None,
            }),
            ..Default::default()
        },
        server_info: Some(ServerInfo {
            name: "chalice-iam".to_owned(),
            version: Some(env!("CARGO_PKG_VERSION").to_owned()),
        }),
        // A clangd extension tower-lsp-server carries; LSP 3.17 clients read
        // `capabilities.positionEncoding` instead.
        offset_encoding: None,
    }
}

/// The workspace folders as paths; the deprecated `rootUri` for clients that
/// send no folders (older Neovim configurations, some test clients).
fn workspace_folders(params: &InitializeParams) -> Vec<PathBuf> {
    if let Some(folders) = &params.workspace_folders {
        return folders.iter().filter_map(|f| file_path(&f.uri)).collect();
    }
    #[allow(deprecated)]
    params.root_uri.as_ref().and_then(file_path).into_iter().collect()
}
