//! Secrets longer than one keychain entry may hold. The Windows Credential Manager keeps at
//! most 2,560 bytes per credential (`CRED_MAX_CREDENTIAL_BLOB_SIZE`), and keyring's
//! `set_password` stores text as UTF-16 there, so an RSA-2048 private key (1.7 kB of PEM) was
//! refused. Such a secret is kept in parts: entries `<name>#part1` … `<name>#partN` of at most
//! `limit` bytes each, and under `<name>` itself a head, [`HEAD`] + N, written after the parts
//! so that a reader never sees a head whose parts are missing. A value that fits and does not
//! start with NUL (which no text secret does) is stored as it is, in one entry.

use zeroize::Zeroizing;

/// Entries of raw bytes, as one keychain service holds them.
pub(crate) trait Entries {
    type Error;
    fn put(&self, user: &str, bytes: &[u8]) -> Result<(), Self::Error>;
    /// `None` when there is no entry.
    fn read(&self, user: &str) -> Result<Option<Zeroizing<Vec<u8>>>, Self::Error>;
    /// Whether there was an entry.
    fn remove(&self, user: &str) -> Result<bool, Self::Error>;
}

/// What a head entry starts with; the number of parts follows in decimal.
pub(crate) const HEAD: &[u8] = b"\0ruuvi-desk parts=";

/// More parts than any secret of ours needs (a 4096-bit key is 3.3 kB): a head that claims
/// more is damaged, not a reason to make thousands of keychain calls.
const MAX_PARTS: usize = 64;

fn part_name(user: &str, i: usize) -> String {
    format!("{user}#part{i}")
}

fn parts_in(head: &[u8]) -> Option<usize> {
    let count = head.strip_prefix(HEAD)?;
    std::str::from_utf8(count).ok()?.parse().ok()
}

/// Why a stored secret could not be read back.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Damage<E> {
    Keychain(E),
    /// A head that names a bad count, or a part that is missing.
    Parts(String),
}

impl<E> From<E> for Damage<E> {
    fn from(e: E) -> Self {
        Damage::Keychain(e)
    }
}

pub(crate) fn set<S: Entries>(
    store: &S,
    user: &str,
    value: &[u8],
    limit: usize,
) -> Result<(), Damage<S::Error>> {
    let before = match store.read(user)? {
        Some(head) => parts_in(&head).unwrap_or(0).min(MAX_PARTS),
        None => 0,
    };
    let count = if value.len() <= limit && !value.starts_with(b"\0") {
        store.put(user, value)?;
        0
    } else {
        let chunks: Vec<&[u8]> = value.chunks(limit.max(1)).collect();
        if chunks.len() > MAX_PARTS {
            return Err(Damage::Parts(format!(
                "{} bytes is more than {MAX_PARTS} entries of {limit} bytes",
                value.len()
            )));
        }
        for (i, chunk) in chunks.iter().enumerate() {
            store.put(&part_name(user, i + 1), chunk)?;
        }
        let mut head = HEAD.to_vec();
        head.extend_from_slice(chunks.len().to_string().as_bytes());
        store.put(user, &head)?;
        chunks.len()
    };
    // Parts of a longer value stored before: nothing refers to them any more.
    for i in count + 1..=before {
        store.remove(&part_name(user, i))?;
    }
    Ok(())
}

pub(crate) fn get<S: Entries>(
    store: &S,
    user: &str,
) -> Result<Option<Zeroizing<Vec<u8>>>, Damage<S::Error>> {
    let Some(head) = store.read(user)? else {
        return Ok(None);
    };
    if !head.starts_with(HEAD) {
        return Ok(Some(head));
    }
    let count = parts_in(&head)
        .filter(|n| (1..=MAX_PARTS).contains(n))
        .ok_or_else(|| Damage::Parts(format!("{user}: a damaged head entry")))?;
    let mut value = Zeroizing::new(Vec::new());
    for i in 1..=count {
        let part = store
            .read(&part_name(user, i))?
            .ok_or_else(|| Damage::Parts(format!("{user}: part {i} of {count} is missing")))?;
        value.extend_from_slice(&part);
    }
    Ok(Some(value))
}

pub(crate) fn delete<S: Entries>(store: &S, user: &str) -> Result<bool, S::Error> {
    let count = match store.read(user)? {
        Some(head) => parts_in(&head).unwrap_or(0).min(MAX_PARTS),
        None => return Ok(false),
    };
    for i in 1..=count {
        store.remove(&part_name(user, i))?;
    }
    store.remove(user)
}

#[cfg(test)]
mod tests {
    use super::*;
    use parking_lot::Mutex;
    use std::collections::BTreeMap;

    /// Entries in memory that refuse what is longer than `limit`, like the Credential Manager.
    struct Limited {
        limit: usize,
        entries: Mutex<BTreeMap<String, Vec<u8>>>,
    }

    impl Limited {
        fn new(limit: usize) -> Self {
            Self {
                limit,
                entries: Mutex::new(BTreeMap::new()),
            }
        }
        fn names(&self) -> Vec<String> {
            self.entries.lock().keys().cloned().collect()
        }
    }

    impl Entries for Limited {
        type Error = String;
        fn put(&self, user: &str, bytes: &[u8]) -> Result<(), String> {
            if bytes.len() > self.limit {
                return Err(format!("{} bytes > {}", bytes.len(), self.limit));
            }
            self.entries.lock().insert(user.into(), bytes.to_vec());
            Ok(())
        }
        fn read(&self, user: &str) -> Result<Option<Zeroizing<Vec<u8>>>, String> {
            Ok(self.entries.lock().get(user).cloned().map(Zeroizing::new))
        }
        fn remove(&self, user: &str) -> Result<bool, String> {
            Ok(self.entries.lock().remove(user).is_some())
        }
    }

    fn text(n: usize) -> Vec<u8> {
        (0..n).map(|i| b"ABCDEFGHIJ"[i % 10]).collect()
    }

    #[test]
    fn a_value_that_fits_is_one_entry_as_it_is() {
        let store = Limited::new(2560);
        set(&store, "k", b"hunter2", 2560).unwrap();
        assert_eq!(store.names(), ["k"]);
        assert_eq!(&**get(&store, "k").unwrap().unwrap(), b"hunter2");
        set(&store, "k", &text(2560), 2560).unwrap();
        assert_eq!(store.names(), ["k"]);
        assert_eq!(*get(&store, "k").unwrap().unwrap(), text(2560));
    }

    #[test]
    fn a_long_value_is_kept_in_parts_and_read_back_whole() {
        let store = Limited::new(2560);
        // An RSA-4096 private key in PEM is ~3.3 kB.
        let long = text(3268);
        set(&store, "private-key/ca", &long, 2560).unwrap();
        assert_eq!(
            store.names(),
            [
                "private-key/ca",
                "private-key/ca#part1",
                "private-key/ca#part2"
            ]
        );
        assert_eq!(*get(&store, "private-key/ca").unwrap().unwrap(), long);
        // Without the splitting the store refuses it, as Windows did.
        assert!(store.put("x", &long).is_err());
    }

    #[test]
    fn overwriting_a_long_value_with_a_short_one_leaves_no_parts_behind() {
        let store = Limited::new(100);
        set(&store, "k", &text(450), 100).unwrap();
        assert_eq!(store.names().len(), 6);
        set(&store, "k", &text(150), 100).unwrap();
        assert_eq!(store.names(), ["k", "k#part1", "k#part2"]);
        assert_eq!(*get(&store, "k").unwrap().unwrap(), text(150));
        set(&store, "k", b"short", 100).unwrap();
        assert_eq!(store.names(), ["k"]);
        assert_eq!(&**get(&store, "k").unwrap().unwrap(), b"short");
        assert!(delete(&store, "k").unwrap());
        assert!(store.names().is_empty());
        assert!(!delete(&store, "k").unwrap());
        assert_eq!(get(&store, "k").unwrap(), None);
    }

    #[test]
    fn delete_removes_every_part() {
        let store = Limited::new(32);
        set(&store, "a", &text(100), 32).unwrap();
        set(&store, "b", b"other", 32).unwrap();
        assert_eq!(store.names().len(), 6);
        assert!(delete(&store, "a").unwrap());
        assert_eq!(store.names(), ["b"]);
    }

    #[test]
    fn a_value_that_looks_like_a_head_round_trips() {
        let store = Limited::new(2560);
        let tricky = [HEAD, b"2"].concat();
        set(&store, "k", &tricky, 2560).unwrap();
        assert_eq!(*get(&store, "k").unwrap().unwrap(), tricky);
    }

    #[test]
    fn missing_parts_or_a_damaged_head_are_errors_not_a_wrong_secret() {
        let store = Limited::new(32);
        set(&store, "k", &text(80), 32).unwrap();
        store.remove("k#part2").unwrap();
        assert!(matches!(get(&store, "k"), Err(Damage::Parts(m)) if m.contains("part 2 of 3")));
        store.put("k", &[HEAD, b"999"].concat()).unwrap();
        assert!(matches!(get(&store, "k"), Err(Damage::Parts(_))));
        assert!(set(&store, "big", &text(32 * MAX_PARTS + 1), 32).is_err());
    }
}
