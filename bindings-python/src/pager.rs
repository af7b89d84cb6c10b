//! Cursor pagination: one `Page`, or a lazy iterator (sync `__next__`,
//! awaitable `anext`) that follows `next_cursor` through the core's `Pager`.

use std::sync::Arc;

use pyo3::prelude::*;
use pyo3::types::{PyIterator, PyList, PyType};
use serde_json::Value;

use crate::client::{block, wrap_json};
use crate::errors::{from_core, guard, guard_async};
use crate::shutdown::Guarded;

/// One page of a list: `items` and the cursor of the next page (`None` on the last).
#[pyclass(frozen, get_all, module = "miosa_native._native")]
#[derive(Debug)]
pub struct Page {
    items: Py<PyList>,
    next_cursor: Option<String>,
}

impl Page {
    pub fn from_core(
        py: Python<'_>,
        page: &miosa::Page,
        wrap: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<Self> {
        let items = PyList::empty(py);
        for item in &page.items {
            items.append(wrap_json(py, item, wrap)?)?;
        }
        Ok(Self {
            items: items.unbind(),
            next_cursor: page.next_cursor.clone(),
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

/// Every item of a paginated operation, fetched a page at a time as iteration needs it.
#[pyclass(frozen, name = "Pager", module = "miosa_native._native")]
#[derive(Debug)]
pub struct NativePager {
    pager: Shared,
    wrap: Option<Py<PyAny>>,
}

impl NativePager {
    pub fn new(pager: miosa::Pager, wrap: Option<Py<PyAny>>) -> Self {
        Self {
            pager: Arc::new(pager),
            wrap,
        }
    }

    fn convert(&self, py: Python<'_>, item: Option<Value>) -> PyResult<Option<Py<PyAny>>> {
        item.map(|value| {
            wrap_json(py, &value, self.wrap.as_ref().map(|w| w.bind(py))).map(Bound::unbind)
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
}
