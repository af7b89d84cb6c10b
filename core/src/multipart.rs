//! `multipart/form-data` uploads: a file part from memory or streamed from a
//! local file (never read whole), beside plain text fields. The form is built
//! anew for every attempt, so a retried upload sends the file again from the start.

use std::path::PathBuf;

use bytes::Bytes;
use futures_util::stream;
use reqwest::multipart::{Form, Part};
use tokio::io::AsyncReadExt;

/// Bytes read from a local file per chunk of the upload.
const CHUNK: usize = 64 * 1024;

/// Where the file part's bytes come from.
#[derive(Debug, Clone)]
pub(crate) enum FilePart {
    /// Given by the caller.
    Memory(Bytes),
    /// A local file, opened and streamed by each attempt.
    Disk(PathBuf),
}

/// A multipart body, cheap to clone for each attempt.
#[derive(Debug, Clone)]
pub(crate) struct Multipart {
    /// Form field name of the file part.
    pub(crate) file_field: String,
    pub(crate) file: FilePart,
    /// File name announced with the part.
    pub(crate) filename: String,
    /// Text fields, in order.
    pub(crate) fields: Vec<(String, String)>,
}

impl Multipart {
    /// The form of one attempt.
    pub(crate) fn form(&self) -> Form {
        let part = match &self.file {
            FilePart::Memory(bytes) => Part::stream_with_length(bytes.clone(), bytes.len() as u64),
            FilePart::Disk(path) => {
                let body = reqwest::Body::wrap_stream(read_chunks(path.clone()));
                match std::fs::metadata(path) {
                    Ok(meta) => Part::stream_with_length(body, meta.len()),
                    // The read reports the failure; the length is then unknown.
                    Err(_) => Part::stream(body),
                }
            }
        };
        let part = part.file_name(self.filename.clone());
        // "application/octet-stream" always parses; keep the part as it is otherwise.
        let part = match part.mime_str("application/octet-stream") {
            Ok(p) => p,
            Err(_) => unreachable!("a constant MIME type parses"),
        };
        let mut form = Form::new();
        for (name, value) in &self.fields {
            form = form.text(name.clone(), value.clone());
        }
        form.part(self.file_field.clone(), part)
    }
}

/// The file's bytes as a stream of chunks, opened when first polled.
fn read_chunks(
    path: PathBuf,
) -> impl futures_util::Stream<Item = std::io::Result<Bytes>> + Send + 'static {
    stream::try_unfold((path, None::<tokio::fs::File>), |(path, file)| async move {
        let mut file = match file {
            Some(f) => f,
            None => tokio::fs::File::open(&path).await?,
        };
        let mut buf = vec![0u8; CHUNK];
        let n = file.read(&mut buf).await?;
        if n == 0 {
            return Ok(None);
        }
        buf.truncate(n);
        Ok(Some((Bytes::from(buf), (path, Some(file)))))
    })
}

/// The last segment of a path, as the file name of a part.
pub(crate) fn base_name(path: &str) -> Option<String> {
    path.rsplit(['/', '\\'])
        .find(|s| !s.is_empty())
        .map(str::to_owned)
}

#[cfg(test)]
mod tests {
    use super::base_name;

    #[test]
    fn base_names() {
        assert_eq!(base_name("/home/user/a.txt").as_deref(), Some("a.txt"));
        assert_eq!(base_name("dir/").as_deref(), Some("dir"));
        assert_eq!(base_name("plain").as_deref(), Some("plain"));
        assert_eq!(base_name("/"), None);
    }
}
