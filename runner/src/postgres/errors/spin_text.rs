//! The `{:?}` text Spin 3.6.3 gives the guest for an `anyhow::Error`.
//!
//! Spin 3.6.3 links tokio-postgres 0.7.12, whose `Display` appends the cause
//! (`db error: ERROR: duplicate key …`, `error connecting to server:
//! Connection refused …`); the runner's newer tokio-postgres leaves the cause
//! to `source()` (`db error`). The guest — and `mth-shared`, which reads the
//! message out of that text — must see Spin's wording, so the chain is
//! rebuilt with the old `Display` before it is formatted.

use std::error::Error as StdError;
use std::fmt;

/// One link of a rebuilt error chain: its text as Spin shows it.
#[derive(Debug)]
struct Link {
    display: String,
    source: Option<Box<Link>>,
}

impl Link {
    fn of(e: &(dyn StdError + 'static)) -> Self {
        Self {
            display: spin_display(e),
            source: e.source().map(|s| Box::new(Self::of(s))),
        }
    }
}

impl fmt::Display for Link {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.display)
    }
}

impl StdError for Link {
    fn source(&self) -> Option<&(dyn StdError + 'static)> {
        self.source.as_deref().map(|s| s as _)
    }
}

/// `e`'s `Display` as Spin 3.6.3's dependencies write it.
fn spin_display(e: &(dyn StdError + 'static)) -> String {
    if let Some(pg) = e.downcast_ref::<tokio_postgres::Error>() {
        let own = pg.to_string();
        return match pg.source().map(ToString::to_string) {
            Some(cause) if !own.ends_with(&cause) => format!("{own}: {cause}"),
            _ => own,
        };
    }
    if let Some(deadpool_postgres::PoolError::Backend(pg)) =
        e.downcast_ref::<deadpool_postgres::PoolError>()
    {
        return format!(
            "Error occurred while creating a new object: {}",
            spin_display(pg)
        );
    }
    e.to_string()
}

/// `format!("{e:?}")` as Spin 3.6.3 would print it: the top error, `Caused
/// by:` and its chain and, when `RUST_BACKTRACE` is set, a stack trace.
pub(super) fn debug(e: &anyhow::Error) -> String {
    let root: &(dyn StdError + Send + Sync + 'static) = e.as_ref();
    format!("{:?}", anyhow::Error::new(Link::of(root)))
}
