//! One wasmtime `Engine` per process and a cache of compiled components.
//!
//! Compiling a component takes seconds; tests start many apps in one process,
//! so a component is compiled once per (path, mtime, size) and shared by every
//! app. The engine uses the pooling allocator so a request costs only an
//! instantiation, and wasmtime's on-disk cache so restarts skip compilation.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::SystemTime;

use anyhow::{Context, Result};
use wasmtime::component::Component;
use wasmtime::{Config, Engine, InstanceAllocationStrategy, PoolingAllocationConfig};

/// Concurrent instances the pool can hold (across all apps in the process).
const MAX_INSTANCES: u32 = 1000;

pub fn shared() -> Result<Engine> {
    static ENGINE: OnceLock<std::result::Result<Engine, String>> = OnceLock::new();
    ENGINE
        .get_or_init(|| build().map_err(|e| format!("{e:#}")))
        .clone()
        .map_err(anyhow::Error::msg)
}

fn build() -> Result<Engine> {
    let mut config = Config::new();
    config.parallel_compilation(true);
    if std::env::var_os("RUNNER_NO_WASM_CACHE").is_none() {
        // A missing or unwritable cache directory only costs start-up time.
        match wasmtime::Cache::new(wasmtime::CacheConfig::new()) {
            Ok(cache) => {
                config.cache(Some(cache));
            }
            Err(e) => eprintln!("warning: wasmtime compilation cache disabled: {e:#}"),
        }
    }
    let mut pool = PoolingAllocationConfig::new();
    pool.total_component_instances(MAX_INSTANCES)
        .total_core_instances(MAX_INSTANCES * 4)
        .total_memories(MAX_INSTANCES * 2)
        .total_tables(MAX_INSTANCES * 4)
        .total_stacks(MAX_INSTANCES)
        .max_core_instances_per_component(64)
        .max_memories_per_component(8)
        .max_tables_per_component(16)
        .max_component_instance_size(1 << 20)
        .max_core_instance_size(1 << 20)
        // Guests get up to 512 MiB of linear memory each; slots are only
        // reserved address space until touched.
        .max_memory_size(512 << 20)
        // Reset a slot's linear memory by finding its resident pages
        // (PAGEMAP_SCAN, Linux 6.7+) and zeroing up to 1 MiB of them in place,
        // instead of an madvise per instance: that costs a TLB shootdown on
        // every core and page faults on the next request (together about a
        // sixth of the runner's CPU under load, see docs/benchmarks.md ## API).
        // Our guests touch well under 1 MiB per request; RSS stays bounded by
        // the warm slots (at most 100 unused ones are kept) times 1 MiB.
        // Without PAGEMAP_SCAN, the lowest 1 MiB is zeroed with memset.
        .pagemap_scan(wasmtime::Enabled::Auto)
        .linear_memory_keep_resident(1 << 20)
        .table_keep_resident(16 << 10);
    config.allocation_strategy(InstanceAllocationStrategy::Pooling(pool));
    Engine::new(&config)
        .map_err(anyhow::Error::from)
        .context("creating the wasmtime engine")
}

type Key = (PathBuf, Option<SystemTime>, u64);

/// Compiles `path`, or returns the component compiled earlier from the same file.
pub fn load_component(engine: &Engine, path: &Path) -> Result<Component> {
    static CACHE: OnceLock<Mutex<HashMap<Key, Arc<OnceLock<Component>>>>> = OnceLock::new();
    let meta = std::fs::metadata(path)
        .with_context(|| format!("cannot read component {}", path.display()))?;
    let key = (path.to_path_buf(), meta.modified().ok(), meta.len());
    // Per-key cell so parallel starts of the same app compile once while
    // different components still compile concurrently.
    let cell = CACHE
        .get_or_init(Default::default)
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .entry(key)
        .or_default()
        .clone();
    if let Some(c) = cell.get() {
        return Ok(c.clone());
    }
    let bytes =
        std::fs::read(path).with_context(|| format!("cannot read component {}", path.display()))?;
    let component = Component::from_binary(engine, &bytes)
        .map_err(anyhow::Error::from)
        .with_context(|| format!("cannot compile component {}", path.display()))?;
    Ok(cell.get_or_init(|| component).clone())
}
