//! What the generated sandbox and computer handles (`generated/handles.rs`)
//! need from the client beyond the typed namespaces.

use std::future::Future;

use crate::Client;

/// Runs `fut` on the client's runtime without anyone awaiting it: the
/// safety net of a handle dropped without `destroy()` or `keep()`. It ends
/// early if the runtime does (the last clone of the client dropped, or the
/// process exiting), and its outcome is not reported.
pub(crate) fn in_background<F>(client: &Client, fut: F)
where
    F: Future<Output = crate::Result<()>> + Send + 'static,
{
    if let Ok(engine) = client.engine() {
        // A dropped JoinHandle detaches the task instead of aborting it.
        drop(engine.handle().spawn(fut));
    }
}
