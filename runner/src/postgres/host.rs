//! The WIT host of `spin:postgres/postgres@4.0.0`: a `connection` is a
//! pooled client; `query` and `execute` bind, run and map errors through
//! the sibling modules.

use tokio_postgres::types::ToSql;
use wasmtime::component::Resource;

use super::{PgInstance, access, errors, params, rows};
use crate::bindings::spin::postgres::postgres::{
    self as pg, Connection, Error, ParameterValue, RowSet,
};

/// A guest's connection: a pooled client, returned to its pool when the
/// guest drops the resource (or the instance ends).
struct Pooled {
    client: deadpool_postgres::Object,
}

impl PgInstance {
    fn client(&self, conn: &Resource<Connection>) -> Result<&tokio_postgres::Client, Error> {
        self.connections
            .get(&Resource::<Pooled>::new_borrow(conn.rep()))
            .map(|c| &**c.client)
            .map_err(|_| Error::ConnectionFailed("no connection found".into()))
    }
}

impl pg::Host for PgInstance {}

impl pg::HostConnection for PgInstance {
    async fn open(&mut self, address: String) -> Result<Resource<Connection>, Error> {
        let config = &self.config;
        access::ensure_allowed(&config.allowed_hosts, &config.component, &address)?;
        let client = config
            .pools
            .get(&address)
            .await
            .map_err(|e| errors::connection_failed(&e))?;
        let pooled = self
            .connections
            .push(Pooled { client })
            .map_err(|e| Error::ConnectionFailed(e.to_string()))?;
        Ok(Resource::new_own(pooled.rep()))
    }

    async fn query(
        &mut self,
        conn: Resource<Connection>,
        statement: String,
        params: Vec<ParameterValue>,
    ) -> Result<RowSet, Error> {
        let params =
            params::to_sql_params(&params).map_err(|e| Error::BadParameter(format!("{e:?}")))?;
        let client = self.client(&conn)?;
        // `query_raw` returns once the statement is bound; its errors are
        // structured. What the server reports later arrives in the stream.
        let stream = client
            .query_raw(&statement, params)
            .await
            .map_err(errors::query_failed)?;
        rows::collect(stream)
            .await
            .map_err(|e| errors::streaming_failed(&e))
    }

    async fn execute(
        &mut self,
        conn: Resource<Connection>,
        statement: String,
        params: Vec<ParameterValue>,
    ) -> Result<u64, Error> {
        let params = params::to_sql_params(&params)
            .map_err(|e| Error::ValueConversionFailed(format!("{e:?}")))?;
        let refs: Vec<&(dyn ToSql + Sync)> = params.iter().map(|p| &**p as _).collect();
        self.client(&conn)?
            .execute(&statement, &refs)
            .await
            .map_err(errors::query_failed)
    }

    async fn drop(&mut self, conn: Resource<Connection>) -> wasmtime::Result<()> {
        self.connections
            .delete(Resource::<Pooled>::new_own(conn.rep()))?;
        Ok(())
    }
}
