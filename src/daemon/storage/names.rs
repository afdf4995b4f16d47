//! Dataframe and bucket names: the one place that decides what may become
//! part of a storage path.

use crate::daemon::error::{DaemonError, Result};

pub const MAX_NAME_LEN: usize = 128;

/// A validated dataframe or bucket name: 1–128 of `[A-Za-z0-9_.-]`, not
/// starting with `.` or `_`, never containing `..`.
///
/// Names starting with `_` are reserved for shoots' own entries
/// (`_default`, `_log`, ...), which is what keeps the layout unambiguous.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Name(String);

impl Name {
    pub fn parse(kind: &str, raw: &str) -> Result<Name> {
        let shown: String = raw.chars().take(40).flat_map(char::escape_default).collect();
        let bad = |why: &str| DaemonError::InvalidName(format!("invalid {kind} name \"{shown}\": {why}"));
        if raw.is_empty() {
            return Err(bad("must not be empty"));
        }
        if raw.len() > MAX_NAME_LEN {
            return Err(bad(&format!("longer than {MAX_NAME_LEN} characters")));
        }
        if let Some(c) = raw.chars().find(|c| !(c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.'))) {
            return Err(bad(&format!("character {:?} not allowed (use letters, digits, '_', '-', '.')", c)));
        }
        if raw.starts_with('.') || raw.starts_with('_') {
            return Err(bad("must not start with '.' or '_'"));
        }
        if raw.contains("..") {
            return Err(bad("must not contain '..'"));
        }
        Ok(Name(raw.to_string()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Display for Name {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// Which bucket a request addresses: the default one, or a named one.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum BucketId {
    Default,
    Named(Name),
}

impl BucketId {
    /// `None`, `""` and JSON `null` all mean the default bucket, as in the
    /// original client.
    pub fn parse(raw: Option<&str>) -> Result<BucketId> {
        match raw {
            None | Some("") => Ok(BucketId::Default),
            Some(b) => Ok(BucketId::Named(Name::parse("bucket", b)?)),
        }
    }

    /// The bucket's directory name in the store.
    pub fn dir(&self) -> &str {
        match self {
            BucketId::Default => crate::protocol::DEFAULT_SCHEMA,
            BucketId::Named(n) => n.as_str(),
        }
    }

    pub fn name(&self) -> Option<&str> {
        match self {
            BucketId::Default => None,
            BucketId::Named(n) => Some(n.as_str()),
        }
    }
}

impl std::fmt::Display for BucketId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            BucketId::Default => f.write_str("(default)"),
            BucketId::Named(n) => f.write_str(n.as_str()),
        }
    }
}

/// A dataframe's address: bucket and name, both validated.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Target {
    pub bucket: BucketId,
    pub name: Name,
}

impl Target {
    pub fn parse(bucket: Option<&str>, name: &str) -> Result<Target> {
        Ok(Target { bucket: BucketId::parse(bucket)?, name: Name::parse("dataframe", name)? })
    }
}

impl std::fmt::Display for Target {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}/{}", self.bucket, self.name)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_ordinary_names() {
        for ok in ["a", "sensor_data", "x.parquet", "A-1", "-x", &"a".repeat(128)] {
            assert!(Name::parse("dataframe", ok).is_ok(), "{ok}");
        }
    }

    #[test]
    fn rejects_hostile_names() {
        let long = "a".repeat(129);
        for bad in ["", "../x", "a/b", "a\\b", ".hidden", "_x", "a\0b", "a..b", "..", "é", " a", &long] {
            let err = Name::parse("dataframe", bad).unwrap_err();
            assert!(matches!(err, DaemonError::InvalidName(_)), "{bad:?}");
        }
    }

    #[test]
    fn empty_bucket_is_default() {
        assert_eq!(BucketId::parse(Some("")).unwrap(), BucketId::Default);
        assert_eq!(BucketId::parse(None).unwrap(), BucketId::Default);
        assert!(BucketId::parse(Some("_default")).is_err());
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(4000))]

        /// Whatever comes in, a name that passes is one path segment that
        /// cannot climb, hide or collide with shoots' own `_` entries.
        #[test]
        fn accepted_names_are_safe_path_segments(raw in "\\PC{0,140}|[a-zA-Z0-9_.\\-/\\\\]{0,140}") {
            match Name::parse("dataframe", &raw) {
                Ok(name) => {
                    let s = name.as_str();
                    proptest::prop_assert!(!s.is_empty() && s.len() <= MAX_NAME_LEN);
                    proptest::prop_assert!(s.bytes().all(|b| b.is_ascii_alphanumeric() || b"_-.".contains(&b)));
                    proptest::prop_assert!(!s.starts_with('.') && !s.starts_with('_') && !s.contains(".."));
                    let as_path = object_store::path::Path::from(s);
                    proptest::prop_assert_eq!(as_path.as_ref(), s);
                }
                Err(e) => proptest::prop_assert!(matches!(e, DaemonError::InvalidName(_))),
            }
        }
    }
}
