//! Which addresses a component may open: every TCP host of a connection
//! string is checked against its `allowed_outbound_hosts`, as Spin does.

use crate::allowed_hosts::AllowedHosts;
use crate::bindings::spin::postgres::postgres::Error;

/// Spin's check: every TCP host of the connection string must be allowed
/// for the `postgres` scheme.
pub(super) fn ensure_allowed(
    allowed_hosts: &AllowedHosts,
    component: &str,
    address: &str,
) -> Result<(), Error> {
    let config = address
        .parse::<tokio_postgres::Config>()
        .map_err(|e| Error::ConnectionFailed(e.to_string()))?;
    let ports = config.get_ports();
    for (i, host) in config.get_hosts().iter().enumerate() {
        match host {
            tokio_postgres::config::Host::Tcp(h) => {
                // Spin 3.6.3 pairs host `i` with port `i`, and with a
                // single port only host 0 (it reads `ports.get(1)` when
                // meaning the one port), so later hosts are checked
                // without a port. Same here, so the same manifests pass.
                let port = ports
                    .get(i)
                    .or_else(|| if ports.len() == 1 { ports.get(1) } else { None })
                    .copied();
                if !allowed_hosts.allows("postgres", h, port) {
                    let shown = match port {
                        Some(p) => format!("{h}:{p}"),
                        None => h.clone(),
                    };
                    eprintln!(
                        "A component tried to make an outbound network connection to disallowed destination 'postgres://{shown}'.\n\
                         To allow this request, add 'postgres://{shown}' to the `allowed_outbound_hosts` of component '{}'.",
                        component
                    );
                    return Err(Error::ConnectionFailed(format!(
                        "address postgres://{shown} is not permitted"
                    )));
                }
            }
            #[cfg(unix)]
            tokio_postgres::config::Host::Unix(_) => {
                return Err(Error::ConnectionFailed(
                    "Unix sockets are not supported on WebAssembly".into(),
                ));
            }
        }
    }
    Ok(())
}
