//! Dependencies that misbehave, for the failure tests: a port that refuses
//! connections, a server that accepts them and never answers, one that
//! gives every request the same (bad) answer, and a CPU hog that keeps the
//! machine busy.
//!
//! Each holds its port from the moment it is made until its guard is
//! dropped, so no other process can take the port in between.

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpSocket, TcpStream};

/// How long a server waits after a failed `accept` (out of file descriptors,
/// say) before accepting again: the connection stays queued meanwhile.
const ACCEPT_BACKOFF: Duration = Duration::from_millis(10);

/// A base URL on 127.0.0.1 whose port is bound but not listened on: every
/// connection to it is refused at once, and nothing else can listen there
/// while the guard lives.
pub struct ClosedPort {
    pub url: String,
    _socket: TcpSocket,
}

impl ClosedPort {
    pub fn bind() -> Self {
        let socket = TcpSocket::new_v4().expect("a socket");
        socket
            .bind(([127, 0, 0, 1], 0).into())
            .expect("bind a port");
        let url = format!("http://{}", socket.local_addr().unwrap());
        Self {
            url,
            _socket: socket,
        }
    }
}

/// Accepts connections on a bound listener for as long as the guard lives,
/// giving each to `serve`; a failed `accept` never ends it.
fn accept_forever<F, Fut>(listener: TcpListener, serve: F) -> tokio::task::JoinHandle<()>
where
    F: Fn(TcpStream) -> Fut + Send + 'static,
    Fut: std::future::Future<Output = ()> + Send + 'static,
{
    tokio::spawn(async move {
        loop {
            match listener.accept().await {
                Ok((socket, _)) => {
                    tokio::spawn(serve(socket));
                }
                Err(_) => tokio::time::sleep(ACCEPT_BACKOFF).await,
            }
        }
    })
}

async fn bind_loopback() -> (TcpListener, String) {
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let url = format!("http://{}", listener.local_addr().unwrap());
    (listener, url)
}

/// A base URL whose server accepts every connection, reads nothing and never
/// answers. The connections stay open until the guard is dropped, whatever
/// else happens (a failed `accept` included).
pub struct HangingServer {
    pub url: String,
    task: tokio::task::JoinHandle<()>,
    /// Held here, not in the task, so they close only with the guard.
    _held: Arc<Mutex<Vec<TcpStream>>>,
}

impl HangingServer {
    pub async fn start() -> Self {
        let (listener, url) = bind_loopback().await;
        let held = Arc::new(Mutex::new(Vec::new()));
        let keep = held.clone();
        let task = accept_forever(listener, move |socket| {
            keep.lock().unwrap().push(socket); // never read or written
            async {}
        });
        Self {
            url,
            task,
            _held: held,
        }
    }
}

impl Drop for HangingServer {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// A base URL whose server answers every request with the same status,
/// `Content-Type` and body: a platform's error page, say, where a service
/// should be.
pub struct CannedServer {
    pub url: String,
    hits: Arc<AtomicUsize>,
    task: tokio::task::JoinHandle<()>,
}

impl CannedServer {
    pub async fn start(status: u16, content_type: &str, body: &str) -> Self {
        let (listener, url) = bind_loopback().await;
        let hits = Arc::new(AtomicUsize::new(0));
        let counted = hits.clone();
        let answer: Arc<[u8]> = format!(
            "HTTP/1.1 {status} Canned\r\ncontent-type: {content_type}\r\n\
             content-length: {}\r\nconnection: close\r\n\r\n{body}",
            body.len()
        )
        .into_bytes()
        .into();
        let task = accept_forever(listener, move |socket| {
            counted.fetch_add(1, Ordering::SeqCst);
            answer_once(socket, answer.clone())
        });
        Self { url, hits, task }
    }

    /// How many connections it has taken (one request each).
    pub fn hits(&self) -> usize {
        self.hits.load(Ordering::SeqCst)
    }
}

impl Drop for CannedServer {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// Reads one request (head and `Content-Length` body), then answers and closes.
async fn answer_once(mut socket: TcpStream, answer: Arc<[u8]>) {
    let mut request = Vec::new();
    let mut chunk = [0u8; 4096];
    let head_end = loop {
        match socket.read(&mut chunk).await {
            Ok(0) | Err(_) => return,
            Ok(n) => request.extend_from_slice(&chunk[..n]),
        }
        if let Some(at) = request.windows(4).position(|w| w == b"\r\n\r\n") {
            break at + 4;
        }
    };
    let head = String::from_utf8_lossy(&request[..head_end]).to_ascii_lowercase();
    let length: usize = head
        .lines()
        .find_map(|line| line.strip_prefix("content-length:"))
        .and_then(|n| n.trim().parse().ok())
        .unwrap_or(0);
    while request.len() < head_end + length {
        match socket.read(&mut chunk).await {
            Ok(0) | Err(_) => return,
            Ok(n) => request.extend_from_slice(&chunk[..n]),
        }
    }
    let _ = socket.write_all(&answer).await;
    let _ = socket.shutdown().await;
}

/// Keeps `threads` cores busy with arithmetic until dropped (or for `limit`
/// at most, so a failed test cannot leave it spinning). Tests that use it
/// live in their own test binary (`tests/load.rs`): cargo runs test binaries
/// one after another, so a hog never slows the tests of another file.
pub struct CpuHog {
    stop: Arc<AtomicBool>,
    threads: Vec<std::thread::JoinHandle<()>>,
}

impl CpuHog {
    pub fn start(threads: usize, limit: Duration) -> Self {
        let stop = Arc::new(AtomicBool::new(false));
        let threads = (0..threads)
            .map(|_| {
                let stop = stop.clone();
                std::thread::spawn(move || {
                    let started = Instant::now();
                    let mut x: u64 = 1;
                    while !stop.load(Ordering::Relaxed) && started.elapsed() < limit {
                        for _ in 0..10_000 {
                            x = x.wrapping_mul(6364136223846793005).wrapping_add(1);
                        }
                        std::hint::black_box(x);
                    }
                })
            })
            .collect();
        Self { stop, threads }
    }
}

impl Drop for CpuHog {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        for thread in self.threads.drain(..) {
            let _ = thread.join();
        }
    }
}
