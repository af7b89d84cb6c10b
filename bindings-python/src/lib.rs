//! `miosa_native._native`: the compiled half of the `miosa-native` wheel. It
//! exposes a small generic surface (a client with `call`/`acall`/`pager`,
//! streams, pages, SSE parsing, webhook verification); the namespaced API
//! (`client.sandbox.files.write_many(...)`) is generated Python over it.

mod client;
mod convert;
mod errors;
mod from_json;
mod observe;
mod pager;
mod shutdown;
mod socket;
mod stream;
mod table;
mod webhooks;

use pyo3::prelude::*;

/// `value` with secret fields hidden and URL fields stripped of their query and
/// password: the core's one redaction rule, for `repr()` of models.
#[pyfunction]
fn redacted<'py>(py: Python<'py>, value: &Bound<'py, PyAny>) -> PyResult<Bound<'py, PyAny>> {
    errors::guard(|| {
        let json = convert::py_to_json(value)?;
        convert::json_to_py(py, &miosa::redact::json(&json))
    })
}

/// Panics on purpose, so tests can prove a panic surfaces as `MiosaError`.
#[pyfunction]
fn _panic_for_tests(message: &str) -> PyResult<()> {
    errors::guard(|| panic!("{message}"))
}

#[pymodule]
fn _native(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add("__version__", env!("CARGO_PKG_VERSION"))?;
    m.add_class::<client::NativeClient>()?;
    m.add_class::<convert::NotGiven>()?;
    m.add("NOT_GIVEN", Py::new(m.py(), convert::NotGiven)?)?;
    m.add_class::<stream::NativeEventStream>()?;
    m.add_class::<stream::Event>()?;
    m.add_class::<pager::NativePager>()?;
    m.add_class::<socket::NativeSocket>()?;
    m.add_class::<socket::SocketMessage>()?;
    m.add_class::<pager::Page>()?;
    m.add_class::<pager::PageWalk>()?;
    m.add_function(wrap_pyfunction!(stream::parse_sse, m)?)?;
    m.add_function(wrap_pyfunction!(webhooks::verify_webhook, m)?)?;
    m.add_function(wrap_pyfunction!(webhooks::unwrap_webhook, m)?)?;
    m.add_function(wrap_pyfunction!(table::operations, m)?)?;
    m.add_function(wrap_pyfunction!(errors::error_from_response, m)?)?;
    m.add_function(wrap_pyfunction!(redacted, m)?)?;
    m.add_function(wrap_pyfunction!(_panic_for_tests, m)?)?;
    observe::install(m)?;
    shutdown::install(m)?;
    // The User-Agent names the interpreter this module is loaded into.
    let v = m.py().version_info();
    miosa::set_runtime(&format!("python/{}.{}.{}", v.major, v.minor, v.patch))
        .map_err(|e| pyo3::exceptions::PyRuntimeError::new_err(e.to_string()))?;
    Ok(())
}
