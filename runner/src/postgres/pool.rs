//! The connection pools: one per connection string, shared by every
//! instance of the app, sized and recycled as Spin's.

use std::collections::HashMap;
use std::sync::Mutex;

use anyhow::Context;
use tokio_postgres::NoTls;

/// Same limit as Spin's per-address pool.
const POOL_SIZE: usize = 64;

/// One pool per connection string, shared by every instance of the app.
#[derive(Default)]
pub struct PgPools {
    pools: Mutex<HashMap<String, deadpool_postgres::Pool>>,
}

impl PgPools {
    pub(super) async fn get(&self, address: &str) -> anyhow::Result<deadpool_postgres::Object> {
        let pool = {
            let mut pools = self.pools.lock().unwrap_or_else(|e| e.into_inner());
            match pools.get(address) {
                Some(p) => p.clone(),
                None => {
                    let p =
                        create_pool(address).context("establishing PostgreSQL connection pool")?;
                    pools.insert(address.to_string(), p.clone());
                    p
                }
            }
        };
        Ok(pool.get().await?)
    }

    pub fn close(&self) {
        for pool in self
            .pools
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .values()
        {
            pool.close();
        }
    }
}

fn create_pool(address: &str) -> anyhow::Result<deadpool_postgres::Pool> {
    let config = address
        .parse::<tokio_postgres::Config>()
        .context("parsing Postgres connection string")?;
    // `Clean` like Spin: a connection carries no session state from one
    // request to the next.
    let manager = deadpool_postgres::Manager::from_config(
        config,
        NoTls,
        deadpool_postgres::ManagerConfig {
            recycling_method: deadpool_postgres::RecyclingMethod::Clean,
        },
    );
    deadpool_postgres::Pool::builder(manager)
        .max_size(POOL_SIZE)
        .build()
        .context("building Postgres connection pool")
}
