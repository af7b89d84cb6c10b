//! The state callback of the waits (`waitUntilReady`, `waitUntilRunning`,
//! `waitUntilStopped`): a Kotlin/Swift object the core calls with each new
//! lifecycle state it sees while polling.

use std::sync::Arc;

use serde_json::{Map, Value};

use crate::client::Handle;
use crate::convert::find;
use crate::errors::MiosaError;
use mcore::Arg;

/// Receives each new lifecycle state a wait sees (`creating`, ..., `running`).
/// Called on a runtime thread, once per change; keep it short.
#[uniffi::export(with_foreign)]
pub trait StateListener: Send + Sync {
    /// The state the sandbox or computer is now in.
    fn on_state(&self, state: String);
}

/// Runs the wait `name`, with `listener` told of each new state when given.
pub(crate) async fn wait(
    handle: &Handle,
    name: &str,
    args: Vec<Arg>,
    params: Map<String, Value>,
    listener: Option<Arc<dyn StateListener>>,
) -> Result<bool, MiosaError> {
    let op = find(name)?;
    let client = handle.client()?;
    match listener {
        None => crate::convert::boolean(client.invoke(op, args, params).await?),
        Some(listener) => {
            let on_state: mcore::OnState =
                Arc::new(move |state: &str| listener.on_state(state.to_owned()));
            Ok(client.invoke_watching(op, args, params, on_state).await?)
        }
    }
}
