//! A crash: a child process appends and remote-writes, the receiver starts failing, the
//! child is killed with SIGKILL; reopening the directory sends everything committed
//! before the kill that had not been acknowledged.

use std::path::{Path, PathBuf};
use std::process::{Child, Command};
use std::time::Duration;

use strata_agent::{AgentStorage, RemoteWrite, RemoteWriteOptions};
use strata_model::Labels;

use super::harness::{labels, rw_config, small_wal, wait_for};
use super::receiver::{Mode, Receiver};

const ENV: &str = "STRATA_AGENT_CRASH_CHILD";
const SERIES: usize = 20;
const QUEUE: &str = "    name: test\n    queue_config:\n      batch_send_deadline: 20ms\n      min_backoff: 20ms\n      max_backoff: 100ms\n      max_samples_per_send: 100\n      capacity: 1000\n";

/// The child: appends rounds forever, recording the last committed round in a file.
#[test]
#[ignore = "run by crash_resends_everything_not_acknowledged in a child process"]
fn crash_child() {
    let Ok(arg) = std::env::var(ENV) else {
        return;
    };
    let mut parts = arg.split('|');
    let dir = PathBuf::from(parts.next().unwrap());
    let url = parts.next().unwrap().to_string();
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let _guard = rt.enter();
    let db = AgentStorage::open(&dir, small_wal()).unwrap();
    let rw = RemoteWrite::start(
        &db,
        &[rw_config(&url, QUEUE)],
        &Labels::empty(),
        RemoteWriteOptions::default(),
    )
    .unwrap();
    let ls: Vec<Labels> = (0..SERIES).map(|i| labels("crash", i)).collect();
    let mut app = db.appender();
    let marker = dir.join("committed");
    let tmp = dir.join("committed.tmp");
    for round in 1i64.. {
        for l in &ls {
            app.append(None, l, round, round as f64).unwrap();
        }
        app.commit().unwrap();
        std::fs::write(&tmp, round.to_string()).unwrap();
        std::fs::rename(&tmp, &marker).unwrap();
        std::thread::sleep(Duration::from_millis(3));
    }
    drop(rw);
}

fn committed(dir: &Path) -> i64 {
    std::fs::read_to_string(dir.join("committed"))
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(0)
}

struct KillOnDrop(Child);

impl Drop for KillOnDrop {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn crash_resends_everything_not_acknowledged() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().to_path_buf();
    let recv = Receiver::start().await;
    let child = Command::new(std::env::current_exe().unwrap())
        .args([
            "--exact",
            "agent::crash::crash_child",
            "--ignored",
            "--nocapture",
        ])
        .env(ENV, format!("{}|{}", dir.display(), recv.url()))
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let mut child = KillOnDrop(child);
    wait_for("the child to send", Duration::from_secs(10), || {
        committed(&dir) >= 100 && recv.shared.count() > 0
    })
    .await;
    // The receiver fails from now on: nothing more is acknowledged.
    recv.shared.set_mode(Mode::Fail {
        status: 503,
        retry_after: None,
    });
    let before_fail = committed(&dir);
    wait_for("more appends", Duration::from_secs(10), || {
        committed(&dir) >= before_fail + 100
    })
    .await;
    child.0.kill().unwrap();
    child.0.wait().unwrap();
    let last = committed(&dir);
    let received_before = recv.shared.count();

    recv.shared.set_mode(Mode::Ok);
    let db = AgentStorage::open(&dir, small_wal()).unwrap();
    let rw = RemoteWrite::start(
        &db,
        &[rw_config(&recv.url(), QUEUE)],
        &Labels::empty(),
        RemoteWriteOptions::default(),
    )
    .unwrap();
    wait_for(
        "everything committed before the kill",
        Duration::from_secs(15),
        || {
            let by = recv.shared.by_series();
            by.len() == SERIES
                && by
                    .values()
                    .all(|ts| ts.iter().filter(|&&t| t <= last).count() >= last as usize)
        },
    )
    .await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    let by = recv.shared.by_series();
    let mut duplicates = 0;
    for ts in by.values() {
        let mut seen = std::collections::BTreeSet::new();
        for &t in ts {
            if !seen.insert(t) {
                duplicates += 1;
            }
        }
        assert!((1..=last).all(|t| seen.contains(&t)), "a sample is missing");
    }
    // Only what was in flight (unacknowledged) when the process died may come twice:
    // at most one batch.
    assert!(duplicates <= 100, "{duplicates} duplicates");
    assert!(received_before < recv.shared.count());
    rw.shutdown().await;
}
