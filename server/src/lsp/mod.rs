//! The language server (`chalice-iam lsp`). The only module that knows LSP
//! types; the engine below it speaks paths, byte offsets and plain data.
//!
//! One module per LSP method (`initialize.rs`, `did_change.rs`, ...), with
//! `server.rs` dispatching to them. `session.rs` holds the state and is the
//! one place that calls the engine; `document.rs` keeps open documents and
//! their trees; `convert.rs` does every engine ↔ LSP conversion; `outbox.rs`
//! sends notifications in order; `watcher.rs` follows files on disk for
//! clients that do not.

mod code_action;
mod code_lens;
mod convert;
mod did_change;
mod did_change_configuration;
mod did_change_watched_files;
mod did_change_workspace_folders;
mod did_close;
mod did_open;
mod document;
#[cfg(test)]
pub(crate) mod edit_fuzz;
mod execute_command;
mod hover;
mod initialize;
mod initialized;
mod line_index;
mod memory;
mod outbox;
#[cfg(test)]
mod protocol_fuzz;
mod server;
mod session;
mod settings;
#[cfg(test)]
pub(crate) mod test_support;
mod transport;
mod watcher;
mod workspace;

use std::process::ExitCode;

use tokio::io::{AsyncRead, AsyncWrite};
use tower_lsp_server::{LspService, Server};

pub use execute_command::SHOW_POLICY;
pub use server::{ChaliceIamServer, ShutdownFlag};

/// Serves LSP over `input` and `output` until `exit` or the end of input,
/// and tells whether `shutdown` came first (LSP: exit code 0, else 1).
/// Frames that are not JSON-RPC messages are dropped before tower-lsp sees
/// them (see `transport`) and reported to the client.
pub async fn serve<I, O>(input: I, output: O) -> bool
where
    I: AsyncRead + Unpin + Send + 'static,
    O: AsyncWrite + Unpin + Send + 'static,
{
    serve_through(input, transport::to_client(output)).await
}

/// [`serve`] writing through `to_client` (see `transport`).
async fn serve_through<I>(input: I, to_client: (tokio::io::DuplexStream, transport::ToClient, tokio::task::JoinHandle<()>)) -> bool
where
    I: AsyncRead + Unpin + Send + 'static,
{
    let (output, to_client, writer) = to_client;
    let (service, socket) = LspService::new(move |client| ChaliceIamServer::new(client, to_client));
    let shutdown = service.inner().shutdown_flag();
    let outbox = service.inner().outbox();
    let input = transport::well_formed_frames(input, move |message| outbox.warn(message));
    Server::new(input, output, socket).serve(service).await;
    // Everything queued before the server stopped is written out first.
    let _ = writer.await;
    shutdown.is_set()
}

/// Serves LSP on stdin/stdout until `exit` or the end of input. Logs go to
/// stderr and to the client; stdout carries only the protocol.
pub fn run_stdio() -> ExitCode {
    let runtime = match tokio::runtime::Builder::new_multi_thread().enable_all().build() {
        Ok(runtime) => runtime,
        Err(error) => {
            eprintln!("chalice-iam: cannot start the async runtime: {error}");
            return ExitCode::from(2);
        }
    };
    let shutdown_requested =
        runtime.block_on(async { serve_through(tokio::io::stdin(), transport::to_blocking_client(transport::standard_output())).await });
    // tokio reads stdin on a blocking thread that cannot be interrupted;
    // waiting for it would hang until the client closes the pipe.
    runtime.shutdown_background();
    // LSP: exit code 0 when `shutdown` came before `exit`, 1 otherwise.
    if shutdown_requested {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    }
}
