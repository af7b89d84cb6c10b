//! Python values to the core's JSON and positional arguments, and back.

use std::time::Duration;

use bytes::Bytes;
use pyo3::prelude::*;
use pyo3::types::{
    PyBool, PyByteArray, PyBytes, PyDict, PyFloat, PyInt, PyList, PyMemoryView, PyString, PyTuple,
};
use serde_json::{Map, Number, Value};

use crate::errors::invalid;

/// Nesting deeper than this is refused (it is almost surely a cycle).
const MAX_DEPTH: usize = 200;

/// Converts a Python value to JSON. Bytes nested in a structure become base64
/// text, the way the API carries binary inside JSON; models convert via `to_dict()`.
pub fn py_to_json(obj: &Bound<'_, PyAny>) -> PyResult<Value> {
    to_json(obj, 0)
}

fn to_json(obj: &Bound<'_, PyAny>, depth: usize) -> PyResult<Value> {
    if depth > MAX_DEPTH {
        return Err(invalid("the value is nested too deeply (a cycle?)"));
    }
    if obj.is_none() {
        return Ok(Value::Null);
    }
    // bool before int: Python's bool is an int subclass.
    if let Ok(b) = obj.cast::<PyBool>() {
        return Ok(Value::Bool(b.is_true()));
    }
    if let Ok(s) = obj.cast::<PyString>() {
        return text(s).map(Value::String);
    }
    if obj.cast::<PyInt>().is_ok() {
        if let Ok(n) = obj.extract::<i64>() {
            return Ok(Value::from(n));
        }
        if let Ok(n) = obj.extract::<u64>() {
            return Ok(Value::from(n));
        }
        return Err(invalid("an integer is too large to send as JSON"));
    }
    if let Ok(f) = obj.cast::<PyFloat>() {
        return Number::from_f64(f.value())
            .map(Value::Number)
            .ok_or_else(|| invalid("NaN and infinity cannot be sent as JSON"));
    }
    if let Ok(dict) = obj.cast::<PyDict>() {
        let mut map = Map::with_capacity(dict.len());
        for (k, v) in dict.iter() {
            let key = k
                .cast::<PyString>()
                .map_err(|_| invalid("dictionary keys must be strings"))?;
            map.insert(text(key)?, to_json(&v, depth + 1)?);
        }
        return Ok(Value::Object(map));
    }
    if let Ok(list) = obj.cast::<PyList>() {
        return list
            .iter()
            .map(|item| to_json(&item, depth + 1))
            .collect::<PyResult<_>>()
            .map(Value::Array);
    }
    if let Ok(tuple) = obj.cast::<PyTuple>() {
        return tuple
            .iter()
            .map(|item| to_json(&item, depth + 1))
            .collect::<PyResult<_>>()
            .map(Value::Array);
    }
    if let Some(bytes) = as_bytes(obj)? {
        // Binary inside JSON: the core's one rule (base64 text).
        return miosa::Input::Bytes(bytes)
            .to_json("value")
            .map_err(|e| crate::errors::from_core(&e));
    }
    if let Ok(to_dict) = obj.getattr("to_dict")
        && to_dict.is_callable()
    {
        return to_json(&to_dict.call0()?, depth + 1);
    }
    let type_name = obj.get_type().name()?;
    Err(invalid(format!(
        "cannot send a value of type `{type_name}` (use str, int, float, bool, None, dict, list or bytes)"
    )))
}

/// A Python string as UTF-8; one with unpaired surrogates cannot be sent.
fn text(s: &Bound<'_, PyString>) -> PyResult<String> {
    s.to_cow()
        .map(|t| t.into_owned())
        .map_err(|_| invalid("a string holds an unpaired surrogate and cannot be sent as UTF-8"))
}

/// The content of `bytes`, `bytearray` and `memoryview`; `None` for anything else.
pub fn as_bytes(obj: &Bound<'_, PyAny>) -> PyResult<Option<Bytes>> {
    if let Ok(b) = obj.cast::<PyBytes>() {
        return Ok(Some(Bytes::copy_from_slice(b.as_bytes())));
    }
    if let Ok(b) = obj.cast::<PyByteArray>() {
        return Ok(Some(Bytes::from(b.to_vec())));
    }
    if obj.cast::<PyMemoryView>().is_ok() {
        let owned = obj.call_method0("tobytes")?;
        let b = owned.cast::<PyBytes>()?;
        return Ok(Some(Bytes::copy_from_slice(b.as_bytes())));
    }
    Ok(None)
}

/// Positional arguments: binary values stay bytes, a list or dict with bytes
/// inside goes to the core as it is (the table says how its parts are sent, e.g.
/// `write_many` items), everything else is JSON.
pub fn py_to_args(args: &Bound<'_, PyTuple>) -> PyResult<Vec<miosa::Arg>> {
    args.iter()
        .map(|arg| {
            if let Some(bytes) = as_bytes(&arg)? {
                return Ok(miosa::Arg::Bytes(bytes));
            }
            if arg.cast::<PyList>().is_ok()
                || arg.cast::<PyTuple>().is_ok()
                || arg.cast::<PyDict>().is_ok()
            {
                let input = to_input(&arg, 0)?;
                if input.holds_bytes() {
                    return Ok(miosa::Arg::Input(input));
                }
            }
            py_to_json(&arg).map(miosa::Arg::Json)
        })
        .collect()
}

/// Marks a keyword the caller did not pass (`None` sends an explicit JSON `null`),
/// as the `NOT_GIVEN` of the Stainless SDKs.
#[pyclass(frozen, module = "miosa_native._native")]
#[derive(Debug)]
pub struct NotGiven;

#[pymethods]
impl NotGiven {
    fn __repr__(&self) -> &'static str {
        "NOT_GIVEN"
    }
    fn __bool__(&self) -> bool {
        false
    }
}

/// A keyword dict: `NOT_GIVEN` values are left out, `None` is kept as JSON `null`.
pub fn py_to_map(dict: Option<&Bound<'_, PyDict>>) -> PyResult<Map<String, Value>> {
    let mut map = Map::new();
    let Some(dict) = dict else {
        return Ok(map);
    };
    for (k, v) in dict.iter() {
        if v.is_instance_of::<NotGiven>() {
            continue;
        }
        let key = k
            .cast::<PyString>()
            .map_err(|_| invalid("parameter names must be strings"))?;
        map.insert(text(key)?, py_to_json(&v)?);
    }
    Ok(map)
}

/// Any Python value as the core's plain [`miosa::Input`], for settings and
/// options; the core checks types and ranges and names the parameter.
pub fn py_to_input(obj: &Bound<'_, PyAny>) -> PyResult<miosa::Input> {
    to_input(obj, 0)
}

fn to_input(obj: &Bound<'_, PyAny>, depth: usize) -> PyResult<miosa::Input> {
    use miosa::Input;
    if depth > MAX_DEPTH {
        return Err(invalid("the value is nested too deeply (a cycle?)"));
    }
    if obj.is_none() || obj.is_instance_of::<NotGiven>() {
        return Ok(Input::Null);
    }
    if let Ok(b) = obj.cast::<PyBool>() {
        return Ok(Input::Bool(b.is_true()));
    }
    if obj.cast::<PyInt>().is_ok() {
        // Beyond i128 the exact value no longer matters: it is refused as too large.
        return Ok(Input::Int(obj.extract::<i128>().unwrap_or(i128::MAX)));
    }
    if let Ok(f) = obj.cast::<PyFloat>() {
        return Ok(Input::Float(f.value()));
    }
    if let Ok(s) = obj.cast::<PyString>() {
        return Ok(match s.to_cow() {
            Ok(text) => Input::Str(text.into_owned()),
            Err(_) => Input::Other("str with unpaired surrogates".to_owned()),
        });
    }
    if let Ok(dict) = obj.cast::<PyDict>() {
        let mut entries = Vec::with_capacity(dict.len());
        for (k, v) in dict.iter() {
            let key = match k.cast::<PyString>() {
                Ok(key) => match key.to_cow() {
                    Ok(key) => key.into_owned(),
                    Err(_) => {
                        return Ok(Input::Other(
                            "dict with an unpaired surrogate in a key".to_owned(),
                        ));
                    }
                },
                Err(_) => return Ok(Input::Other("dict with non-string keys".to_owned())),
            };
            entries.push((key, to_input(&v, depth + 1)?));
        }
        return Ok(Input::Map(entries));
    }
    if obj.cast::<PyList>().is_ok() || obj.cast::<PyTuple>().is_ok() {
        return obj
            .try_iter()?
            .map(|item| to_input(&item?, depth + 1))
            .collect::<PyResult<_>>()
            .map(Input::List);
    }
    if let Some(bytes) = as_bytes(obj)? {
        return Ok(Input::Bytes(bytes));
    }
    Ok(Input::Other(obj.get_type().name()?.to_string()))
}

/// The per-call options of one call, each `None` when not passed.
pub struct CallOptions<'a, 'py> {
    pub extra_headers: Option<&'a Bound<'py, PyAny>>,
    pub extra_query: Option<&'a Bound<'py, PyAny>>,
    pub extra_body: Option<&'a Bound<'py, PyAny>>,
    pub timeout: Option<&'a Bound<'py, PyAny>>,
    pub max_response_bytes: Option<&'a Bound<'py, PyAny>>,
}

impl CallOptions<'_, '_> {
    /// The core's options, `None` when the call passed none.
    pub fn to_core(&self) -> PyResult<Option<miosa::RequestOptions>> {
        let given = [
            ("extra_headers", self.extra_headers),
            ("extra_query", self.extra_query),
            ("extra_body", self.extra_body),
            ("timeout", self.timeout),
            ("max_response_bytes", self.max_response_bytes),
        ];
        let mut entries = Vec::new();
        for (name, value) in given {
            if let Some(value) = value.filter(|v| !v.is_none()) {
                entries.push((name.to_owned(), py_to_input(value)?));
            }
        }
        if entries.is_empty() {
            return Ok(None);
        }
        miosa::RequestOptions::from_input(
            &miosa::Input::Map(entries),
            miosa::Dialect::SNAKE_SECONDS,
        )
        .map(Some)
        .map_err(|e| crate::errors::from_core(&e))
    }
}

/// Seconds as a positive, finite duration.
pub fn duration(name: &str, seconds: f64) -> PyResult<Duration> {
    if !(seconds.is_finite() && seconds > 0.0) {
        return Err(invalid(format!(
            "{name} must be a positive number of seconds"
        )));
    }
    Duration::try_from_secs_f64(seconds).map_err(|_| invalid(format!("{name} is out of range")))
}

/// JSON to plain Python objects (dict, list, str, int, float, bool, None).
pub fn json_to_py<'py>(py: Python<'py>, value: &Value) -> PyResult<Bound<'py, PyAny>> {
    Ok(match value {
        Value::Null => py.None().into_bound(py),
        Value::Bool(b) => PyBool::new(py, *b).to_owned().into_any(),
        Value::Number(n) => {
            if let Some(i) = n.as_i64() {
                i.into_pyobject(py)?.into_any()
            } else if let Some(u) = n.as_u64() {
                u.into_pyobject(py)?.into_any()
            } else {
                n.as_f64().unwrap_or(f64::NAN).into_pyobject(py)?.into_any()
            }
        }
        Value::String(s) => PyString::new(py, s).into_any(),
        Value::Array(items) => {
            let list = PyList::empty(py);
            for item in items {
                list.append(json_to_py(py, item)?)?;
            }
            list.into_any()
        }
        Value::Object(map) => {
            let dict = PyDict::new(py);
            for (k, v) in map {
                dict.set_item(k, json_to_py(py, v)?)?;
            }
            dict.into_any()
        }
    })
}
