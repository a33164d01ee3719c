//! The wire in front of tower-lsp: only frames whose body is a JSON-RPC
//! message get through; the rest are dropped here and reported.
//!
//! tower-lsp answers a frame it cannot decode (a body that is not JSON, JSON
//! that is not a JSON-RPC message, a broken header) with an error, and then
//! its framed reader ends, as tokio's framed readers do after a decode
//! error: the server stops reading, so one bad message from a client would
//! end the session. Here every frame is checked against the same message
//! types tower-lsp decodes into, a broken header is skipped up to the next
//! `Content-Length`, and the server only ever sees well-formed frames.
//! Requests for unknown `$/` methods are renamed so that they get the
//! answer LSP requires (see [`answerable`]).
//!
//! On the way out, tower-lsp's frames and the ones the server serializes
//! itself ([`ToClient`]) share one writer.

use tokio::io::{AsyncBufReadExt, AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt, BufReader, DuplexStream};
use tokio::sync::mpsc;
use tokio::task::JoinHandle;
use tower_lsp_server::jsonrpc;

/// A header line longer than this is junk, not a header: reading stops
/// there rather than buffering a client's garbage without bound.
const MAX_HEADER_LINE: u64 = 8 * 1024;

/// Larger bodies are skipped unread: a bogus length must not make the
/// server allocate gigabytes. A 10 MB file sent with `didOpen` fits easily.
pub const MAX_BODY: usize = 256 << 20;

/// One step of reading the client's stream.
#[derive(Debug, PartialEq, Eq)]
pub enum Frame {
    /// A JSON-RPC message's body.
    Message(Vec<u8>),
    /// Something that is not one, and why.
    Skipped(String),
    End,
}

/// Reads the next frame of `reader`.
pub async fn next_frame<R: AsyncRead + Unpin>(reader: &mut BufReader<R>) -> std::io::Result<Frame> {
    let mut length: Option<Result<usize, String>> = None;
    let mut junk = false;
    let mut seen_header = false;
    loop {
        let mut line = Vec::new();
        let read = (&mut *reader).take(MAX_HEADER_LINE).read_until(b'\n', &mut line).await?;
        if read == 0 {
            return Ok(Frame::End);
        }
        let complete = line.ends_with(b"\n");
        let text = String::from_utf8_lossy(&line);
        let text = text.trim_end_matches(['\r', '\n']);
        if text.is_empty() && complete {
            if !seen_header && !junk {
                continue; // blank lines between frames
            }
            break;
        }
        if let Some(at) = text.find("Content-Length") {
            // A header after junk on the same line still counts, as a
            // client may resend after a partial write.
            junk |= at > 0;
            let value = text[at + "Content-Length".len()..].trim_start().strip_prefix(':').map(str::trim);
            length = Some(match value.and_then(|v| v.parse::<usize>().ok()) {
                Some(n) => Ok(n),
                None => Err(format!("invalid header {text:?}")),
            });
            seen_header = true;
        } else if complete && is_header(text) {
            seen_header = true; // Content-Type and the like
        } else {
            junk = true;
        }
    }
    match length {
        None => Ok(Frame::Skipped("a header without Content-Length".into())),
        Some(Err(why)) => Ok(Frame::Skipped(why)),
        Some(Ok(n)) if n > MAX_BODY => {
            let skipped = tokio::io::copy(&mut (&mut *reader).take(n as u64), &mut tokio::io::sink()).await?;
            Ok(Frame::Skipped(format!("a {n}-byte message (more than {MAX_BODY}); {skipped} bytes skipped")))
        }
        Some(Ok(n)) => {
            let mut body = vec![0; n];
            if let Err(e) = reader.read_exact(&mut body).await {
                return match e.kind() {
                    std::io::ErrorKind::UnexpectedEof => Ok(Frame::End),
                    _ => Err(e),
                };
            }
            Ok(match why_not_a_message(&body) {
                None => Frame::Message(answerable(body)),
                Some(why) => Frame::Skipped(why),
            })
        }
    }
}

/// `Name: value`, with a token for a name.
fn is_header(line: &str) -> bool {
    line.split_once(':')
        .is_some_and(|(name, _)| !name.is_empty() && name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-'))
}

/// Why tower-lsp could not decode `body`, if it could not: it decodes a
/// frame into a response, else a request or notification.
fn why_not_a_message(body: &[u8]) -> Option<String> {
    if serde_json::from_slice::<jsonrpc::Response>(body).is_ok() {
        return None;
    }
    match serde_json::from_slice::<jsonrpc::Request>(body) {
        Ok(_) => None,
        Err(e) => {
            let start: String = String::from_utf8_lossy(&body[..body.len().min(80)]).into_owned();
            Some(format!("not a JSON-RPC message ({e}): {start:?}"))
        }
    }
}

/// LSP: a request (not a notification) for a `$/` method the server does
/// not know must be answered with MethodNotFound. tower-lsp drops that
/// answer for every `$/` method, so the client would wait forever; under
/// another name (the original in it) the request gets its answer.
fn answerable(body: Vec<u8>) -> Vec<u8> {
    let Ok(request) = serde_json::from_slice::<jsonrpc::Request>(&body) else { return body };
    if request.id().is_none() || !request.method().starts_with("$/") {
        return body;
    }
    let Ok(mut value) = serde_json::from_slice::<serde_json::Value>(&body) else { return body };
    value["method"] = serde_json::Value::String(format!("unsupported request {}", request.method()));
    serde_json::to_vec(&value).unwrap_or(body)
}

/// A stream carrying only the well-formed frames of `input`, for tower-lsp
/// to read. `on_skipped` hears about the rest. Ends when `input` ends.
pub fn well_formed_frames<R>(input: R, on_skipped: impl Fn(String) + Send + 'static) -> DuplexStream
where
    R: AsyncRead + Unpin + Send + 'static,
{
    let (mut to_server, server_reads) = tokio::io::duplex(1 << 16);
    tokio::spawn(async move {
        let mut reader = BufReader::new(input);
        loop {
            match next_frame(&mut reader).await {
                Ok(Frame::Message(body)) => {
                    let header = frame_header(&body);
                    let sent = async {
                        to_server.write_all(header.as_bytes()).await?;
                        to_server.write_all(&body).await?;
                        to_server.flush().await
                    };
                    if sent.await.is_err() {
                        return; // the server stopped reading (after `exit`)
                    }
                }
                Ok(Frame::Skipped(why)) => on_skipped(format!("ignored a message from the client: {why}")),
                Ok(Frame::End) => return,
                Err(e) => {
                    on_skipped(format!("cannot read from the client: {e}"));
                    return;
                }
            }
        }
    });
    server_reads
}

/// Messages for the client that the server serializes itself, written
/// between tower-lsp's frames, never inside one. tower-lsp turns a
/// notification's parameters into a `serde_json::Value` and then into text:
/// for a file with hundreds of findings that took several milliseconds of
/// every keystroke, where serializing the diagnostics directly takes one.
///
/// The queue is short: while the client is slow to read, a sender waits,
/// so that the outbox keeps what it has not sent yet and can drop a file's
/// diagnostics that newer ones supersede.
#[derive(Clone, Debug)]
pub struct ToClient(mpsc::Sender<Option<Vec<u8>>>);

/// Frames waiting for the writer.
const QUEUED_FRAMES: usize = 4;

impl ToClient {
    /// Queues one message's JSON body, waiting while the queue is full;
    /// dropped once the server has stopped.
    pub async fn send(&self, body: Vec<u8>) {
        let _ = self.0.send(Some(body)).await;
    }

    /// A sender whose messages go nowhere (for tests that look at the
    /// server's state, not at its output).
    #[cfg(test)]
    pub fn nowhere() -> ToClient {
        ToClient(mpsc::channel(1).0)
    }
}

/// Frames for the client, in the order they are complete: tower-lsp's
/// and the server's own.
type FrameQueue = mpsc::Receiver<Option<Vec<u8>>>;

/// A stream for tower-lsp to write its frames to, a [`ToClient`] for the
/// server's own messages, and the queue both end up in. `None` in the queue
/// marks the end: tower-lsp's stream was dropped (the server stopped).
fn frame_queue() -> (DuplexStream, ToClient, FrameQueue) {
    let (server_writes, from_server) = tokio::io::duplex(1 << 16);
    let (queue, queued) = mpsc::channel::<Option<Vec<u8>>>(QUEUED_FRAMES);
    let ours = queue.clone();
    // tower-lsp's frames, whole, into the same queue: a frame may reach the
    // stream in several writes, and must not be cut by one of ours.
    tokio::spawn(async move {
        let mut reader = BufReader::new(from_server);
        while let Ok(Some(body)) = next_own_frame(&mut reader).await {
            if queue.send(Some(body)).await.is_err() {
                return;
            }
        }
        let _ = queue.send(None).await;
    });
    (server_writes, ToClient(ours), queued)
}

/// A stream for tower-lsp to write its frames to, a [`ToClient`] for the
/// server's own messages, and the task that writes both to `output` in the
/// order they are complete. The task ends (everything written and flushed)
/// once tower-lsp's stream is dropped, i.e. when the server stops.
pub fn to_client<O>(mut output: O) -> (DuplexStream, ToClient, JoinHandle<()>)
where
    O: AsyncWrite + Unpin + Send + 'static,
{
    let (server_writes, ours, mut queued) = frame_queue();
    let writer = tokio::spawn(async move {
        let mut batch = Vec::new();
        while queued.recv_many(&mut batch, QUEUED_FRAMES).await > 0 {
            let mut end = false;
            for body in batch.drain(..) {
                let Some(body) = body else {
                    end = true;
                    break;
                };
                let header = frame_header(&body);
                if output.write_all(header.as_bytes()).await.is_err() || output.write_all(&body).await.is_err() {
                    return; // the client is gone
                }
            }
            if output.flush().await.is_err() || end {
                return;
            }
        }
    });
    (server_writes, ours, writer)
}

/// [`to_client`] for a blocking `output` (the process's standard output),
/// written from a thread of its own, each frame with one system call when
/// the pipe has room for it. Through tokio's standard output, a frame was
/// copied into its buffer and written by a thread of its blocking pool,
/// woken for every write: a 300 KB list of diagnostics reached the client
/// half a millisecond after it was queued.
pub fn to_blocking_client(mut output: impl std::io::Write + Send + 'static) -> (DuplexStream, ToClient, JoinHandle<()>) {
    let (server_writes, ours, mut queued) = frame_queue();
    let writer = tokio::task::spawn_blocking(move || {
        while let Some(Some(body)) = queued.blocking_recv() {
            if write_frame(&mut output, frame_header(&body).as_bytes(), &body).is_err() {
                return; // the client is gone
            }
        }
        let _ = output.flush();
    });
    (server_writes, ours, writer)
}

/// The process's standard output, unbuffered: [`to_blocking_client`]
/// writes each frame whole. On Linux its pipe, if it is one, is grown to
/// hold a large frame (the kernel's default of 64 KB takes a 300 KB list of
/// diagnostics in five turns, each waiting for the client to read).
pub fn standard_output() -> Box<dyn std::io::Write + Send> {
    #[cfg(unix)]
    {
        use std::os::fd::AsFd;
        if let Ok(fd) = std::io::stdout().as_fd().try_clone_to_owned() {
            #[cfg(target_os = "linux")]
            grow_pipe(&fd);
            return Box::new(std::fs::File::from(fd));
        }
    }
    Box::new(std::io::stdout())
}

/// Asks for a 1 MiB pipe buffer (what the kernel lets any user ask for by
/// default), else 256 KiB; a file or terminal, or a refusal, leaves it be.
#[cfg(target_os = "linux")]
fn grow_pipe(fd: &std::os::fd::OwnedFd) {
    use std::os::fd::AsRawFd;
    for size in [1 << 20, 1 << 18] {
        // SAFETY: F_SETPIPE_SZ only resizes the buffer of the pipe behind a
        // descriptor this process owns; on anything else it fails.
        if unsafe { libc::fcntl(fd.as_raw_fd(), libc::F_SETPIPE_SZ, size) } >= 0 {
            return;
        }
    }
}

fn frame_header(body: &[u8]) -> String {
    format!("Content-Length: {}\r\n\r\n", body.len())
}

/// Writes `header` and `body` together (one `writev` while the output
/// takes them whole).
fn write_frame(output: &mut impl std::io::Write, header: &[u8], body: &[u8]) -> std::io::Result<()> {
    let mut slices = [std::io::IoSlice::new(header), std::io::IoSlice::new(body)];
    let mut left = &mut slices[..];
    while !left.is_empty() {
        match output.write_vectored(left) {
            Ok(0) => return Err(std::io::ErrorKind::WriteZero.into()),
            Ok(n) => std::io::IoSlice::advance_slices(&mut left, n),
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    output.flush()
}

/// The next frame tower-lsp wrote: its body, or `None` at the end. Its
/// frames are well formed (a `Content-Length` header, a blank line, the
/// body), so they are not checked like the client's.
async fn next_own_frame<R: AsyncRead + Unpin>(reader: &mut BufReader<R>) -> std::io::Result<Option<Vec<u8>>> {
    let mut length = None;
    loop {
        let mut line = String::new();
        if reader.read_line(&mut line).await? == 0 {
            return Ok(None);
        }
        let line = line.trim_end();
        if line.is_empty() {
            if length.is_some() {
                break;
            }
            continue;
        }
        if let Some(value) = line.strip_prefix("Content-Length:") {
            length = value.trim().parse::<usize>().ok();
        }
    }
    let mut body = vec![0; length.unwrap_or(0)];
    reader.read_exact(&mut body).await?;
    Ok(Some(body))
}

#[cfg(test)]
mod tests {
    use super::*;

    async fn frames(input: &[u8]) -> Vec<Frame> {
        let mut reader = BufReader::new(input);
        let mut out = Vec::new();
        loop {
            match next_frame(&mut reader).await.unwrap() {
                Frame::End => return out,
                f => out.push(f),
            }
        }
    }

    fn frame(body: &str) -> String {
        format!("Content-Length: {}\r\n\r\n{body}", body.len())
    }

    #[tokio::test]
    async fn good_frames_pass_and_bad_ones_are_skipped() {
        let good = r#"{"jsonrpc":"2.0","id":1,"method":"shutdown"}"#;
        let note = r#"{"jsonrpc":"2.0","method":"initialized","params":{}}"#;
        let reply = r#"{"jsonrpc":"2.0","id":7,"result":null}"#;
        let input = [
            frame(good),
            frame("{}"),
            frame("[1, 2]"),
            frame(r#"{"jsonrpc": "2.0", "method": "#),
            frame(r#"{"jsonrpc":"1.0","method":"x"}"#),
            "garbage without a newline then Content-Length: 2\r\n\r\n{}".into(),
            "Content-Length: twelve\r\n\r\n".into(),
            "\r\n".into(),
            format!("Content-Type: application/vscode-jsonrpc; charset=utf-8\r\n{}", frame(note)),
            "junk line\r\nmore junk\r\n".into(),
            frame(reply),
            format!("Content-Length: {}\r\n\r\n", MAX_BODY + 1),
        ]
        .concat();
        let got = frames(input.as_bytes()).await;
        let kinds: Vec<String> = got
            .iter()
            .map(|f| match f {
                Frame::Message(b) => String::from_utf8_lossy(b).into_owned(),
                Frame::Skipped(why) => format!("skipped: {}", why.split(' ').take(3).collect::<Vec<_>>().join(" ")),
                Frame::End => unreachable!(),
            })
            .collect();
        assert_eq!(
            kinds,
            [
                good.to_owned(),
                "skipped: not a JSON-RPC".into(),
                "skipped: not a JSON-RPC".into(),
                "skipped: not a JSON-RPC".into(),
                "skipped: not a JSON-RPC".into(),
                "skipped: not a JSON-RPC".into(),
                "skipped: invalid header \"Content-Length:".into(),
                note.to_owned(),
                reply.to_owned(),
                format!("skipped: a {}-byte message", MAX_BODY + 1),
            ],
            "{got:?}"
        );
    }

    /// tower-lsp's frames, even written in pieces, and the server's own
    /// come out whole; the writer ends, everything flushed, when tower-lsp's
    /// stream is dropped.
    #[tokio::test]
    async fn own_frames_never_cut_tower_lsp_frames() {
        let (output, mut client_reads) = tokio::io::duplex(1 << 20);
        let (mut server_writes, to_client, writer) = to_client(output);
        let theirs = r#"{"jsonrpc":"2.0","id":1,"result":{"capabilities":{}}}"#;
        let header = format!("Content-Length: {}\r\n\r\n", theirs.len());
        server_writes.write_all(header.as_bytes()).await.unwrap();
        server_writes.write_all(&theirs.as_bytes()[..10]).await.unwrap();
        server_writes.flush().await.unwrap();
        let ours = r#"{"jsonrpc":"2.0","method":"window/logMessage","params":{"type":3,"message":"x"}}"#;
        to_client.send(ours.as_bytes().to_vec()).await;
        tokio::task::yield_now().await;
        server_writes.write_all(&theirs.as_bytes()[10..]).await.unwrap();
        drop(server_writes);
        writer.await.unwrap();
        let mut written = Vec::new();
        client_reads.read_to_end(&mut written).await.unwrap();
        let mut bodies = message_bodies(&written).await;
        bodies.sort();
        assert_eq!(bodies, [theirs, ours]);
    }

    /// The bodies of the frames in `written`, every one a message.
    async fn message_bodies(written: &[u8]) -> Vec<String> {
        frames(written)
            .await
            .into_iter()
            .map(|f| match f {
                Frame::Message(body) => String::from_utf8(body).unwrap(),
                other => panic!("{other:?}"),
            })
            .collect()
    }

    /// A writer that takes at most `step` bytes per call, into a buffer the
    /// test reads afterwards.
    #[derive(Clone)]
    struct Trickle {
        written: std::sync::Arc<std::sync::Mutex<Vec<u8>>>,
        step: usize,
    }

    impl std::io::Write for Trickle {
        fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
            let n = buf.len().min(self.step);
            self.written.lock().unwrap().extend_from_slice(&buf[..n]);
            Ok(n)
        }

        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    /// The blocking writer puts out the same frames as the async one, whole,
    /// however few bytes each write takes, and ends once everything queued
    /// is written.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn the_blocking_writer_writes_every_frame_whole_and_in_order() {
        for step in [1, 7, 1 << 20] {
            let output = Trickle { written: Default::default(), step };
            let (mut server_writes, to_client, writer) = to_blocking_client(output.clone());
            let theirs = r#"{"jsonrpc":"2.0","id":1,"result":{"capabilities":{}}}"#;
            let ours: Vec<String> = (0..20).map(|i| format!(r#"{{"jsonrpc":"2.0","method":"window/logMessage","params":{{"type":3,"message":"{}"}}}}"#, "é".repeat(i * 50))).collect();
            for body in &ours {
                to_client.send(body.as_bytes().to_vec()).await;
            }
            server_writes.write_all(format!("Content-Length: {}\r\n\r\n{theirs}", theirs.len()).as_bytes()).await.unwrap();
            drop(server_writes);
            writer.await.unwrap();
            let written = output.written.lock().unwrap().clone();
            let bodies = message_bodies(&written).await;
            let mut expected = ours.clone();
            expected.push(theirs.to_owned());
            assert_eq!(bodies, expected, "writes of {step} bytes");
        }
    }

    #[tokio::test]
    async fn dollar_requests_are_renamed_and_dollar_notifications_kept() {
        let request = r#"{"jsonrpc":"2.0","id":4,"method":"$/custom","params":{}}"#;
        let note = r#"{"jsonrpc":"2.0","method":"$/setTrace","params":{"value":"off"}}"#;
        let got = frames(format!("{}{}", frame(request), frame(note)).as_bytes()).await;
        let Frame::Message(renamed) = &got[0] else { panic!("{got:?}") };
        let renamed: serde_json::Value = serde_json::from_slice(renamed).unwrap();
        assert_eq!(renamed["method"], "unsupported request $/custom");
        assert_eq!(renamed["id"], 4);
        assert_eq!(got[1], Frame::Message(note.as_bytes().to_vec()));
    }

    #[tokio::test]
    async fn bytes_that_are_not_utf8_and_a_truncated_body() {
        let mut input = b"Content-Length: 3\r\n\r\n\xff\xfe\x00".to_vec();
        input.extend_from_slice(b"Content-Length: 100\r\n\r\n{\"jsonrpc\"");
        let got = frames(&input).await;
        assert_eq!(got.len(), 1, "{got:?}");
        assert!(matches!(&got[0], Frame::Skipped(why) if why.starts_with("not a JSON-RPC message")));
    }
}
