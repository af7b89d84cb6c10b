//! The core's operation table, as plain data for tests and tooling.

use pyo3::prelude::*;
use pyo3::types::{PyDict, PyList};

fn names<'py>(py: Python<'py>, params: &[miosa::ops::Param]) -> PyResult<Bound<'py, PyList>> {
    PyList::new(py, params.iter().map(|p| p.name))
}

fn returns(op: &miosa::OpSpec) -> (&'static str, Option<&'static str>) {
    match op.returns {
        miosa::ops::Returns::Model(m) => ("model", Some(m)),
        miosa::ops::Returns::List(m) => ("list", Some(m)),
        miosa::ops::Returns::Page { item, .. } => ("page", Some(item)),
        miosa::ops::Returns::Json => ("json", None),
        miosa::ops::Returns::Bytes => ("bytes", None),
        miosa::ops::Returns::Events => ("events", None),
        miosa::ops::Returns::Bool => ("bool", None),
        miosa::ops::Returns::Socket(frames) => ("socket", Some(frames.as_str())),
    }
}

/// Every operation: `name`, `seed`, `method`, `path`, `positional`, `query`, `body`, `returns`, `model`.
#[pyfunction]
pub fn operations(py: Python<'_>) -> PyResult<Bound<'_, PyList>> {
    let list = PyList::empty(py);
    for op in miosa::ops::OPERATIONS {
        let row = PyDict::new(py);
        row.set_item("name", op.name)?;
        row.set_item("seed", op.seed)?;
        row.set_item("method", op.method.as_str())?;
        row.set_item("path", op.path)?;
        row.set_item("positional", PyList::new(py, op.positional_names())?)?;
        row.set_item("query", names(py, op.query)?)?;
        row.set_item("body", names(py, op.body)?)?;
        let (kind, model) = returns(op);
        row.set_item("returns", kind)?;
        row.set_item("model", model)?;
        list.append(row)?;
    }
    Ok(list)
}
