//! JSON text straight to Python objects: the parser's events build the
//! `dict`/`list`/`str` values directly, with no JSON tree in between. The
//! objects are the ones `json_to_py` makes from the same text (keys in document
//! order, a repeated key keeps its first place and its last value).

use std::cell::RefCell;
use std::fmt;

use pyo3::prelude::*;
use pyo3::types::{PyBool, PyDict, PyList, PyString};
use serde::de::{self, DeserializeSeed, Deserializer, MapAccess, SeqAccess, Visitor};

use crate::errors::from_core;

/// Builds the Python value of one JSON text.
pub fn json_text_to_py<'py>(py: Python<'py>, text: &[u8]) -> PyResult<Bound<'py, PyAny>> {
    let failure = RefCell::new(None);
    let mut de = serde_json::Deserializer::from_slice(text);
    let built = PyValue {
        py,
        failure: &failure,
    }
    .deserialize(&mut de)
    .and_then(|value| de.end().map(|()| value));
    match (built, failure.into_inner()) {
        (_, Some(err)) => Err(err),
        (Ok(value), None) => Ok(value),
        (Err(e), None) => Err(from_core(&miosa::Error::new(
            miosa::ErrorKind::Decode,
            format!("the response is not valid JSON ({e})"),
        ))),
    }
}

/// One JSON value as a Python object; a Python error is kept aside and stops the parse.
#[derive(Clone, Copy)]
struct PyValue<'a, 'py> {
    py: Python<'py>,
    failure: &'a RefCell<Option<PyErr>>,
}

impl<'py> PyValue<'_, 'py> {
    fn keep<T, E: de::Error>(self, result: PyResult<T>) -> Result<T, E> {
        result.map_err(|err| {
            *self.failure.borrow_mut() = Some(err);
            E::custom("a Python object could not be built")
        })
    }
}

impl<'de, 'py> DeserializeSeed<'de> for PyValue<'_, 'py> {
    type Value = Bound<'py, PyAny>;

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<Self::Value, D::Error> {
        deserializer.deserialize_any(self)
    }
}

impl<'de, 'py> Visitor<'de> for PyValue<'_, 'py> {
    type Value = Bound<'py, PyAny>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("any JSON value")
    }
    fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
        Ok(self.py.None().into_bound(self.py))
    }
    fn visit_bool<E: de::Error>(self, v: bool) -> Result<Self::Value, E> {
        Ok(PyBool::new(self.py, v).to_owned().into_any())
    }
    fn visit_i64<E: de::Error>(self, v: i64) -> Result<Self::Value, E> {
        let Ok(int) = v.into_pyobject(self.py);
        Ok(int.into_any())
    }
    fn visit_u64<E: de::Error>(self, v: u64) -> Result<Self::Value, E> {
        let Ok(int) = v.into_pyobject(self.py);
        Ok(int.into_any())
    }
    fn visit_f64<E: de::Error>(self, v: f64) -> Result<Self::Value, E> {
        let Ok(float) = v.into_pyobject(self.py);
        Ok(float.into_any())
    }
    fn visit_str<E: de::Error>(self, v: &str) -> Result<Self::Value, E> {
        Ok(PyString::new(self.py, v).into_any())
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
        let list = PyList::empty(self.py);
        while let Some(item) = seq.next_element_seed(self)? {
            self.keep(list.append(item))?;
        }
        Ok(list.into_any())
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        let dict = PyDict::new(self.py);
        while let Some(key) = map.next_key_seed(PyKey(self.py))? {
            let value = map.next_value_seed(self)?;
            self.keep(dict.set_item(key, value))?;
        }
        Ok(dict.into_any())
    }
}

/// An object key as a Python `str`, borrowed from the text when it has no escapes.
struct PyKey<'py>(Python<'py>);

impl<'de, 'py> DeserializeSeed<'de> for PyKey<'py> {
    type Value = Bound<'py, PyString>;

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<Self::Value, D::Error> {
        deserializer.deserialize_str(self)
    }
}

impl<'de, 'py> Visitor<'de> for PyKey<'py> {
    type Value = Bound<'py, PyString>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("an object key")
    }
    fn visit_str<E: de::Error>(self, v: &str) -> Result<Self::Value, E> {
        Ok(PyString::new(self.0, v))
    }
}
