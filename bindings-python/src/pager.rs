//! Cursor pagination: one `Page`, or a lazy iterator (sync `__next__`,
//! awaitable `anext`) that follows `next_cursor` through the core's `Pager`.

use std::sync::Arc;

use pyo3::exceptions::PyStopIteration;
use pyo3::prelude::*;
use pyo3::types::{PyIterator, PyList, PyType};
use serde_json::{Map, Value};

use crate::client::{block, wrap_json};
use crate::errors::{from_core, guard, guard_async};
use crate::shutdown::Guarded;

/// The call that fetched a page, to fetch the pages after it the same way.
#[derive(Debug)]
pub struct PageCall {
    pub client: miosa::Client,
    pub op: &'static miosa::OpSpec,
    pub args: Vec<miosa::Arg>,
    pub params: Map<String, Value>,
    pub wrap: Option<Py<PyAny>>,
}

impl PageCall {
    /// The call, kept only for paginated operations (other calls need no copy of their values).
    pub fn keep(
        client: &miosa::Client,
        op: &'static miosa::OpSpec,
        args: &[miosa::Arg],
        params: &Map<String, Value>,
        wrap: Option<Py<PyAny>>,
    ) -> Option<Self> {
        matches!(op.returns, miosa::ops::Returns::Page { .. }).then(|| Self {
            client: client.clone(),
            op,
            args: args.to_vec(),
            params: params.clone(),
            wrap,
        })
    }

    /// The same call for the page after `page` (the core says how), if any.
    fn after(&self, py: Python<'_>, page: &miosa::Page) -> Option<Self> {
        miosa::next_page_params(&self.params, page).map(|params| Self {
            client: self.client.clone(),
            op: self.op,
            args: self.args.clone(),
            params,
            wrap: self.wrap.as_ref().map(|w| w.clone_ref(py)),
        })
    }

    pub fn to_page(&self, py: Python<'_>, page: &miosa::Page) -> PyResult<Page> {
        let wrap = self.wrap.as_ref().map(|w| w.bind(py));
        Page::from_core(py, page, wrap, self.after(py, page))
    }

    async fn fetch(&self) -> miosa::Result<miosa::Page> {
        self.client
            .invoke(self.op, self.args.clone(), self.params.clone())
            .await?
            .into_page()
    }
}

/// One page of a list: `items` and the cursor of the next page (`None` on the last).
#[pyclass(frozen, module = "miosa_native._native")]
#[derive(Debug)]
pub struct Page {
    #[pyo3(get)]
    items: Py<PyList>,
    #[pyo3(get)]
    next_cursor: Option<String>,
    /// How to fetch the next page; `None` on the last one.
    next: Option<PageCall>,
}

impl Page {
    pub fn from_core(
        py: Python<'_>,
        page: &miosa::Page,
        wrap: Option<&Bound<'_, PyAny>>,
        next: Option<PageCall>,
    ) -> PyResult<Self> {
        let items = PyList::empty(py);
        for item in &page.items {
            items.append(wrap_json(py, item, wrap)?)?;
        }
        Ok(Self {
            items: items.unbind(),
            next_cursor: page.next_cursor.clone(),
            next,
        })
    }
}

#[pymethods]
impl Page {
    #[classmethod]
    fn __class_getitem__<'py>(
        cls: &Bound<'py, PyType>,
        item: &Bound<'py, PyAny>,
    ) -> PyResult<Bound<'py, PyAny>> {
        generic_alias(cls, item)
    }

    /// Whether another page follows.
    #[getter]
    fn has_more(&self) -> bool {
        self.next_cursor.is_some()
    }

    /// The page after this one (one request, GIL released), or `None` on the last.
    fn next_page(&self, py: Python<'_>) -> PyResult<Option<Page>> {
        guard(|| {
            let Some(call) = &self.next else {
                return Ok(None);
            };
            let page = block(py, call.fetch())?;
            call.to_page(py, &page).map(Some)
        })
    }

    /// Awaitable `next_page()`, for `AsyncClient`.
    async fn anext_page(slf: Py<Self>) -> PyResult<Option<Page>> {
        guard_async(async move {
            let Some(call) = Python::attach(|py| {
                slf.get().next.as_ref().map(|c| PageCall {
                    client: c.client.clone(),
                    op: c.op,
                    args: c.args.clone(),
                    params: c.params.clone(),
                    wrap: c.wrap.as_ref().map(|w| w.clone_ref(py)),
                })
            }) else {
                return Ok(None);
            };
            let page = Guarded::new(call.fetch())
                .await
                .map_err(|e| from_core(&e))?;
            Python::attach(|py| call.to_page(py, &page).map(Some))
        })
        .await
    }

    fn __len__(&self, py: Python<'_>) -> usize {
        self.items.bind(py).len()
    }

    fn __iter__<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyIterator>> {
        self.items.bind(py).try_iter()
    }

    fn __getitem__<'py>(&self, py: Python<'py>, index: isize) -> PyResult<Bound<'py, PyAny>> {
        self.items.bind(py).as_any().get_item(index)
    }

    fn __repr__(&self, py: Python<'_>) -> PyResult<String> {
        let cursor = self.next_cursor.as_deref().into_pyobject(py)?.into_any();
        Ok(format!(
            "Page(items=<{} items>, next_cursor={})",
            self.items.bind(py).len(),
            cursor.repr()?.to_cow()?
        ))
    }
}

/// `Page[Webhook]` / `Pager[Webhook]` at runtime, as the stubs spell them.
fn generic_alias<'py>(
    cls: &Bound<'py, PyType>,
    item: &Bound<'py, PyAny>,
) -> PyResult<Bound<'py, PyAny>> {
    cls.py()
        .import("types")?
        .getattr("GenericAlias")?
        .call1((cls, item))
}

/// The core's pager, shared by every waiting reader: it serves concurrent
/// reads one item each and its `close()` wakes them all.
type Shared = Arc<miosa::Pager>;

/// The next item; the pager is closed once exhausted or failed.
async fn next_item(pager: Shared) -> miosa::Result<Option<Value>> {
    match pager.next().await {
        Some(Ok(item)) => Ok(Some(item)),
        Some(Err(err)) => {
            pager.close();
            Err(err)
        }
        None => {
            pager.close();
            Ok(None)
        }
    }
}

/// The next page of a walk; the pager is closed once exhausted or failed.
async fn next_page(pager: Shared) -> miosa::Result<Option<miosa::Page>> {
    match pager.next_page().await {
        Ok(Some(page)) => Ok(Some(page)),
        other => {
            pager.close();
            other
        }
    }
}

/// Every item of a paginated operation, fetched a page at a time as iteration needs it.
#[pyclass(frozen, name = "Pager", module = "miosa_native._native")]
#[derive(Debug)]
pub struct NativePager {
    pager: Shared,
    /// The call behind the walk (item model included), so that its pages can fetch their successors.
    call: PageCall,
}

impl NativePager {
    pub fn new(pager: miosa::Pager, call: PageCall) -> Self {
        Self {
            pager: Arc::new(pager),
            call,
        }
    }

    fn convert(&self, py: Python<'_>, item: Option<Value>) -> PyResult<Option<Py<PyAny>>> {
        item.map(|value| {
            wrap_json(py, &value, self.call.wrap.as_ref().map(|w| w.bind(py))).map(Bound::unbind)
        })
        .transpose()
    }
}

#[pymethods]
impl NativePager {
    #[classmethod]
    fn __class_getitem__<'py>(
        cls: &Bound<'py, PyType>,
        item: &Bound<'py, PyAny>,
    ) -> PyResult<Bound<'py, PyAny>> {
        generic_alias(cls, item)
    }

    fn __iter__(slf: Py<Self>) -> Py<Self> {
        slf
    }

    /// The next item, fetching the next page when needed (GIL released, Ctrl-C interrupts).
    fn __next__(&self, py: Python<'_>) -> PyResult<Option<Py<PyAny>>> {
        guard(|| {
            let item = block(py, next_item(Arc::clone(&self.pager)))?;
            self.convert(py, item)
        })
    }

    /// Awaitable next item; `None` after the last one.
    async fn anext(&self) -> PyResult<Option<Py<PyAny>>> {
        let pager = Arc::clone(&self.pager);
        guard_async(async move {
            let item = Guarded::new(next_item(pager))
                .await
                .map_err(|e| from_core(&e))?;
            Python::attach(|py| self.convert(py, item))
        })
        .await
    }

    /// Ends the walk; a pending read (from another thread or task) returns at once.
    fn close(&self) {
        self.pager.close();
    }

    /// Whether the walk has ended (closed, exhausted or failed).
    #[getter]
    fn closed(&self) -> bool {
        self.pager.is_closed()
    }

    /// The next whole page of the walk (GIL released), or `None` after the last.
    fn next_page(&self, py: Python<'_>) -> PyResult<Option<Page>> {
        guard(|| {
            let page = block(py, next_page(Arc::clone(&self.pager)))?;
            page.map(|p| self.call.to_page(py, &p)).transpose()
        })
    }

    /// Awaitable `next_page()`; `None` after the last page.
    async fn anext_page(&self) -> PyResult<Option<Page>> {
        let pager = Arc::clone(&self.pager);
        guard_async(async move {
            let page = Guarded::new(next_page(pager))
                .await
                .map_err(|e| from_core(&e))?;
            Python::attach(|py| page.map(|p| self.call.to_page(py, &p)).transpose())
        })
        .await
    }

    /// The walk page by page instead of item by item: `for page in pager.iter_pages()`.
    fn iter_pages(slf: Py<Self>) -> PageWalk {
        PageWalk { pager: slf }
    }
}

/// Whole pages of a [`NativePager`], for `for page in pager.iter_pages()`.
#[pyclass(frozen, module = "miosa_native._native")]
#[derive(Debug)]
pub struct PageWalk {
    pager: Py<NativePager>,
}

#[pymethods]
impl PageWalk {
    fn __iter__(slf: Py<Self>) -> Py<Self> {
        slf
    }

    fn __next__(&self, py: Python<'_>) -> PyResult<Page> {
        self.pager
            .get()
            .next_page(py)?
            .ok_or_else(|| PyStopIteration::new_err(()))
    }

    /// Ends the walk.
    fn close(&self) {
        self.pager.get().close();
    }
}
