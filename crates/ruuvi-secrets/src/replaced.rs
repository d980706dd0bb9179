//! Keychain entries written with what they held before, so that they can be put back: secrets
//! go to the keychain before a gateway takes them (a key the gateway holds must never be one
//! nobody kept), and come back as they were when the gateway does not take them.

use crate::{SecretError, SecretName, SecretStore, Sensitive};

pub struct Replaced<'a> {
    store: &'a dyn SecretStore,
    previous: Vec<(SecretName, Option<Sensitive<String>>)>,
}

impl<'a> Replaced<'a> {
    pub fn new(store: &'a dyn SecretStore) -> Self {
        Self {
            store,
            previous: Vec::new(),
        }
    }

    /// Writes `value` under `name` (`None` deletes the entry), remembering what was there.
    pub fn put(
        &mut self,
        name: SecretName,
        value: Option<&Sensitive<String>>,
    ) -> Result<(), SecretError> {
        let before = self.store.get(&name)?;
        match value {
            Some(v) => self.store.set(&name, v)?,
            None => {
                self.store.delete(&name)?;
            }
        }
        self.previous.push((name, before));
        Ok(())
    }

    /// Puts every entry back as it was; returns those that could not be, with why.
    pub fn put_back(self) -> Vec<(SecretName, SecretError)> {
        let mut failed = Vec::new();
        for (name, before) in self.previous.into_iter().rev() {
            let restored = match &before {
                Some(v) => self.store.set(&name, v),
                None => self.store.delete(&name).map(|_| ()),
            };
            if let Err(e) = restored {
                failed.push((name, e));
            }
        }
        failed
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::SecretKind;
    use parking_lot::Mutex;
    use std::collections::HashMap;

    #[derive(Default)]
    struct InMemory(Mutex<HashMap<String, String>>);

    impl SecretStore for InMemory {
        fn set(&self, name: &SecretName, value: &Sensitive<String>) -> Result<(), SecretError> {
            self.0
                .lock()
                .insert(name.to_string(), value.expose().clone());
            Ok(())
        }
        fn get(&self, name: &SecretName) -> Result<Option<Sensitive<String>>, SecretError> {
            Ok(self
                .0
                .lock()
                .get(&name.to_string())
                .cloned()
                .map(Sensitive::new))
        }
        fn delete(&self, name: &SecretName) -> Result<bool, SecretError> {
            Ok(self.0.lock().remove(&name.to_string()).is_some())
        }
    }

    #[test]
    fn entries_come_back_as_they_were() {
        let store = InMemory::default();
        let key = SecretName::new(SecretKind::GatewayApiKeyRw, "gw1").unwrap();
        let ro = SecretName::new(SecretKind::GatewayApiKey, "gw1").unwrap();
        let fresh = SecretName::new(SecretKind::GatewayPassword, "gw1").unwrap();
        store.set(&key, &Sensitive::new("old-rw".into())).unwrap();
        store.set(&ro, &Sensitive::new("old-ro".into())).unwrap();
        let mut replaced = Replaced::new(&store);
        replaced
            .put(key.clone(), Some(&Sensitive::new("new-rw".into())))
            .unwrap();
        replaced.put(ro.clone(), None).unwrap();
        replaced
            .put(fresh.clone(), Some(&Sensitive::new("pw".into())))
            .unwrap();
        assert_eq!(store.get(&key).unwrap().unwrap().expose(), "new-rw");
        assert!(store.get(&ro).unwrap().is_none());
        assert!(replaced.put_back().is_empty());
        assert_eq!(store.get(&key).unwrap().unwrap().expose(), "old-rw");
        assert_eq!(store.get(&ro).unwrap().unwrap().expose(), "old-ro");
        assert!(
            store.get(&fresh).unwrap().is_none(),
            "an entry that was not there is gone"
        );
    }
}
