//! A real S3 API server for tests: moto (`pip install 'moto[server]'`) on a free
//! loopback port, stopped when dropped.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

pub struct Moto {
    child: Child,
    pub port: u16,
}

impl Drop for Moto {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Moto {
    /// Starts `moto_server -H 127.0.0.1 -p 0` and reads the port it chose from its log.
    pub fn start(bin: &Path) -> Moto {
        let mut child = Command::new(bin)
            .args(["-H", "127.0.0.1", "-p", "0"])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("spawn moto_server");
        let stderr = child.stderr.take().expect("stderr");
        let (tx, rx) = mpsc::channel();
        // Keep draining the log (one line per request) so the server never blocks on it.
        std::thread::spawn(move || {
            let mut tx = Some(tx);
            for line in BufReader::new(stderr).lines() {
                let Ok(line) = line else { break };
                if let Some(rest) = line.split("Running on http://127.0.0.1:").nth(1)
                    && let Some(t) = tx.take()
                {
                    let port: String = rest.chars().take_while(char::is_ascii_digit).collect();
                    let _ = t.send(port.parse::<u16>().ok());
                }
            }
        });
        let port = match rx.recv_timeout(Duration::from_secs(60)) {
            Ok(Some(p)) => p,
            other => {
                let _ = child.kill();
                panic!("moto_server did not report its port: {other:?}");
            }
        };
        Moto { child, port }
    }

    /// Creates `bucket` with a plain `PUT /<bucket>` (moto does not check signatures).
    pub fn create_bucket(&self, bucket: &str) {
        let mut s = TcpStream::connect(("127.0.0.1", self.port)).expect("connect to moto");
        write!(
            s,
            "PUT /{bucket} HTTP/1.1\r\nHost: 127.0.0.1:{}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n",
            self.port
        )
        .unwrap();
        let mut resp = String::new();
        s.read_to_string(&mut resp).unwrap();
        assert!(resp.starts_with("HTTP/1.1 200"), "create bucket: {resp}");
    }

    /// The Thanos objstore YAML of `bucket` on this server.
    pub fn yaml(&self, bucket: &str) -> String {
        format!(
            "type: S3\nconfig:\n  bucket: {bucket}\n  endpoint: 127.0.0.1:{}\n  insecure: true\n  \
             region: us-east-1\n  access_key: testing\n  secret_key: testing\n  part_size: 5242880\n",
            self.port
        )
    }
}
