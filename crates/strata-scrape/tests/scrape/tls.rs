//! HTTPS targets: a CA file, `insecure_skip_verify`, and the default roots rejecting a
//! private CA. The server is `openssl s_server -WWW` with a leaf certificate signed by a
//! throwaway CA.

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::{Duration, Instant};

use crate::server::TestServer;
use crate::support::Harness;

fn openssl(dir: &Path, args: &[&str]) {
    let out = std::process::Command::new("openssl")
        .args(args)
        .current_dir(dir)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "openssl {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// Writes ca.pem, leaf.pem and leaf.key into `dir`.
fn make_certs(dir: &Path) {
    openssl(
        dir,
        &[
            "req",
            "-x509",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-keyout",
            "ca.key",
            "-out",
            "ca.pem",
            "-days",
            "1",
            "-subj",
            "/CN=strata-test-ca",
        ],
    );
    openssl(
        dir,
        &[
            "req",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-keyout",
            "leaf.key",
            "-out",
            "leaf.csr",
            "-subj",
            "/CN=127.0.0.1",
        ],
    );
    std::fs::write(
        dir.join("ext.cnf"),
        "subjectAltName=IP:127.0.0.1\nbasicConstraints=CA:FALSE\n",
    )
    .unwrap();
    openssl(
        dir,
        &[
            "x509",
            "-req",
            "-in",
            "leaf.csr",
            "-CA",
            "ca.pem",
            "-CAkey",
            "ca.key",
            "-CAcreateserial",
            "-out",
            "leaf.pem",
            "-days",
            "1",
            "-extfile",
            "ext.cnf",
        ],
    );
}

fn temp_dir() -> PathBuf {
    let d = std::env::temp_dir().join(format!("strata-scrape-tls-{}", std::process::id()));
    std::fs::create_dir_all(&d).unwrap();
    d
}

#[tokio::test]
async fn https_targets_with_ca_file_or_insecure_skip_verify() {
    if strata_testkit::require_tool("openssl").is_none() {
        return;
    }
    let dir = temp_dir();
    make_certs(&dir);
    std::fs::write(dir.join("metrics"), "tls_metric 1\n").unwrap();
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let _server = tokio::process::Command::new("openssl")
        .args([
            "s_server", "-quiet", "-WWW", "-cert", "leaf.pem", "-key", "leaf.key",
        ])
        .arg("-accept")
        .arg(format!("127.0.0.1:{port}"))
        .current_dir(&dir)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .kill_on_drop(true)
        .spawn()
        .unwrap();
    let addr = format!("127.0.0.1:{port}");
    let deadline = Instant::now() + Duration::from_secs(10);
    while tokio::net::TcpStream::connect(&addr).await.is_err() {
        assert!(Instant::now() < deadline, "s_server did not start");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    // The harness wants a TestServer; its address is replaced by the s_server's.
    let mut fake = TestServer::start().await;
    fake.addr = addr.parse().unwrap();
    let base = "scheme: https\nfallback_scrape_protocol: PrometheusText0.0.4\n";

    let ca = format!(
        "{base}tls_config:\n  ca_file: {}",
        dir.join("ca.pem").display()
    );
    let mut h = Harness::with_server(fake.clone(), &ca);
    assert_eq!(h.scrape().await.error, None);
    assert_eq!(h.samples("tls_metric", &[])[0].v, 1.0);

    let insecure = format!("{base}tls_config:\n  insecure_skip_verify: true");
    let mut h = Harness::with_server(fake.clone(), &insecure);
    assert_eq!(h.scrape().await.error, None);

    let mut h = Harness::with_server(fake, base);
    let e = h.scrape().await.error.unwrap();
    assert!(e.to_lowercase().contains("certificate"), "{e}");
    std::fs::remove_dir_all(&dir).unwrap();
}
