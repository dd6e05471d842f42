//! Loading the application: reads `spin.toml`, resolves what each factor
//! needs per component, compiles and links the routed components, and puts
//! it all together as the HTTP trigger. Wiring only; every job lives in its
//! own module.

use std::collections::HashMap;
use std::sync::{Arc, OnceLock};

use anyhow::{Context, Result};

use crate::allowed_hosts::AllowedHosts;
use crate::config::RunnerConfig;
use crate::incoming_http::{AppInfo, HttpTrigger, Prepared};
use crate::instance::{self, ComponentConfig};
use crate::key_value::{KvConfig, KvStores};
use crate::manifest::LoadedManifest;
use crate::outbound_http::OutboundHttpConfig;
use crate::postgres::{PgConfig, PgPools};
use crate::routing::Router;
use crate::variables::AppVariables;
use crate::{engine, files};

pub struct App {
    pub http: Arc<HttpTrigger>,
    /// Component descriptions, printed under their routes.
    pub descriptions: HashMap<String, String>,
    pg_pools: Arc<PgPools>,
    /// Keeps staged `files` copies alive as long as the app.
    _staging: Vec<tempfile::TempDir>,
}

impl App {
    /// Loads, validates and compiles everything; blocking (compilation).
    pub fn load(config: &RunnerConfig) -> Result<Self> {
        let loaded = LoadedManifest::load(&config.manifest)?;
        let manifest = &loaded.manifest;
        let vars = AppVariables::resolve(&manifest.variables, &config.variables, &config.env)?;
        let router = Router::build(&manifest.trigger.http)?;
        let engine = engine::shared()?;
        let linker = instance::linker(&engine)?;
        let pg_pools = Arc::new(PgPools::default());
        let kv_stores = Arc::new(KvStores::default());

        let mut components = HashMap::new();
        let mut descriptions = HashMap::new();
        let mut staging = Vec::new();
        for (id, def) in &manifest.component {
            if let Some(d) = &def.description {
                descriptions.insert(id.clone(), d.clone());
            }
            // Every component is checked, even unrouted ones, as Spin
            // validates the whole manifest.
            let variables = vars.component(id, &def.variables)?;
            let hosts = def
                .allowed_outbound_hosts
                .iter()
                .map(|t| vars.expand(t))
                .collect::<Result<Vec<_>>>()
                .with_context(|| format!("component '{id}': allowed_outbound_hosts"))?;
            let key_value = Arc::new(KvConfig::new(id, &def.key_value_stores, kv_stores.clone())?);
            let allowed_hosts = AllowedHosts::parse(&hosts)
                .with_context(|| format!("component '{id}': allowed_outbound_hosts"))?;

            if !manifest.trigger.http.iter().any(|t| &t.component == id) {
                continue;
            }
            let (mounts, staged) = files::prepare(&loaded, id, &def.files)?;
            staging.extend(staged);
            let path = loaded.resolve(&def.source);
            let component = engine::load_component(&engine, &path)
                .with_context(|| format!("component '{id}'"))?;
            let pre = instance::instantiate_pre(&linker, &component, id, &path)?;
            let config = ComponentConfig {
                environment: def
                    .environment
                    .iter()
                    .map(|(k, v)| (k.clone(), v.clone()))
                    .collect(),
                mounts,
                variables,
                outbound_http: Arc::new(OutboundHttpConfig {
                    component: id.clone(),
                    allowed_hosts: allowed_hosts.clone(),
                }),
                postgres: Arc::new(PgConfig {
                    component: id.clone(),
                    allowed_hosts,
                    pools: pg_pools.clone(),
                }),
                key_value,
            };
            components.insert(id.clone(), Prepared::new(pre, config, id, &path)?);
        }

        let http = HttpTrigger {
            info: AppInfo {
                name: manifest.application.name.clone(),
                version: manifest.application.version.clone(),
            },
            router,
            engine,
            components,
            log_requests: config.log_requests,
            quiet_components: config.quiet_components,
            self_origin: OnceLock::new(),
        };
        Ok(Self {
            http: Arc::new(http),
            descriptions,
            pg_pools,
            _staging: staging,
        })
    }

    /// Closes the database pools.
    pub fn close(&self) {
        self.pg_pools.close();
    }
}
