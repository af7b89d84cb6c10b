//! Cursor pagination: one page on request, or a lazy iterator that follows
//! `next_cursor` to the end.
//!
//! Callers of every language name the position `cursor`; the table knows the
//! query parameter each list reads it from (`after`, `cursor`, or `page` for
//! lists paged by number, whose `next_cursor` is the next page number).

use std::collections::{HashSet, VecDeque};
use std::fmt;
use std::future::Future;
use std::marker::PhantomData;

use futures_util::future::BoxFuture;
use serde::de::DeserializeOwned;
use serde_json::{Map, Value};
use tokio::sync::Mutex;

use crate::cancel::CancelToken;
use crate::client::Client;
use crate::decode::LIST_KEYS;
use crate::error::{Error, ErrorKind, Result};
use crate::ops::{OpSpec, Returns};
use crate::request::Arg;

/// The keyword that carries a page's position in every language, whatever
/// the wire name of the operation's cursor parameter.
pub const CURSOR: &str = "cursor";

/// Moves a `cursor` keyword to the operation's wire name (it wins over a
/// value given under the wire name itself, which is otherwise left as it is).
pub(crate) fn cursor_to_wire(wire: &str, params: &mut Map<String, Value>) {
    if wire == CURSOR {
        return;
    }
    if let Some(cursor) = params.remove(CURSOR) {
        params.insert(wire.to_owned(), cursor);
    }
}

/// The keyword parameters of the page after `page`, from those that fetched
/// it; `None` on the last page.
pub fn next_page_params<T>(
    params: &Map<String, Value>,
    page: &Page<T>,
) -> Option<Map<String, Value>> {
    page.next_cursor
        .as_ref()
        .map(|cursor| params_at_cursor(params.clone(), cursor))
}

/// The keyword parameters `params` of a list call, asking for the page at
/// `cursor` (a `next_cursor` the previous page gave).
pub fn params_at_cursor(mut params: Map<String, Value>, cursor: &str) -> Map<String, Value> {
    params.insert(CURSOR.to_owned(), Value::String(cursor.to_owned()));
    params
}

/// One page of a list. A page a client call returned knows that call, so
/// [`Page::next_page`] fetches the page after it.
#[derive(Debug, Clone)]
pub struct Page<T = Value> {
    /// The items of this page.
    pub items: Vec<T>,
    /// The cursor of the next page; `None` on the last one.
    pub next_cursor: Option<String>,
    origin: Option<PageOrigin>,
}

/// Two pages are equal when they hold the same items and cursor, whichever call fetched them.
impl<T: PartialEq> PartialEq for Page<T> {
    fn eq(&self, other: &Self) -> bool {
        self.items == other.items && self.next_cursor == other.next_cursor
    }
}

/// The call that fetched a page: the next one is the same call at its `next_cursor`.
#[derive(Clone)]
struct PageOrigin {
    client: Client,
    op: &'static OpSpec,
    args: Vec<Arg>,
    params: Map<String, Value>,
}

impl fmt::Debug for PageOrigin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PageOrigin")
            .field("op", &self.op.name)
            .finish_non_exhaustive()
    }
}

impl<T> Page<T> {
    /// Remembers the call that fetched this page, for [`Page::next_page`].
    pub(crate) fn fetched_by(
        mut self,
        client: &Client,
        op: &'static OpSpec,
        args: Vec<Arg>,
        params: Map<String, Value>,
    ) -> Self {
        self.origin = Some(PageOrigin {
            client: client.clone(),
            op,
            args,
            params,
        });
        self
    }

    /// Whether a page follows this one.
    pub fn has_next_page(&self) -> bool {
        self.next_cursor.is_some()
    }
}

impl<T: DeserializeOwned> Page<T> {
    /// Fetches the page after this one with the call that fetched this one;
    /// `None` on the last page. A page built by hand (not by a client call) is refused.
    pub async fn next_page(&self) -> Result<Option<Page<T>>> {
        let origin = self.origin.as_ref().ok_or_else(|| {
            Error::new(
                ErrorKind::Usage,
                "this page was not fetched by a client call, so it has no next page to fetch",
            )
        })?;
        let Some(params) = next_page_params(&origin.params, self) else {
            return Ok(None);
        };
        let page = origin
            .client
            .invoke(origin.op, origin.args.clone(), params.clone())
            .await?
            .into_page()?
            .fetched_by(&origin.client, origin.op, origin.args.clone(), params);
        page.typed().map(Some)
    }

    /// Blocking form of [`Page::next_page`].
    pub fn next_page_blocking(&self) -> Result<Option<Page<T>>> {
        crate::transport::ensure_may_block()?;
        futures_executor::block_on(self.next_page())
    }
}

impl Page<Value> {
    /// Reads items and cursor from any of the shapes the API uses
    /// (`items`/`data`/`results`/`records` or a resource key; `next_cursor`/`next`/`cursor`).
    pub fn from_body(body: &Value) -> Result<Self> {
        let items = match body {
            Value::Array(items) => items.clone(),
            Value::Object(map) => LIST_KEYS
                .iter()
                .find_map(|k| map.get(*k).and_then(Value::as_array))
                .cloned()
                .ok_or_else(|| Error::decode("the page has no list of items"))?,
            Value::Null => Vec::new(),
            _ => return Err(Error::decode("the page is neither an object nor a list")),
        };
        let cursor_of = |scope: &Value| {
            ["next_cursor", "next", "cursor"]
                .iter()
                .find_map(|k| scope.get(*k).and_then(Value::as_str))
                .filter(|c| !c.is_empty())
                .map(str::to_owned)
        };
        let next_cursor = cursor_of(body)
            .or_else(|| body.get("meta").and_then(cursor_of))
            .or_else(|| body.get("meta").and_then(next_page_number));
        Ok(Self {
            items,
            next_cursor,
            origin: None,
        })
    }

    /// `{"items": [...], "next_cursor": ...}`.
    pub fn to_json(&self) -> Value {
        let mut map = Map::new();
        map.insert("items".into(), Value::Array(self.items.clone()));
        map.insert(
            "next_cursor".into(),
            self.next_cursor.clone().map_or(Value::Null, Value::String),
        );
        Value::Object(map)
    }

    /// Decodes every item as `T`.
    pub fn typed<T: DeserializeOwned>(self) -> Result<Page<T>> {
        Ok(Page {
            items: self
                .items
                .into_iter()
                .map(|v| serde_json::from_value(v).map_err(|e| Error::decode(e.to_string())))
                .collect::<Result<_>>()?,
            next_cursor: self.next_cursor,
            origin: self.origin,
        })
    }
}

/// Fetches the page for the given keyword params (the cursor among them).
pub(crate) type FetchPage =
    Box<dyn Fn(Map<String, Value>) -> BoxFuture<'static, Result<Page>> + Send + Sync>;

/// Walks every item of a paginated operation, fetching pages only when needed.
///
/// Every method takes `&self`: concurrent `next()` calls are served one after
/// another (each item goes to exactly one caller), and [`Pager::close`] from
/// any thread ends the walk and wakes a pending `next()` at once.
pub struct Pager<T = Value> {
    op: &'static OpSpec,
    params: Map<String, Value>,
    fetch: FetchPage,
    state: Mutex<Walk>,
    closed: CancelToken,
    /// The caller's cancel token, if the client handle carried one.
    cancel: Option<CancelToken>,
    _item: PhantomData<fn() -> T>,
}

impl<T> fmt::Debug for Pager<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Pager")
            .field("op", &self.op.name)
            .field("closed", &self.closed.is_cancelled())
            .finish_non_exhaustive()
    }
}

#[derive(Debug, Default)]
struct Walk {
    buffer: VecDeque<Value>,
    next_cursor: Option<String>,
    /// Every cursor already requested: a server sending one again would loop forever.
    seen: HashSet<String>,
    started: bool,
    finished: bool,
}

impl<T: DeserializeOwned> Pager<T> {
    pub(crate) fn new(
        op: &'static OpSpec,
        params: Map<String, Value>,
        fetch: FetchPage,
        cancel: Option<CancelToken>,
    ) -> Result<Self> {
        let Returns::Page { cursor_param, .. } = op.returns else {
            return Err(Error::new(
                ErrorKind::Usage,
                format!("{} is not a paginated operation", op.name),
            ));
        };
        // A start given under the wire name counts as the cursor too.
        let mut params = params;
        if let Some(start) = params.remove(cursor_param) {
            params.entry(CURSOR.to_owned()).or_insert(start);
        }
        let next_cursor = params.get(CURSOR).and_then(|c| match c {
            Value::String(s) => Some(s.clone()),
            Value::Number(n) => Some(n.to_string()),
            _ => None,
        });
        Ok(Self {
            op,
            params,
            fetch,
            state: Mutex::new(Walk {
                next_cursor,
                ..Walk::default()
            }),
            closed: CancelToken::new(),
            cancel,
            _item: PhantomData,
        })
    }

    /// Ends the walk: a pending `next()` returns `None` at once (its request
    /// is dropped), and so does every later one. Safe from any thread.
    pub fn close(&self) {
        self.closed.cancel();
    }

    /// Whether [`Pager::close`] was called.
    pub fn is_closed(&self) -> bool {
        self.closed.is_cancelled()
    }

    /// Runs `work` unless the pager is closed first (`None`) or the caller's
    /// token fires (a cancellation error).
    async fn guarded<R>(&self, work: impl Future<Output = Result<R>>) -> Option<Result<R>> {
        let work = async {
            match &self.cancel {
                Some(token) => token.run(work).await,
                None => work.await,
            }
        };
        if self.closed.is_cancelled() {
            return None;
        }
        tokio::select! {
            biased;
            () = self.closed.cancelled() => None,
            out = work => Some(out),
        }
    }

    /// Fetches the next page, or `None` after the last one (or once closed).
    pub async fn next_page(&self) -> Result<Option<Page<T>>> {
        let page = self
            .guarded(async {
                let mut walk = self.state.lock().await;
                self.advance(&mut walk).await
            })
            .await;
        match page {
            None | Some(Ok(None)) => Ok(None),
            Some(Ok(Some(page))) => page.typed().map(Some),
            Some(Err(err)) => Err(err),
        }
    }

    /// Fetches the page after the walk's position and moves the walk on.
    async fn advance(&self, walk: &mut Walk) -> Result<Option<Page>> {
        if walk.finished || (walk.started && walk.next_cursor.is_none()) {
            walk.finished = true;
            return Ok(None);
        }
        let mut params = self.params.clone();
        match &walk.next_cursor {
            Some(cursor) => {
                params.insert(CURSOR.to_owned(), Value::String(cursor.clone()));
            }
            None => {
                params.remove(CURSOR);
            }
        }
        let fetched = (self.fetch)(params).await;
        let page = match fetched {
            Ok(page) => page,
            Err(err) => {
                walk.finished = true;
                return Err(err);
            }
        };
        walk.started = true;
        if let Some(cursor) = walk.next_cursor.take() {
            walk.seen.insert(cursor);
        }
        match &page.next_cursor {
            // An empty page ends the walk whatever cursor it carries.
            _ if page.items.is_empty() => walk.finished = true,
            Some(next) if walk.seen.contains(next) => {
                walk.finished = true;
                return Err(Error::decode(format!(
                    "{}: the server sent a page cursor it had already sent; \
                     following it would loop forever",
                    self.op.name
                )));
            }
            next => walk.next_cursor.clone_from(next),
        }
        Ok(Some(page))
    }

    /// The next item, fetching the next page when the current one is used up;
    /// `None` at the end or once closed.
    pub async fn next(&self) -> Option<Result<T>> {
        let item = self
            .guarded(async {
                let mut walk = self.state.lock().await;
                loop {
                    if let Some(item) = walk.buffer.pop_front() {
                        return Ok(Some(item));
                    }
                    match self.advance(&mut walk).await? {
                        Some(page) => walk.buffer.extend(page.items),
                        None => return Ok(None),
                    }
                }
            })
            .await?;
        match item {
            Ok(None) => None,
            Ok(Some(value)) => {
                Some(serde_json::from_value(value).map_err(|e| Error::decode(e.to_string())))
            }
            Err(err) => Some(Err(err)),
        }
    }

    /// Blocking form of [`Pager::next`].
    pub fn next_blocking(&self) -> Option<Result<T>> {
        if let Err(err) = crate::transport::ensure_may_block() {
            return Some(Err(err));
        }
        futures_executor::block_on(self.next())
    }

    /// Blocking form of [`Pager::next_page`].
    pub fn next_page_blocking(&self) -> Result<Option<Page<T>>> {
        crate::transport::ensure_may_block()?;
        futures_executor::block_on(self.next_page())
    }

    /// Collects every remaining item.
    pub async fn collect_all(self) -> Result<Vec<T>> {
        let mut out = Vec::new();
        while let Some(item) = self.next().await {
            out.push(item?);
        }
        Ok(out)
    }
}

impl<T: DeserializeOwned> Iterator for Pager<T> {
    type Item = Result<T>;

    fn next(&mut self) -> Option<Self::Item> {
        self.next_blocking()
    }
}

/// Lists paged by number (`meta: {page, per_page, total, total_pages}`): the next
/// page number as the cursor, while the current page is not the last.
fn next_page_number(meta: &Value) -> Option<String> {
    let page = meta.get("page").and_then(Value::as_u64)?;
    let total_pages = meta
        .get("total_pages")
        .and_then(Value::as_u64)
        .or_else(|| {
            let total = meta.get("total").and_then(Value::as_u64)?;
            let per_page = meta
                .get("per_page")
                .and_then(Value::as_u64)
                .filter(|n| *n > 0)?;
            Some(total.div_ceil(per_page))
        })?;
    (page < total_pages).then(|| (page + 1).to_string())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn page_shapes() {
        let seed = Page::from_body(&json!({"items": [1, 2], "next_cursor": "c2"})).expect("page");
        assert_eq!(seed.items.len(), 2);
        assert_eq!(seed.next_cursor.as_deref(), Some("c2"));
        let last = Page::from_body(&json!({"items": [], "next_cursor": null})).expect("page");
        assert_eq!(last.next_cursor, None);
        let data =
            Page::from_body(&json!({"data": [1], "meta": {"next_cursor": "m"}})).expect("page");
        assert_eq!(data.next_cursor.as_deref(), Some("m"));
        assert!(Page::from_body(&json!("x")).is_err());
    }

    #[test]
    fn the_cursor_keyword_reaches_the_wire_name() {
        let mut params = Map::new();
        params.insert(CURSOR.into(), json!("c2"));
        params.insert("limit".into(), json!(2));
        params.insert("after".into(), json!("stale"));
        cursor_to_wire("after", &mut params);
        assert_eq!(params.get("after"), Some(&json!("c2")));
        assert!(!params.contains_key(CURSOR));
        let mut same = Map::new();
        same.insert(CURSOR.into(), json!("c3"));
        cursor_to_wire(CURSOR, &mut same);
        assert_eq!(same.get(CURSOR), Some(&json!("c3")));

        let page = Page::from_body(&json!({"items": [1], "next_cursor": "c9"})).expect("page");
        let next = next_page_params(&params, &page).expect("a next page");
        assert_eq!(next.get(CURSOR), Some(&json!("c9")));
        assert_eq!(next.get("limit"), Some(&json!(2)));
        let last = Page::from_body(&json!({"items": [1]})).expect("page");
        assert_eq!(next_page_params(&params, &last), None);
    }

    #[test]
    fn page_numbers_give_the_next_page_until_the_last() {
        let next =
            |meta: Value| Page::from_body(&json!({"data": [1], "meta": meta})).expect("page");
        let first = next(json!({"page": 1, "per_page": 2, "total": 5, "total_pages": 3}));
        assert_eq!(first.next_cursor.as_deref(), Some("2"));
        let last = next(json!({"page": 3, "per_page": 2, "total": 5, "total_pages": 3}));
        assert_eq!(last.next_cursor, None);
        let counted = next(json!({"page": 2, "per_page": 2, "total": 5}));
        assert_eq!(
            counted.next_cursor.as_deref(),
            Some("3"),
            "total_pages derived from total"
        );
        assert_eq!(
            next(json!({"page": 1})).next_cursor,
            None,
            "no way to know: stop"
        );
    }
}
