//! The waits' state callback (`sandboxes.wait_until_ready`,
//! `computer.wait_until_running`, `computer.wait_until_stopped`): a foreign
//! listener handed to the core's `invoke_watching`. Kotlin and Swift wrap it
//! in a lambda or closure parameter, `onState`.

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::Arc;

use mcore::Arg;
use serde_json::{Map, Value};

use crate::client::Handle;
use crate::convert;
use crate::errors::MiosaError;

/// Told each new lifecycle state a wait sees (`creating`, then `running`, ...),
/// once per change, on an I/O thread of the client.
#[uniffi::export(with_foreign)]
pub trait StateListener: Send + Sync {
    /// The state just seen.
    fn on_state(&self, state: String);
}

/// Runs the wait `name` like `convert::call`, reporting each new state to `listener`.
pub(crate) async fn call_watching(
    handle: &Handle,
    name: &str,
    args: Vec<Arg>,
    params: Map<String, Value>,
    listener: Arc<dyn StateListener>,
) -> Result<bool, MiosaError> {
    let op = convert::find(name)?;
    let client = handle.client()?;
    let on_state: mcore::OnState = Arc::new(move |state: &str| {
        // A listener that throws misses this state; the wait goes on.
        let _ = catch_unwind(AssertUnwindSafe(|| listener.on_state(state.to_owned())));
    });
    convert::recorded(
        handle,
        &client,
        client.invoke_watching(op, args, params, on_state),
    )
    .await
}
