//! What vacuum must leave alone while someone uses it: the versions being
//! read and the data files being written but not yet committed. Each use is
//! a guard; the key is free again when its last guard drops.

use std::collections::HashMap;
use std::hash::Hash;
use std::sync::{Arc, Mutex, MutexGuard};

type Counts<K> = Arc<Mutex<HashMap<K, usize>>>;

fn lock<K>(counts: &Counts<K>) -> MutexGuard<'_, HashMap<K, usize>> {
    counts.lock().unwrap_or_else(|p| p.into_inner())
}

/// Keys in use, with how many users each.
pub(super) struct InUse<K>(Counts<K>);

impl<K> Default for InUse<K> {
    fn default() -> Self {
        InUse(Arc::default())
    }
}

impl<K> Clone for InUse<K> {
    fn clone(&self) -> Self {
        InUse(self.0.clone())
    }
}

impl<K: Hash + Eq + Clone> InUse<K> {
    /// Marks `key` in use until the returned guard drops.
    pub(super) fn hold(&self, key: K) -> Held<K> {
        *lock(&self.0).entry(key.clone()).or_default() += 1;
        Held { counts: self.0.clone(), key }
    }

    /// The keys in use now.
    pub(super) fn keys(&self) -> Vec<K> {
        lock(&self.0).keys().cloned().collect()
    }
}

/// One use of a key, released when dropped.
pub struct Held<K: Hash + Eq> {
    counts: Counts<K>,
    key: K,
}

impl<K: Hash + Eq + std::fmt::Debug> std::fmt::Debug for Held<K> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_tuple("Held").field(&self.key).finish()
    }
}

impl<K: Hash + Eq> Drop for Held<K> {
    fn drop(&mut self) {
        let mut counts = lock(&self.counts);
        if let Some(count) = counts.get_mut(&self.key) {
            *count -= 1;
            if *count == 0 {
                counts.remove(&self.key);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_key_is_free_when_its_last_user_goes() {
        let in_use = InUse::default();
        let (first, second) = (in_use.hold("v1"), in_use.hold("v1"));
        let other = in_use.hold("v2");
        drop(first);
        let mut keys = in_use.keys();
        keys.sort();
        assert_eq!(keys, ["v1", "v2"]);
        drop((second, other));
        assert!(in_use.keys().is_empty());
    }
}
