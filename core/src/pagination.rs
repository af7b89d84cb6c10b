//! Cursor pagination: one page on request, or a lazy iterator that follows
//! `next_cursor` to the end.

use std::collections::VecDeque;
use std::marker::PhantomData;

use serde::de::DeserializeOwned;
use serde_json::{Map, Value};

use crate::client::Client;
use crate::dispatch::{Arg, LIST_KEYS};
use crate::error::{Error, ErrorKind, Result};
use crate::ops::{OpSpec, Returns};

/// One page of a list.
#[derive(Debug, Clone, PartialEq)]
pub struct Page<T = Value> {
    /// The items of this page.
    pub items: Vec<T>,
    /// The cursor of the next page; `None` on the last one.
    pub next_cursor: Option<String>,
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
        Ok(Self { items, next_cursor })
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
        })
    }
}

/// Walks every item of a paginated operation, fetching pages only when needed.
#[derive(Debug)]
pub struct Pager<T = Value> {
    client: Client,
    op: &'static OpSpec,
    cursor_param: &'static str,
    args: Vec<Arg>,
    params: Map<String, Value>,
    buffer: VecDeque<Value>,
    next_cursor: Option<String>,
    started: bool,
    finished: bool,
    _item: PhantomData<fn() -> T>,
}

impl<T: DeserializeOwned> Pager<T> {
    pub(crate) fn new(
        client: Client,
        op: &'static OpSpec,
        args: Vec<Arg>,
        params: Map<String, Value>,
    ) -> Result<Self> {
        let Returns::Page { cursor_param, .. } = op.returns else {
            return Err(Error::new(
                ErrorKind::Usage,
                format!("{} is not a paginated operation", op.name),
            ));
        };
        let next_cursor = params
            .get(cursor_param)
            .and_then(Value::as_str)
            .map(str::to_owned);
        Ok(Self {
            client,
            op,
            cursor_param,
            args,
            params,
            buffer: VecDeque::new(),
            next_cursor,
            started: false,
            finished: false,
            _item: PhantomData,
        })
    }

    /// Fetches the next page, or `None` after the last one.
    pub async fn next_page(&mut self) -> Result<Option<Page<T>>> {
        match self.fetch().await? {
            Some(page) => page.typed().map(Some),
            None => Ok(None),
        }
    }

    async fn fetch(&mut self) -> Result<Option<Page>> {
        if self.finished || (self.started && self.next_cursor.is_none()) {
            self.finished = true;
            return Ok(None);
        }
        let mut params = self.params.clone();
        match &self.next_cursor {
            Some(cursor) => {
                params.insert(self.cursor_param.to_owned(), Value::String(cursor.clone()));
            }
            None => {
                params.remove(self.cursor_param);
            }
        }
        let page = self
            .client
            .invoke(self.op, self.args.clone(), params)
            .await?
            .into_page()?;
        self.started = true;
        // A server that repeats a cursor or sends an empty page would loop forever.
        if page.items.is_empty() || page.next_cursor == self.next_cursor {
            self.next_cursor = None;
        } else {
            self.next_cursor.clone_from(&page.next_cursor);
        }
        Ok(Some(page))
    }

    /// The next item, fetching the next page when the current one is used up.
    pub async fn next(&mut self) -> Option<Result<T>> {
        loop {
            if let Some(item) = self.buffer.pop_front() {
                return Some(
                    serde_json::from_value(item).map_err(|e| Error::decode(e.to_string())),
                );
            }
            match self.fetch().await {
                Ok(Some(page)) => self.buffer.extend(page.items),
                Ok(None) => return None,
                Err(err) => {
                    self.finished = true;
                    return Some(Err(err));
                }
            }
        }
    }

    /// Blocking form of [`Pager::next`].
    pub fn next_blocking(&mut self) -> Option<Result<T>> {
        if let Err(err) = crate::client::ensure_may_block() {
            return Some(Err(err));
        }
        futures_executor::block_on(self.next())
    }

    /// Blocking form of [`Pager::next_page`].
    pub fn next_page_blocking(&mut self) -> Result<Option<Page<T>>> {
        crate::client::ensure_may_block()?;
        futures_executor::block_on(self.next_page())
    }

    /// Collects every remaining item.
    pub async fn collect_all(mut self) -> Result<Vec<T>> {
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
