//! A connection's state: who it is, what its queries see and the settings
//! tools `SET` and `SHOW` (kept for `SHOW`; queries do not read them).

use std::collections::BTreeMap;
use std::sync::Mutex;

use arrow::datatypes::SchemaRef;

use crate::daemon::auth::Principal;
use crate::daemon::query::Scope;

pub struct Session {
    /// Who signed in, for what a write needs.
    pub principal: Principal,
    pub scope: Scope,
    settings: Mutex<BTreeMap<String, String>>,
    /// The open cursors' result columns, for a `FETCH` being prepared (the
    /// cursors themselves are portals in pgwire's store).
    cursors: Mutex<BTreeMap<String, SchemaRef>>,
    /// The `COPY ... FROM STDIN` under way, between its statement and the
    /// client's `CopyDone`.
    pub copy_in: tokio::sync::Mutex<Option<super::copy_in::CopyIn>>,
}

/// What `SHOW` answers before a `SET`: a Postgres 16 server's defaults for
/// what drivers and tools ask on connect.
const DEFAULTS: &[(&str, &str)] = &[
    ("application_name", ""),
    ("client_encoding", "UTF8"),
    ("datestyle", "ISO, MDY"),
    ("default_transaction_isolation", "read committed"),
    ("default_transaction_read_only", "off"),
    ("extra_float_digits", "1"),
    ("integer_datetimes", "on"),
    ("jit", "off"),
    ("intervalstyle", "postgres"),
    ("lc_collate", "C"),
    ("lc_ctype", "C"),
    ("max_identifier_length", "63"),
    ("search_path", "\"$user\", public"),
    ("server_encoding", "UTF8"),
    ("standard_conforming_strings", "on"),
    ("statement_timeout", "0"),
    ("timezone", "UTC"),
    ("transaction_isolation", "read committed"),
    ("transaction_read_only", "off"),
];

/// A setting's value in a fresh session.
pub fn default_setting(name: &str) -> Option<&'static str> {
    let name = name.to_ascii_lowercase();
    if name == "server_version" {
        return Some(super::SERVER_VERSION);
    }
    DEFAULTS.iter().find(|(n, _)| *n == name).map(|(_, v)| *v)
}

impl Session {
    pub fn new(principal: Principal, scope: Scope) -> Session {
        Session {
            principal,
            scope,
            settings: Mutex::new(BTreeMap::new()),
            cursors: Mutex::new(BTreeMap::new()),
            copy_in: tokio::sync::Mutex::new(None),
        }
    }

    pub fn set(&self, name: &str, value: String) {
        self.settings.lock().expect("settings lock").insert(name.to_ascii_lowercase(), value);
    }

    /// `RESET name` / `RESET ALL`.
    pub fn reset(&self, name: Option<&str>) {
        let mut settings = self.settings.lock().expect("settings lock");
        match name {
            Some(name) => drop(settings.remove(&name.to_ascii_lowercase())),
            None => settings.clear(),
        }
    }

    /// A setting's value, or `None` for one Postgres would not know either.
    pub fn show(&self, name: &str) -> Option<String> {
        let name = name.to_ascii_lowercase();
        if let Some(value) = self.settings.lock().expect("settings lock").get(&name) {
            return Some(value.clone());
        }
        default_setting(&name).map(str::to_string)
    }

    pub fn open_cursor(&self, name: &str, schema: SchemaRef) {
        self.cursors.lock().expect("cursors lock").insert(name.to_string(), schema);
    }

    pub fn cursor(&self, name: &str) -> Option<SchemaRef> {
        self.cursors.lock().expect("cursors lock").get(name).cloned()
    }

    /// Forgets `name`, or every cursor; returns the names forgotten.
    pub fn close_cursors(&self, name: Option<&str>) -> Vec<String> {
        let mut cursors = self.cursors.lock().expect("cursors lock");
        match name {
            Some(name) => cursors.remove(name).map(|_| vec![name.to_string()]).unwrap_or_default(),
            None => std::mem::take(&mut *cursors).into_keys().collect(),
        }
    }
}
