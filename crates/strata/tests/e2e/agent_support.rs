//! Helpers of the `strata agent` tests: a synthetic scrape target whose counter goes up
//! by one per scrape, a remote-write receiver that records every sample it gets (and can
//! be taken down and brought back on the same port), and the agent process.

use std::collections::BTreeMap;
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::Path;
use std::process::Stdio;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use crate::util::{ChildGuard, http_get, stderr_lines, strata, wait_ready};

pub fn loopback(port: u16) -> SocketAddr {
    SocketAddr::from(([127, 0, 0, 1], port))
}

/// Polls `f` every 200 ms until it is true; panics with `what` after `timeout`.
pub fn eventually(what: &str, timeout: Duration, mut f: impl FnMut() -> bool) {
    let deadline = Instant::now() + timeout;
    while !f() {
        assert!(
            Instant::now() < deadline,
            "timed out after {timeout:?}: {what}"
        );
        std::thread::sleep(Duration::from_millis(200));
    }
}

/// Reads one HTTP/1.1 request (head and `Content-Length` body).
fn read_request(s: &mut TcpStream) -> std::io::Result<(String, Vec<u8>)> {
    let mut buf = Vec::new();
    let mut chunk = [0u8; 8192];
    let head_end = loop {
        if let Some(i) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            break i + 4;
        }
        let n = s.read(&mut chunk)?;
        if n == 0 {
            return Err(std::io::Error::other(
                "connection closed in the request head",
            ));
        }
        buf.extend_from_slice(&chunk[..n]);
    };
    let head = String::from_utf8_lossy(&buf[..head_end]).into_owned();
    let len = head
        .lines()
        .find_map(|l| {
            let (k, v) = l.split_once(':')?;
            k.eq_ignore_ascii_case("content-length")
                .then(|| v.trim().parse::<usize>().ok())?
        })
        .unwrap_or(0);
    let mut body = buf[head_end..].to_vec();
    while body.len() < len {
        let n = s.read(&mut chunk)?;
        if n == 0 {
            return Err(std::io::Error::other("connection closed in the body"));
        }
        body.extend_from_slice(&chunk[..n]);
    }
    Ok((head, body))
}

/// Accepts connections until `stop`, each on its own thread, handing every request to
/// `handle` (which returns the response). Once `stop` is set, requests on connections
/// still open are not answered (the connection is closed), and the listener is closed.
fn serve(
    listener: TcpListener,
    stop: Arc<AtomicBool>,
    handle: impl Fn(&str, &[u8]) -> Vec<u8> + Send + Sync + 'static,
) -> JoinHandle<()> {
    listener.set_nonblocking(true).unwrap();
    let handle = Arc::new(handle);
    std::thread::spawn(move || {
        while !stop.load(Ordering::SeqCst) {
            match listener.accept() {
                Ok((mut s, _)) => {
                    let (stop, handle) = (stop.clone(), handle.clone());
                    std::thread::spawn(move || {
                        let _ = s.set_nonblocking(false);
                        let _ = s.set_read_timeout(Some(Duration::from_secs(5)));
                        // Keep-alive: answer requests on the connection until it closes.
                        while let Ok((head, body)) = read_request(&mut s) {
                            if stop.load(Ordering::SeqCst) {
                                break;
                            }
                            if s.write_all(&handle(&head, &body)).is_err() {
                                break;
                            }
                        }
                    });
                }
                Err(_) => std::thread::sleep(Duration::from_millis(10)),
            }
        }
    })
}

/// A scrape target serving `synth_counter`, which counts the scrapes served.
pub struct SynthTarget {
    pub addr: SocketAddr,
    pub served: Arc<AtomicU64>,
    stop: Arc<AtomicBool>,
}

impl SynthTarget {
    pub fn start() -> SynthTarget {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap();
        let served = Arc::new(AtomicU64::new(0));
        let stop = Arc::new(AtomicBool::new(false));
        let n = served.clone();
        serve(listener, stop.clone(), move |head, _| {
            if !head.starts_with("GET /metrics") {
                return b"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n".to_vec();
            }
            let v = n.fetch_add(1, Ordering::SeqCst) + 1;
            let body = format!(
                "# HELP synth_counter Scrapes served.\n# TYPE synth_counter counter\nsynth_counter{{source=\"test\"}} {v}\n"
            );
            format!(
                "HTTP/1.1 200 OK\r\nContent-Type: text/plain; version=0.0.4\r\nContent-Length: {}\r\n\r\n{body}",
                body.len()
            )
            .into_bytes()
        });
        SynthTarget { addr, served, stop }
    }
}

impl Drop for SynthTarget {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
    }
}

/// One received sample: series (labels as text), timestamp, value.
pub type Received = (String, i64, f64);

/// A remote-write 1.0 receiver that records every sample of every request it answers
/// with 204. [`RecordingReceiver::stop`] closes the port (connections are refused) until
/// [`RecordingReceiver::start`] binds it again.
pub struct RecordingReceiver {
    pub addr: SocketAddr,
    pub samples: Arc<Mutex<Vec<Received>>>,
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

fn record(samples: &Mutex<Vec<Received>>, body: &[u8]) -> Result<(), String> {
    let raw = strata_remote::snappy::decompress(body, 64 << 20).map_err(|e| e.to_string())?;
    let mut scratch = strata_remote::TimeSeriesRef::default();
    let mut got = Vec::new();
    strata_remote::rw1::for_each_series(&raw, &mut scratch, |ts| {
        let mut labels = ts.labels.clone();
        labels.sort();
        let text: Vec<String> = labels.iter().map(|(n, v)| format!("{n}={v:?}")).collect();
        let series = format!("{{{}}}", text.join(","));
        for &(t, v) in &ts.samples {
            got.push((series.clone(), t, v));
        }
        Ok(())
    })
    .map_err(|e| e.to_string())?;
    samples.lock().unwrap().extend(got);
    Ok(())
}

impl RecordingReceiver {
    pub fn new(port: u16) -> RecordingReceiver {
        RecordingReceiver {
            addr: loopback(port),
            samples: Arc::new(Mutex::new(Vec::new())),
            stop: Arc::new(AtomicBool::new(true)),
            thread: None,
        }
    }

    pub fn url(&self) -> String {
        format!("http://{}/api/v1/write", self.addr)
    }

    pub fn start(&mut self) {
        assert!(self.thread.is_none(), "already running");
        let deadline = Instant::now() + Duration::from_secs(10);
        let listener = loop {
            match TcpListener::bind(self.addr) {
                Ok(l) => break l,
                Err(e) if Instant::now() < deadline => {
                    eprintln!("rebinding {}: {e}", self.addr);
                    std::thread::sleep(Duration::from_millis(100));
                }
                Err(e) => panic!("binding {}: {e}", self.addr),
            }
        };
        self.stop = Arc::new(AtomicBool::new(false));
        let samples = self.samples.clone();
        self.thread = Some(serve(
            listener,
            self.stop.clone(),
            move |_, body| match record(&samples, body) {
                Ok(()) => b"HTTP/1.1 204 No Content\r\n\r\n".to_vec(),
                Err(e) => format!(
                    "HTTP/1.1 400 Bad Request\r\nContent-Length: {}\r\n\r\n{e}",
                    e.len()
                )
                .into_bytes(),
            },
        ));
    }

    pub fn stop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        if let Some(t) = self.thread.take() {
            t.join().unwrap();
        }
    }

    /// The values of `synth_counter` received, in arrival order (stale markers left out).
    pub fn counter_values(&self) -> Vec<u64> {
        self.samples
            .lock()
            .unwrap()
            .iter()
            .filter(|(s, _, v)| s.contains("synth_counter") && !v.is_nan())
            .map(|(_, _, v)| *v as u64)
            .collect()
    }
}

impl Drop for RecordingReceiver {
    fn drop(&mut self) {
        self.stop();
    }
}

/// How often each value arrived.
pub fn value_counts(values: &[u64]) -> BTreeMap<u64, usize> {
    let mut m = BTreeMap::new();
    for v in values {
        *m.entry(*v).or_insert(0) += 1;
    }
    m
}

/// A running `strata agent` and its log lines.
pub struct AgentProc {
    pub guard: ChildGuard,
    pub addr: SocketAddr,
    pub logs: Arc<Mutex<Vec<String>>>,
}

impl AgentProc {
    /// Starts `strata agent` on `config` and `data`, listening on a free loopback port,
    /// and waits until it is ready.
    pub fn start(config: &Path, data: &Path, port: u16, extra: &[&str]) -> AgentProc {
        let addr = loopback(port);
        let mut child = strata()
            .arg("agent")
            .arg(format!("--config.file={}", config.display()))
            .arg(format!("--storage.agent.path={}", data.display()))
            .arg(format!("--web.listen-address={addr}"))
            .args(extra)
            .env_remove("KUBERNETES_SERVICE_HOST")
            .env_remove("KUBERNETES_SERVICE_PORT")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let lines = stderr_lines(&mut child);
        let logs = Arc::new(Mutex::new(Vec::new()));
        let l = logs.clone();
        std::thread::spawn(move || {
            for line in lines {
                if line.contains("panicked") || line.contains("ERROR") {
                    eprintln!("strata agent: {line}");
                }
                l.lock().unwrap().push(line);
            }
        });
        let mut guard = ChildGuard::new("strata agent", child);
        wait_ready(addr, Duration::from_secs(30), &mut guard);
        AgentProc { guard, addr, logs }
    }

    /// SIGKILL, no chance to flush anything.
    pub fn kill(mut self) {
        let mut c = self.guard.child.take().unwrap();
        c.kill().unwrap();
        c.wait().unwrap();
    }

    pub fn metrics(&self) -> String {
        let (code, body) = http_get(self.addr, "/metrics").unwrap();
        assert_eq!(code, 200);
        String::from_utf8(body).unwrap()
    }

    pub fn logged(&self, needle: &str) -> bool {
        self.logs.lock().unwrap().iter().any(|l| l.contains(needle))
    }
}

/// The value of the first sample of `name` on a metrics page.
pub fn metric_value(page: &str, name: &str) -> Option<f64> {
    page.lines()
        .find(|l| l.starts_with(name) && l[name.len()..].starts_with([' ', '{']))
        .and_then(|l| l.rsplit(' ').next())
        .and_then(|v| v.parse().ok())
}
