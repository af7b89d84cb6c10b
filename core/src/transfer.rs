//! Transfers between a sandbox file and a local path without holding the
//! file in memory: downloads are written chunk by chunk as they arrive,
//! uploads are read and base64-encoded chunk by chunk into the request body.
//! Both report progress as `(bytes_done, total)`.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use base64::Engine as _;
use bytes::Bytes;
use serde_json::{Map, Value};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use crate::client::Client;
use crate::decode::{parse_json, unwrap_envelope};
use crate::error::{Error, Result};
use crate::ops::OpSpec;
use crate::request::{Arg, Body, Prepared, prepare};
use crate::transport::{Transport, read_bounded};

/// Called with `(bytes_done, total)` as a transfer advances; `total` is
/// `None` when the server did not announce a length. Runs on an I/O thread.
pub type Progress = Arc<dyn Fn(u64, Option<u64>) + Send + Sync>;

/// Progress is reported at most once per this many bytes (and at the end).
const REPORT_EVERY: u64 = 1 << 20;
/// Bytes read from the local file per body chunk: a multiple of 3, so each
/// chunk's base64 stands alone.
const UPLOAD_CHUNK: usize = 3 * 64 * 1024;

fn op(name: &str) -> Result<&'static OpSpec> {
    crate::ops::find(name).ok_or_else(|| Error::invalid(format!("unknown operation `{name}`")))
}

fn local_error(action: &str, path: &Path, err: &std::io::Error) -> Error {
    Error::invalid(format!(
        "invalid `local_path`: cannot {action} {}: {err}",
        path.display()
    ))
}

/// Reports progress when a step's worth of bytes has passed since the last report.
struct Reporter {
    progress: Option<Progress>,
    total: Option<u64>,
    done: u64,
    reported: u64,
}

impl Reporter {
    fn new(progress: Option<Progress>, total: Option<u64>) -> Self {
        let reporter = Self {
            progress,
            total,
            done: 0,
            reported: 0,
        };
        reporter.report();
        reporter
    }
    fn advance(&mut self, bytes: u64) {
        self.done += bytes;
        if self.done - self.reported >= REPORT_EVERY {
            self.reported = self.done;
            self.report();
        }
    }
    fn finish(&mut self) {
        if self.reported != self.done || self.done == 0 {
            self.reported = self.done;
            self.report();
        }
    }
    fn report(&self) {
        if let Some(progress) = &self.progress {
            progress(self.done, self.total);
        }
    }
}

impl Client {
    /// Downloads the sandbox file `remote_path` into the local file
    /// `local_path` as it arrives (no whole-file buffer, so no
    /// `max_download_bytes` cap); returns the number of bytes written. The
    /// file appears under its name only when complete.
    pub async fn download_to_path(
        &self,
        sandbox_id: &str,
        remote_path: &str,
        local_path: impl Into<PathBuf>,
        progress: Option<Progress>,
    ) -> Result<u64> {
        let prepared = prepare(
            self.config(),
            self.options(),
            op("sandbox.files.read")?,
            &[Arg::from(sandbox_id), Arg::from(remote_path)],
            Map::new(),
            None,
        )?;
        let local = local_path.into();
        let client = self.clone();
        self.spawn(async move {
            let transport = client.transport()?;
            transport
                .with_retries(&prepared, |attempt| {
                    download_attempt(&transport, &prepared, attempt, &local, progress.clone())
                })
                .await
        })
        .await
    }

    /// Uploads the local file `local_path` to the sandbox path `remote_path`,
    /// streaming it (base64 in the JSON body, encoded as it is read); returns
    /// the server's answer (a `FileWritten`).
    pub async fn upload_from_path(
        &self,
        sandbox_id: &str,
        remote_path: &str,
        local_path: impl Into<PathBuf>,
        progress: Option<Progress>,
    ) -> Result<Value> {
        let write = op("sandbox.files.write")?;
        let mut prepared = prepare(
            self.config(),
            self.options(),
            write,
            &[
                Arg::from(sandbox_id),
                Arg::from(remote_path),
                Arg::from(Bytes::new()),
            ],
            Map::new(),
            None,
        )?;
        // The body is built per attempt from the file; the prepared one is not sent.
        prepared.body = Body::None;
        let local = local_path.into();
        let remote = remote_path.to_owned();
        let client = self.clone();
        self.spawn(async move {
            let transport = client.transport()?;
            let body = transport
                .with_retries(&prepared, |attempt| {
                    upload_attempt(
                        &transport,
                        &prepared,
                        attempt,
                        &remote,
                        &local,
                        progress.clone(),
                    )
                })
                .await?;
            crate::dispatch::shape(write.returns, unwrap_envelope(parse_json(&body)?))
        })
        .await
    }
}

async fn download_attempt(
    transport: &Transport,
    prepared: &Prepared,
    attempt: u32,
    local: &Path,
    progress: Option<Progress>,
) -> Result<u64> {
    let mut response = transport
        .exchange(prepared, transport.request(prepared, false), attempt)
        .await?;
    let is_json = response
        .headers()
        .get(reqwest::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/json"));
    let partial = partial_path(local);
    let mut file = tokio::fs::File::create(&partial)
        .await
        .map_err(|e| local_error("create", &partial, &e))?;
    let written = if is_json {
        // PROTOCOL §11: a download may come as `{"data": {"content": <base64>}}`.
        let body = read_bounded(response, prepared.body_limit).await?;
        let bytes = json_content(&body)?;
        let mut reporter = Reporter::new(progress, Some(bytes.len() as u64));
        file.write_all(&bytes)
            .await
            .map_err(|e| local_error("write", &partial, &e))?;
        reporter.advance(bytes.len() as u64);
        reporter.finish();
        bytes.len() as u64
    } else {
        let mut reporter = Reporter::new(progress, response.content_length());
        loop {
            // The attempt timeout bounds the wait for each chunk, not the whole file.
            let chunk = tokio::time::timeout(prepared.timeout, response.chunk())
                .await
                .map_err(|_| {
                    Error::new(
                        crate::ErrorKind::Timeout,
                        "the download stalled longer than the timeout",
                    )
                })?
                .map_err(|e| Error::from_reqwest(&e))?;
            let Some(chunk) = chunk else { break };
            file.write_all(&chunk)
                .await
                .map_err(|e| local_error("write", &partial, &e))?;
            reporter.advance(chunk.len() as u64);
        }
        reporter.finish();
        reporter.done
    };
    file.flush()
        .await
        .map_err(|e| local_error("write", &partial, &e))?;
    drop(file);
    tokio::fs::rename(&partial, local)
        .await
        .map_err(|e| local_error("move the download to", local, &e))?;
    Ok(written)
}

/// Where a download is written until it is complete.
fn partial_path(local: &Path) -> PathBuf {
    let mut name = local.as_os_str().to_owned();
    name.push(".part");
    PathBuf::from(name)
}

fn json_content(body: &[u8]) -> Result<Vec<u8>> {
    let value = unwrap_envelope(parse_json(body)?);
    let content = value
        .get("content")
        .or_else(|| value.get("content_base64"))
        .and_then(Value::as_str)
        .ok_or_else(|| Error::decode("the download answer has no `content`"))?;
    base64::engine::general_purpose::STANDARD
        .decode(content.trim())
        .map_err(|e| Error::decode(format!("the download's `content` is not base64: {e}")))
}

async fn upload_attempt(
    transport: &Transport,
    prepared: &Prepared,
    attempt: u32,
    remote: &str,
    local: &Path,
    progress: Option<Progress>,
) -> Result<Bytes> {
    let file = tokio::fs::File::open(local)
        .await
        .map_err(|e| local_error("open", local, &e))?;
    let size = file
        .metadata()
        .await
        .map_err(|e| local_error("read", local, &e))?
        .len();
    let head = format!(
        "{{\"path\":{},\"content_base64\":\"",
        Value::String(remote.to_owned())
    );
    let tail = "\"}";
    let encoded = size.div_ceil(3) * 4;
    let length = head.len() as u64 + encoded + tail.len() as u64;
    let body = upload_body(
        file,
        head,
        tail,
        local.to_owned(),
        Reporter::new(progress, Some(size)),
    );
    let request = transport
        .request(prepared, false)
        .header(reqwest::header::CONTENT_TYPE, "application/json")
        .header(reqwest::header::CONTENT_LENGTH, length)
        .body(reqwest::Body::wrap_stream(body));
    let response = tokio::time::timeout(
        prepared.timeout.saturating_add(upload_allowance(size)),
        transport.exchange(prepared, request, attempt),
    )
    .await
    .map_err(|_| Error::new(crate::ErrorKind::Timeout, "the upload timed out"))??;
    read_bounded(response, prepared.body_limit).await
}

/// Extra time an upload of `size` bytes may take on top of the attempt
/// timeout: a slow but moving transfer (1 MiB/s) must not be cut.
fn upload_allowance(size: u64) -> std::time::Duration {
    std::time::Duration::from_secs(size >> 20)
}

/// The JSON body: `head`, the file's base64 as it is read, then `tail`.
fn upload_body(
    file: tokio::fs::File,
    head: String,
    tail: &'static str,
    local: PathBuf,
    reporter: Reporter,
) -> impl futures_util::Stream<Item = std::io::Result<Bytes>> + Send + 'static {
    enum Step {
        Head,
        Data,
        Tail,
        Done,
    }
    let state = (Step::Head, file, reporter, head);
    futures_util::stream::unfold(state, move |(step, mut file, mut reporter, head)| {
        let local = local.clone();
        async move {
            match step {
                Step::Head => {
                    let chunk = Bytes::from(head.clone().into_bytes());
                    Some((Ok(chunk), (Step::Data, file, reporter, head)))
                }
                Step::Data => {
                    let mut buf = vec![0u8; UPLOAD_CHUNK];
                    let mut filled = 0;
                    while filled < buf.len() {
                        match file.read(&mut buf[filled..]).await {
                            Ok(0) => break,
                            Ok(n) => filled += n,
                            Err(e) => {
                                let err = std::io::Error::new(
                                    e.kind(),
                                    format!("reading {}: {e}", local.display()),
                                );
                                return Some((Err(err), (Step::Done, file, reporter, head)));
                            }
                        }
                    }
                    if filled == 0 {
                        reporter.finish();
                        return Some((
                            Ok(Bytes::from_static(tail.as_bytes())),
                            (Step::Done, file, reporter, head),
                        ));
                    }
                    reporter.advance(filled as u64);
                    let encoded = base64::engine::general_purpose::STANDARD.encode(&buf[..filled]);
                    let next = if filled < buf.len() {
                        Step::Tail
                    } else {
                        Step::Data
                    };
                    Some((
                        Ok(Bytes::from(encoded.into_bytes())),
                        (next, file, reporter, head),
                    ))
                }
                Step::Tail => {
                    reporter.finish();
                    Some((
                        Ok(Bytes::from_static(tail.as_bytes())),
                        (Step::Done, file, reporter, head),
                    ))
                }
                Step::Done => None,
            }
        }
    })
}
