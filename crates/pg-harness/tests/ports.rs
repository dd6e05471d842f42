//! Ports: picked where outgoing connections do not take them, and a server
//! that finds its port taken after all says so, and retries.

use std::net::TcpListener;
use std::time::{Duration, Instant};

use pg_harness::{PgCluster, free_port, psql};

#[test]
fn free_ports_lie_below_the_ephemeral_range() {
    let range = std::fs::read_to_string("/proc/sys/net/ipv4/ip_local_port_range").unwrap();
    let low: u16 = range.split_whitespace().next().unwrap().parse().unwrap();
    for _ in 0..50 {
        let port = free_port();
        assert!((1024..low).contains(&port), "{port} (ephemeral from {low})");
        TcpListener::bind(("127.0.0.1", port)).expect("free indeed");
    }
}

/// A restart finds its port taken (by anyone): it waits until the port is
/// free again instead of failing, and comes back on the same port.
#[test]
fn a_restart_waits_for_its_port_to_be_let_go() {
    let cluster = PgCluster::start();
    cluster.stop();
    let squatter = TcpListener::bind(("127.0.0.1", cluster.port())).expect("the port is free");
    let log_before = std::fs::read_to_string(cluster.log()).unwrap().len();

    std::thread::scope(|scope| {
        let restart = scope.spawn(|| cluster.restart());
        // Until the server has met the squatter, the port stays taken.
        let deadline = Instant::now() + Duration::from_secs(60);
        while !std::fs::read_to_string(cluster.log()).unwrap()[log_before..]
            .contains("Address already in use")
        {
            assert!(Instant::now() < deadline, "the server never tried the port");
            std::thread::sleep(Duration::from_millis(20));
        }
        drop(squatter);
        restart
            .join()
            .expect("the restart succeeds once the port is free");
    });
    let answer = psql(&cluster.url("postgres"), "SELECT 1").unwrap();
    assert_eq!(answer.trim(), "1");
}
