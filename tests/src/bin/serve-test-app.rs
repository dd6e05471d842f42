//! Starts the whole app for out-of-process tests (the browser suite): a
//! throwaway PostgreSQL and the real components in the runner, on a free
//! port. Prints one JSON line `{url, username, password}` on stdout, then runs
//! until its standard input closes or it gets SIGTERM/Ctrl-C; everything it
//! started is stopped and deleted on the way out.

use std::io::Read;

use api_tests::TestApp;

#[tokio::main]
async fn main() {
    let app = TestApp::spawn_with(|o| o.own_cluster = true).await;
    let ready = serde_json::json!({
        "url": app.url(""),
        "username": app.ui_username,
        "password": app.ui_password,
    });
    println!("{ready}");

    // The parent closing our stdin is the usual way to stop us.
    let stdin_closed = tokio::task::spawn_blocking(|| {
        let mut sink = Vec::new();
        let _ = std::io::stdin().read_to_end(&mut sink);
    });
    let mut terminate = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
        .expect("SIGTERM handler");
    tokio::select! {
        _ = stdin_closed => {}
        _ = terminate.recv() => {}
        _ = tokio::signal::ctrl_c() => {}
    }
    app.shutdown().await;
}
