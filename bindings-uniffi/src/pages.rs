//! The next page of a single page: a page record remembers the list call that
//! fetched it (`PageRequest`, plain text so the record stays `Sendable` and
//! `Codable` in Swift), and `client.nextPage(page)` repeats that call at the
//! page's `next_cursor`, the core's `cursor` keyword carrying it.

use std::fmt;

use mcore::Arg;
use serde_json::{Map, Value};

use crate::client::Handle;
use crate::convert;
use crate::errors::{MiosaError, usage};

/// The list call that fetched a page: what `client.nextPage(page)` repeats.
#[derive(Clone, PartialEq, uniffi::Record)]
pub struct PageRequest {
    /// The operation's table name (`webhooks.list`).
    pub operation: String,
    /// Its positional arguments, as a JSON array text.
    pub args: String,
    /// Its keyword parameters, as a JSON object text.
    pub params: String,
}

/// Only the operation is shown: the parameters stay out of logs.
impl fmt::Debug for PageRequest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PageRequest")
            .field("operation", &self.operation)
            .finish_non_exhaustive()
    }
}

impl PageRequest {
    /// The request of a list call; `None` when an argument is not JSON (bytes),
    /// which no list takes.
    pub(crate) fn new(operation: &str, args: &[Arg], params: &Map<String, Value>) -> Option<Self> {
        let args = args
            .iter()
            .map(|a| match a {
                Arg::Json(v) => Some(v.clone()),
                _ => None,
            })
            .collect::<Option<Vec<Value>>>()?;
        Some(Self {
            operation: operation.to_owned(),
            args: Value::Array(args).to_string(),
            params: Value::Object(params.clone()).to_string(),
        })
    }
}

/// The page after the one fetched by `request` whose `next_cursor` is `cursor`;
/// `None` on the last page.
pub(crate) async fn next_page(
    handle: &Handle,
    request: Option<PageRequest>,
    cursor: Option<String>,
) -> Result<Option<(mcore::Page, PageRequest)>, MiosaError> {
    let Some(cursor) = cursor else {
        return Ok(None);
    };
    let request = request.ok_or_else(|| {
        usage("this page was not fetched by a list call (a pager's page or one built by hand), so it has no next page to fetch")
    })?;
    let args = match convert::json_value("args", &request.args)? {
        Value::Array(items) => items.into_iter().map(Arg::Json).collect::<Vec<_>>(),
        _ => return Err(usage("the page's request has no argument list")),
    };
    let params = mcore::params_at_cursor(convert::json_object("params", &request.params)?, &cursor);
    let next = PageRequest {
        params: Value::Object(params.clone()).to_string(),
        ..request.clone()
    };
    let output = convert::call(handle, &request.operation, args, params).await?;
    Ok(Some((output.into_page()?, next)))
}
