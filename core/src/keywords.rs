//! Which keyword parameters an operation of the table takes, so a binding
//! whose callers pass them by name at run time (the C ABI's JSON objects)
//! can refuse a misspelt one before any request instead of forwarding it.

use crate::error::{Error, Result};
use crate::ops::{Idempotency, OpSpec, Returns, Upload};

impl OpSpec {
    /// Every keyword name a call of this operation understands: its query and
    /// body parameters, its fixed body fields (sent as the table says
    /// whatever the caller gives), plus `idempotency_key`, `content_type` for
    /// raw uploads and the cursor of a paginated list (`cursor`, or its wire name).
    pub fn keyword_names(&self) -> Vec<&'static str> {
        let mut names: Vec<&'static str> = self
            .query
            .iter()
            .chain(self.body)
            .map(|p| p.name)
            .chain(self.fixed.iter().map(|(name, _)| *name))
            .collect();
        if self.idempotency != Idempotency::None || self.method.has_body() {
            // `idempotency_key` is honoured on every mutation (it keeps retries safe).
            names.push("idempotency_key");
        }
        if self.upload == Upload::Raw {
            names.push("content_type");
        }
        if let Returns::Page { cursor_param, .. } = self.returns {
            // `cursor` in every language; the wire name (`after`, `page`) still passes.
            for name in [crate::pagination::CURSOR, cursor_param] {
                if !names.contains(&name) {
                    names.push(name);
                }
            }
        }
        names
    }

    /// Refuses a keyword name this operation does not take, naming it, the
    /// closest known name when one is near, and where deliberate extras go.
    /// Operations on a caller-given path (`stream_sse`) take any query field.
    pub fn check_keywords<'a>(&self, given: impl IntoIterator<Item = &'a str>) -> Result<()> {
        if self.path.starts_with("{path}") {
            return Ok(());
        }
        let known = self.keyword_names();
        for name in given {
            if known.contains(&name) {
                continue;
            }
            let hint = closest(name, &known)
                .map(|near| format!("; did you mean `{near}`?"))
                .unwrap_or_default();
            let takes = if known.is_empty() {
                "none".to_owned()
            } else {
                known.join(", ")
            };
            return Err(Error::invalid(format!(
                "{}: unknown parameter `{name}`{hint} (it takes {takes}; \
                 fields the table lacks go in `extra`)",
                self.name
            )));
        }
        Ok(())
    }
}

/// The known name within two edits of `name`, if exactly one is nearest.
fn closest<'a>(name: &str, known: &[&'a str]) -> Option<&'a str> {
    known
        .iter()
        .map(|k| (edit_distance(name, k), *k))
        .filter(|(d, _)| *d <= 2)
        .min_by_key(|(d, _)| *d)
        .map(|(_, k)| k)
}

/// Levenshtein distance over characters (names are short).
fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut diagonal = row[0];
        row[0] = i + 1;
        for (j, cb) in b.iter().enumerate() {
            let above = row[j + 1];
            row[j + 1] = (diagonal + usize::from(ca != *cb))
                .min(row[j] + 1)
                .min(above + 1);
            diagonal = above;
        }
    }
    row[b.len()]
}

#[cfg(test)]
mod tests {
    use crate::ops::find;

    #[test]
    fn table_names_pass_and_misspellings_are_named() {
        let list = find("sandbox.files.list").expect("in the table");
        assert!(list.check_keywords(["path", "depth"]).is_ok());
        let err = list.check_keywords(["pth"]).expect_err("misspelt");
        let text = err.to_string();
        assert!(text.contains("`pth`"), "{text}");
        assert!(text.contains("did you mean `path`"), "{text}");
        let far = list.check_keywords(["colour"]).expect_err("unknown");
        assert!(!far.to_string().contains("did you mean"), "{far}");
    }

    #[test]
    fn cursors_keys_and_content_types_are_known() {
        let webhooks = find("webhooks.list").expect("in the table");
        assert!(webhooks.check_keywords(["cursor", "limit"]).is_ok());
        // One `cursor` keyword, whatever the wire calls it.
        let audit = find("audit_log.list").expect("in the table");
        assert!(audit.check_keywords(["cursor", "after"]).is_ok());
        let sessions = find("usage.sessions").expect("in the table");
        assert!(sessions.check_keywords(["cursor", "page"]).is_ok());
        let create = find("sandboxes.create").expect("in the table");
        assert!(create.check_keywords(["idempotency_key", "name"]).is_ok());
        let upload = find("storage.upload_object").expect("in the table");
        assert!(upload.check_keywords(["content_type"]).is_ok());
        let get = find("sandboxes.get").expect("in the table");
        assert!(get.check_keywords(["idempotency_key"]).is_err());
        let completion = find("completions.stream").expect("in the table");
        assert!(completion.check_keywords(["stream", "model"]).is_ok());
        let any_path = find("stream_sse").expect("in the table");
        assert!(any_path.check_keywords(["count", "anything"]).is_ok());
    }

    #[test]
    fn distance() {
        assert_eq!(super::edit_distance("pth", "path"), 1);
        assert_eq!(super::edit_distance("", "ab"), 2);
        assert_eq!(super::edit_distance("abc", "abc"), 0);
    }
}
