//! `fermyon:spin/key-value@2.0.0`, as Spin 3.6's key-value factor with no
//! runtime configuration: one store, `default`, shared by every instance
//! of every component of the app that lists it in `key_value_stores`.
//! Spin keeps it in SQLite under `.spin/` and it outlives a restart; the
//! runner keeps it in memory, for the life of the process (docs/runner.md).
//! A label the manifest does not declare for the component is
//! `access-denied`, as in Spin; any label but `default` fails at start-up
//! (a runtime configuration would be needed, which the runner does not read).

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};

use anyhow::{Result, bail};
use wasmtime::component::{HasSelf, Linker, Resource, ResourceTable};

use crate::bindings::fermyon::spin::key_value::{self, Error, Host, HostStore, Store};

/// The only label Spin defines without a runtime configuration.
pub const DEFAULT: &str = "default";

type Map = Arc<Mutex<HashMap<String, Vec<u8>>>>;

/// The app's stores, shared by all its instances.
#[derive(Default)]
pub struct KvStores {
    default: Map,
}

/// What every instance of one component shares: the stores it may open.
pub struct KvConfig {
    allowed: Vec<String>,
    stores: Arc<KvStores>,
}

impl KvConfig {
    /// The component's `key_value_stores`, checked as Spin does at start-up.
    pub fn new(component: &str, labels: &[String], stores: Arc<KvStores>) -> Result<Self> {
        if let Some(label) = labels.iter().find(|l| *l != DEFAULT) {
            bail!(
                "component '{component}': key_value_stores: unknown store label '{label}' \
                 (the runner provides only '{DEFAULT}')"
            );
        }
        Ok(Self {
            allowed: labels.to_vec(),
            stores,
        })
    }
}

/// One instance's open stores.
pub struct KvInstance {
    config: Arc<KvConfig>,
    /// Its own table, as in Spin: a store handle's rep indexes it.
    open: ResourceTable,
}

impl KvInstance {
    pub fn new(config: Arc<KvConfig>) -> Self {
        Self {
            config,
            open: ResourceTable::new(),
        }
    }

    fn map(&self, store: &Resource<Store>) -> Result<Map, Error> {
        self.open
            .get(&Resource::<Map>::new_borrow(store.rep()))
            .cloned()
            .map_err(|e| Error::Other(e.to_string()))
    }

    /// Runs `f` on the store's map; a guest that panicked while another
    /// held the lock cannot have left it half-written (each call is one
    /// map operation), so a poisoned lock is taken as is.
    fn with<T>(
        &self,
        store: &Resource<Store>,
        f: impl FnOnce(&mut HashMap<String, Vec<u8>>) -> T,
    ) -> Result<T, Error> {
        let map = self.map(store)?;
        let mut guard = map.lock().unwrap_or_else(PoisonError::into_inner);
        Ok(f(&mut guard))
    }
}

impl Host for KvInstance {}

impl HostStore for KvInstance {
    async fn open(&mut self, label: String) -> Result<Resource<Store>, Error> {
        if !self.config.allowed.contains(&label) {
            return Err(Error::AccessDenied);
        }
        if label != DEFAULT {
            return Err(Error::NoSuchStore);
        }
        let handle = self
            .open
            .push(self.config.stores.default.clone())
            .map_err(|_| Error::StoreTableFull)?;
        Ok(Resource::new_own(handle.rep()))
    }

    async fn get(&mut self, store: Resource<Store>, key: String) -> Result<Option<Vec<u8>>, Error> {
        self.with(&store, |map| map.get(&key).cloned())
    }

    async fn set(
        &mut self,
        store: Resource<Store>,
        key: String,
        value: Vec<u8>,
    ) -> Result<(), Error> {
        self.with(&store, |map| {
            map.insert(key, value);
        })
    }

    async fn delete(&mut self, store: Resource<Store>, key: String) -> Result<(), Error> {
        self.with(&store, |map| {
            map.remove(&key);
        })
    }

    async fn exists(&mut self, store: Resource<Store>, key: String) -> Result<bool, Error> {
        self.with(&store, |map| map.contains_key(&key))
    }

    async fn get_keys(&mut self, store: Resource<Store>) -> Result<Vec<String>, Error> {
        self.with(&store, |map| map.keys().cloned().collect())
    }

    async fn drop(&mut self, store: Resource<Store>) -> wasmtime::Result<()> {
        self.open.delete(Resource::<Map>::new_own(store.rep()))?;
        Ok(())
    }
}

/// Links the interface; `get` finds the instance's state in its store.
pub fn add_to_linker<T: Send + 'static>(
    linker: &mut Linker<T>,
    get: fn(&mut T) -> &mut KvInstance,
) -> wasmtime::Result<()> {
    key_value::add_to_linker::<T, HasSelf<KvInstance>>(linker, get)
}
