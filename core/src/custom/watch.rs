//! Waiting with a state callback: the waits of the table (`sandboxes.wait_until_ready`,
//! `computer.wait_until_running`, `computer.wait_until_stopped`) report each new
//! lifecycle state they see while polling, once per change.

use std::fmt;
use std::sync::Arc;

use serde_json::{Map, Value};

use super::computer::{RUNNING, STOPPED, wait_for_status};
use super::{check_arity, id_arg, wait_until_ready};
use crate::client::Client;
use crate::error::{Error, ErrorKind, Result};
use crate::ops::OpSpec;
use crate::request::Arg;

/// Called with each new lifecycle state a wait sees (`creating`, then `running`, ...).
pub type OnState = Arc<dyn Fn(&str) + Send + Sync>;

/// The states seen so far by one wait; reports a state only when it differs from the last.
#[derive(Default)]
pub(crate) struct StateWatch {
    on_state: Option<OnState>,
    last: Option<String>,
}

impl fmt::Debug for StateWatch {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("StateWatch")
            .field("watched", &self.on_state.is_some())
            .field("last", &self.last)
            .finish()
    }
}

impl StateWatch {
    fn new(on_state: OnState) -> Self {
        Self {
            on_state: Some(on_state),
            last: None,
        }
    }

    pub(crate) fn is_watched(&self) -> bool {
        self.on_state.is_some()
    }

    pub(crate) fn see(&mut self, state: Option<&str>) {
        let (Some(on_state), Some(state)) = (&self.on_state, state) else {
            return;
        };
        if self.last.as_deref() != Some(state) {
            self.last = Some(state.to_owned());
            on_state(state);
        }
    }
}

impl Client {
    /// Runs one of the waiting operations (`sandboxes.wait_until_ready`,
    /// `computer.wait_until_running`, `computer.wait_until_stopped`) like
    /// [`Client::invoke`], calling `on_state` with each new state seen on the way.
    /// The wait polls (a sandbox's readiness stream names no intermediate state).
    pub async fn invoke_watching(
        &self,
        op: &'static OpSpec,
        args: Vec<Arg>,
        params: Map<String, Value>,
        on_state: OnState,
    ) -> Result<bool> {
        self.spawn(watched_wait(self.clone(), op, args, params, on_state))
            .await
    }

    /// Blocking form of [`Client::invoke_watching`].
    pub fn invoke_watching_blocking(
        &self,
        op: &'static OpSpec,
        args: Vec<Arg>,
        params: Map<String, Value>,
        on_state: OnState,
    ) -> Result<bool> {
        self.block_on(watched_wait(self.clone(), op, args, params, on_state))
    }
}

async fn watched_wait(
    client: Client,
    op: &'static OpSpec,
    args: Vec<Arg>,
    params: Map<String, Value>,
    on_state: OnState,
) -> Result<bool> {
    let wanted = match op.name {
        "sandboxes.wait_until_ready" => None,
        "computer.wait_until_running" => Some(RUNNING),
        "computer.wait_until_stopped" => Some(STOPPED),
        other => {
            return Err(Error::new(
                ErrorKind::Usage,
                format!("{other} does not wait for a state, so it takes no state callback"),
            ));
        }
    };
    check_arity(&client, op, &args)?;
    let id = id_arg(op, &args[0])?;
    let mut watch = StateWatch::new(on_state);
    match wanted {
        None => wait_until_ready(&client, &id, &params, &mut watch).await,
        Some(wanted) => wait_for_status(&client, op, &id, &params, wanted, &mut watch).await,
    }
}
