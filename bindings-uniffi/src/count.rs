//! Whole numbers on the foreign surface: counts, limits, sizes, exit codes.
//!
//! Swift code counts with `Int`, not `Int64`; a custom type lets `uniffi.toml`
//! map it there (Kotlin keeps `Long`) while the wire stays a 64-bit integer.

use std::fmt;

use serde_json::Value;

/// A whole number: `Int` in Swift, `Long` in Kotlin.
#[derive(Clone, Copy, Default, PartialEq, Eq, Hash)]
pub struct Count(pub i64);

uniffi::custom_newtype!(Count, i64);

impl fmt::Debug for Count {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&self.0, f)
    }
}

impl From<Count> for Value {
    fn from(count: Count) -> Self {
        Value::from(count.0)
    }
}

impl From<Count> for mcore::Arg {
    fn from(count: Count) -> Self {
        mcore::Arg::from(count.0)
    }
}

#[cfg(test)]
mod tests {
    use super::Count;

    #[test]
    fn prints_and_sends_the_plain_number() {
        assert_eq!(format!("{:?}", Some(Count(42))), "Some(42)");
        assert_eq!(serde_json::Value::from(Count(-3)), serde_json::json!(-3));
    }
}
