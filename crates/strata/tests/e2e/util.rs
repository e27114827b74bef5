//! Process, HTTP and dump-parsing helpers shared by the end-to-end tests.

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::Path;
use std::process::{Child, Command, Output, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

/// A label set as the tests see it: (name, value) pairs sorted by name.
pub type LabelSet = Vec<(String, String)>;
/// Series → samples (timestamp ms, value), in time order.
pub type SeriesMap = BTreeMap<LabelSet, Vec<(i64, f64)>>;

pub fn strata() -> Command {
    Command::new(env!("CARGO_BIN_EXE_strata"))
}

/// Runs `cmd`, panicking with its stderr when it fails or is killed.
pub fn run_ok(cmd: &mut Command) -> String {
    let out = run(cmd);
    assert!(
        out.status.success(),
        "{cmd:?} failed ({}):\nstderr: {}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).expect("stdout is UTF-8")
}

pub fn run(cmd: &mut Command) -> Output {
    cmd.stdin(Stdio::null())
        .output()
        .unwrap_or_else(|e| panic!("spawning {cmd:?}: {e}"))
}

/// `promtool tsdb dump` refuses a directory without `wal/`; block-only directories get
/// an empty one.
pub fn ensure_wal(dir: &Path) {
    std::fs::create_dir_all(dir.join("wal")).unwrap();
}

pub fn promtool_dump(promtool: &Path, dir: &Path, flags: &[String]) -> String {
    run_ok(
        Command::new(promtool)
            .args(["tsdb", "dump"])
            .args(flags)
            .arg(dir),
    )
}

pub fn strata_dump(dir: &Path, flags: &[String]) -> String {
    run_ok(
        strata()
            .args(["tools", "tsdb", "dump"])
            .args(flags)
            .arg(dir),
    )
}

/// Asserts two dumps are identical, reporting the first differing line.
pub fn assert_same_dump(what: &str, promtool: &str, strata: &str) {
    if promtool == strata {
        return;
    }
    let (p, s): (Vec<_>, Vec<_>) = (promtool.lines().collect(), strata.lines().collect());
    let first = p
        .iter()
        .zip(&s)
        .position(|(a, b)| a != b)
        .unwrap_or(p.len().min(s.len()));
    panic!(
        "{what}: dumps differ (promtool {} lines, strata {} lines); first difference at line {}:\n  promtool: {:?}\n  strata:   {:?}",
        p.len(),
        s.len(),
        first + 1,
        p.get(first),
        s.get(first)
    );
}

/// Asserts `strata tools tsdb list` prints what `promtool tsdb list` prints, in both
/// the raw and the human-readable (`-r`) form.
pub fn assert_same_list(promtool: &Path, dir: &Path) {
    for flags in [&[][..], &["-r"][..]] {
        let p = run_ok(
            Command::new(promtool)
                .args(["tsdb", "list"])
                .args(flags)
                .arg(dir),
        );
        let s = run_ok(
            strata()
                .args(["tools", "tsdb", "list"])
                .args(flags)
                .arg(dir),
        );
        assert_same_dump(&format!("tsdb list {flags:?}"), &p, &s);
    }
}

/// Asserts `strata tools tsdb analyze` reports what `promtool tsdb analyze` reports for
/// `block`: the summary lines exactly, and each top-N section's entries as a set (Go's
/// unstable sort orders ties arbitrarily) when no section is cut at the limit.
pub fn assert_same_analyze(promtool: &Path, dir: &Path, block: &str) {
    let p = run_ok(
        Command::new(promtool)
            .args(["tsdb", "analyze"])
            .arg(dir)
            .arg(block),
    );
    let s = run_ok(
        strata()
            .args(["tools", "tsdb", "analyze"])
            .arg(dir)
            .arg(block),
    );
    // Sections are split by blank lines; an entry is `count text`, where the text may
    // hold raw newlines (label values are printed unquoted).
    let sections = |t: &str| -> Vec<Vec<String>> {
        t.split("\n\n")
            .map(|sec| {
                let mut entries: Vec<String> = Vec::new();
                for (i, line) in sec.lines().enumerate() {
                    let starts_entry = line
                        .split_once(' ')
                        .is_some_and(|(n, _)| n.parse::<u64>().is_ok());
                    match entries.last_mut() {
                        Some(last) if i > 0 && !starts_entry => {
                            last.push('\n');
                            last.push_str(line);
                        }
                        _ => entries.push(line.to_owned()),
                    }
                }
                entries
            })
            .collect()
    };
    let (ps, ss) = (sections(&p), sections(&s));
    assert_eq!(
        ps.len(),
        ss.len(),
        "analyze {block}: sections differ\npromtool:\n{p}\nstrata:\n{s}"
    );
    assert_eq!(ps[0], ss[0], "analyze {block}: summary");
    for (pa, sa) in ps.iter().zip(&ss).skip(1) {
        let title = pa.first();
        assert_eq!(title, sa.first(), "analyze {block}: section title");
        assert_eq!(pa.len(), sa.len(), "analyze {block}: entries of {title:?}");
        let counts = |sec: &[String]| -> Vec<u64> {
            let mut c: Vec<u64> = sec[1..]
                .iter()
                .map(|e| e.split_once(' ').unwrap().0.parse().unwrap())
                .collect();
            c.sort();
            c
        };
        assert_eq!(
            counts(pa),
            counts(sa),
            "analyze {block}: counts of {title:?}"
        );
        // A section cut at the limit (20) may keep different entries among equal counts.
        if pa.len() <= 20 {
            let (mut a, mut b) = (pa.clone(), sa.clone());
            a.sort();
            b.sort();
            assert_eq!(a, b, "analyze {block}: entries of {title:?}");
        }
    }
}

/// A child process killed (and reaped) when dropped, so no server outlives its test.
pub struct ChildGuard {
    pub child: Option<Child>,
    pub name: &'static str,
}

impl ChildGuard {
    pub fn new(name: &'static str, child: Child) -> Self {
        ChildGuard {
            child: Some(child),
            name,
        }
    }

    /// Sends SIGTERM and waits for a clean exit.
    pub fn terminate(mut self, timeout: Duration) -> std::process::ExitStatus {
        let mut child = self.child.take().expect("running");
        let st = Command::new("kill")
            .args(["-TERM", &child.id().to_string()])
            .status()
            .expect("running kill");
        assert!(st.success(), "kill -TERM {} failed", child.id());
        let deadline = Instant::now() + timeout;
        loop {
            if let Some(status) = child.try_wait().expect("waiting") {
                return status;
            }
            if Instant::now() > deadline {
                let _ = child.kill();
                let _ = child.wait();
                panic!("{} did not stop within {timeout:?} of SIGTERM", self.name);
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

impl Drop for ChildGuard {
    fn drop(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }
}

/// Forwards a child's stderr to a channel of lines (and keeps the pipe drained).
pub fn stderr_lines(child: &mut Child) -> mpsc::Receiver<String> {
    let err = child.stderr.take().expect("stderr piped");
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(err).lines() {
            let Ok(line) = line else { break };
            if tx.send(line).is_err() {
                // Nobody listens any more; keep draining so the child never blocks.
                continue;
            }
        }
    });
    rx
}

/// A loopback port that was free a moment ago.
pub fn free_port() -> u16 {
    let l = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = l.local_addr().unwrap().port();
    drop(l);
    port
}

fn http(addr: SocketAddr, request: &[u8]) -> std::io::Result<(u16, Vec<u8>)> {
    assert!(addr.ip().is_loopback(), "tests talk to loopback only");
    let mut s = TcpStream::connect_timeout(&addr, Duration::from_secs(2))?;
    s.set_read_timeout(Some(Duration::from_secs(10)))?;
    s.write_all(request)?;
    let mut resp = Vec::new();
    s.read_to_end(&mut resp)?;
    let head_end = resp
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .ok_or_else(|| std::io::Error::other("no HTTP header end"))?;
    let status_line = String::from_utf8_lossy(&resp[..head_end]);
    let code = status_line
        .split_whitespace()
        .nth(1)
        .and_then(|c| c.parse().ok())
        .ok_or_else(|| std::io::Error::other(format!("bad status line {status_line:?}")))?;
    Ok((code, resp[head_end + 4..].to_vec()))
}

pub fn http_get(addr: SocketAddr, path: &str) -> std::io::Result<(u16, Vec<u8>)> {
    let req = format!("GET {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n");
    http(addr, req.as_bytes())
}

pub fn http_put(addr: SocketAddr, path: &str) -> std::io::Result<(u16, Vec<u8>)> {
    let req = format!(
        "PUT {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n"
    );
    http(addr, req.as_bytes())
}

pub fn http_post(
    addr: SocketAddr,
    path: &str,
    headers: &[(&str, &str)],
    body: &[u8],
) -> std::io::Result<(u16, Vec<u8>)> {
    let mut req = format!(
        "POST {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\nContent-Length: {}\r\n",
        body.len()
    );
    for (k, v) in headers {
        req.push_str(&format!("{k}: {v}\r\n"));
    }
    req.push_str("\r\n");
    let mut bytes = req.into_bytes();
    bytes.extend_from_slice(body);
    http(addr, &bytes)
}

/// Polls `/-/ready` until it answers 200, panicking (with `why`'s text) on timeout.
pub fn wait_ready(addr: SocketAddr, timeout: Duration, child: &mut ChildGuard) {
    let deadline = Instant::now() + timeout;
    loop {
        if let Ok((200, _)) = http_get(addr, "/-/ready") {
            return;
        }
        if let Some(c) = child.child.as_mut()
            && let Ok(Some(st)) = c.try_wait()
        {
            panic!("{} exited before becoming ready: {st}", child.name);
        }
        assert!(
            Instant::now() < deadline,
            "{} at {addr} not ready within {timeout:?}",
            child.name
        );
        std::thread::sleep(Duration::from_millis(100));
    }
}

pub fn tempdir() -> tempfile::TempDir {
    tempfile::Builder::new()
        .prefix("strata-e2e-")
        .tempdir()
        .unwrap()
}

// ---- parsing `promtool tsdb dump` output: an oracle independent of strata-model ----

/// Parses dump lines `{a="b", c="d"} value timestamp` into series.
pub fn parse_dump(text: &str) -> SeriesMap {
    let mut out = SeriesMap::new();
    for (i, line) in text.lines().enumerate() {
        let (labels, rest) =
            parse_labels(line).unwrap_or_else(|e| panic!("dump line {}: {e}: {line:?}", i + 1));
        let mut parts = rest.split(' ');
        let (Some(""), Some(v), Some(t), None) =
            (parts.next(), parts.next(), parts.next(), parts.next())
        else {
            panic!("dump line {}: expected ` value timestamp`: {line:?}", i + 1);
        };
        let v: f64 = v
            .parse()
            .unwrap_or_else(|e| panic!("dump line {}: value {v:?}: {e}", i + 1));
        let t: i64 = t
            .parse()
            .unwrap_or_else(|e| panic!("dump line {}: timestamp {t:?}: {e}", i + 1));
        out.entry(labels).or_default().push((t, v));
    }
    out
}

fn parse_labels(line: &str) -> Result<(LabelSet, &str), String> {
    let mut rest = line.strip_prefix('{').ok_or("no `{`")?;
    let mut labels = Vec::new();
    if let Some(r) = rest.strip_prefix('}') {
        return Ok((labels, r));
    }
    loop {
        let eq = rest.find('=').ok_or("no `=`")?;
        let name = rest[..eq].to_owned();
        let (value, r) = parse_go_quoted(&rest[eq + 1..])?;
        labels.push((name, value));
        if let Some(r) = r.strip_prefix(", ") {
            rest = r;
        } else if let Some(r) = r.strip_prefix('}') {
            return Ok((labels, r));
        } else {
            return Err(format!("unexpected {r:?} after a label"));
        }
    }
}

/// Decodes a Go `strconv.Quote` string at the start of `s`; returns it and the rest.
fn parse_go_quoted(s: &str) -> Result<(String, &str), String> {
    let mut chars = s
        .strip_prefix('"')
        .ok_or("no opening quote")?
        .char_indices();
    let body = &s[1..];
    let mut out = String::new();
    let mut bytes: Vec<u8> = Vec::new(); // pending \x escapes (may form UTF-8)
    let flush = |bytes: &mut Vec<u8>, out: &mut String| {
        if !bytes.is_empty() {
            out.push_str(&String::from_utf8_lossy(bytes));
            bytes.clear();
        }
    };
    while let Some((i, c)) = chars.next() {
        match c {
            '"' => {
                flush(&mut bytes, &mut out);
                return Ok((out, &body[i + 1..]));
            }
            '\\' => {
                let (_, e) = chars.next().ok_or("dangling backslash")?;
                let mut hex = |n: usize| -> Result<u32, String> {
                    let h: String = (0..n).filter_map(|_| chars.next().map(|x| x.1)).collect();
                    u32::from_str_radix(&h, 16).map_err(|e| format!("bad escape {h:?}: {e}"))
                };
                match e {
                    'x' => {
                        bytes.push(hex(2)? as u8);
                        continue;
                    }
                    'u' | 'U' => {
                        let n = hex(if e == 'u' { 4 } else { 8 })?;
                        flush(&mut bytes, &mut out);
                        out.push(char::from_u32(n).ok_or("bad code point")?);
                        continue;
                    }
                    _ => {}
                }
                flush(&mut bytes, &mut out);
                out.push(match e {
                    'n' => '\n',
                    't' => '\t',
                    'r' => '\r',
                    'a' => '\x07',
                    'b' => '\x08',
                    'f' => '\x0c',
                    'v' => '\x0b',
                    '\\' => '\\',
                    '"' => '"',
                    other => return Err(format!("unknown escape \\{other}")),
                });
            }
            c => {
                flush(&mut bytes, &mut out);
                out.push(c);
            }
        }
    }
    Err("unterminated string".into())
}

/// Asserts `got` holds exactly the series and samples of `want`: timestamps exactly,
/// values bit for bit except that any NaN matches any NaN (dumps print every NaN as
/// `NaN`).
pub fn assert_same_series(what: &str, want: &SeriesMap, got: &SeriesMap) {
    let wk: Vec<_> = want.keys().collect();
    let gk: Vec<_> = got.keys().collect();
    assert_eq!(wk, gk, "{what}: series sets differ");
    for (labels, w) in want {
        let g = &got[labels];
        assert_eq!(
            w.len(),
            g.len(),
            "{what}: sample count of {labels:?} differs"
        );
        for (i, (ws, gs)) in w.iter().zip(g).enumerate() {
            let same = ws.0 == gs.0
                && (ws.1.to_bits() == gs.1.to_bits() || (ws.1.is_nan() && gs.1.is_nan()));
            assert!(
                same,
                "{what}: sample {i} of {labels:?}: want {ws:?} ({:#x}), got {gs:?} ({:#x})",
                ws.1.to_bits(),
                gs.1.to_bits()
            );
        }
    }
}

#[test]
fn go_quoted_parser_decodes_escapes() {
    let (s, rest) = parse_go_quoted(r#""a\"b\\c\nd\u00e9\xe6\x97\xa5 é" tail"#).unwrap();
    assert_eq!(s, "a\"b\\c\nd\u{e9}日 é");
    assert_eq!(rest, " tail");
    let m = parse_dump("{__name__=\"x\", a=\"\\\"\"} NaN 5\n{} -Inf -7\n");
    assert_eq!(m.len(), 2);
    assert!(m[&vec![]][0].1 == f64::NEG_INFINITY);
}
