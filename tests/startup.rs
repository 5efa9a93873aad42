//! Start-up failures that need no privilege: each prints one line saying what is wrong and
//! exits with its sysexits(3) status, in the foreground and when detaching (the parent exits
//! with the child's status). Failures that need a network namespace (queue taken, no
//! permission) are in e2e.rs.

#[path = "common/binary.rs"]
mod binary;

use std::path::PathBuf;
use std::process::{Command, Output};

/// An interface name no system has.
const MISSING: &str = "tcpmssd-none0";

fn run(args: &[&str]) -> Output {
    Command::new(binary::binary())
        .args(args)
        .output()
        .expect("the binary runs")
}

/// A pidfile path in a fresh directory of its own, removed with the guard.
struct PidfileDir(PathBuf);

impl PidfileDir {
    fn new(name: &str) -> PidfileDir {
        let dir =
            std::env::temp_dir().join(format!("tcpmssd-startup-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir(&dir).expect("temp dir");
        PidfileDir(dir)
    }

    fn pidfile(&self) -> PathBuf {
        self.0.join("tcpmssd.pid")
    }
}

impl Drop for PidfileDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

#[test]
fn unknown_interface_exits_66_in_the_foreground() {
    let output = run(&["-v", "-p", "1", "-i", MISSING]);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(66), "{stderr}");
    assert_eq!(
        stderr.lines().collect::<Vec<_>>(),
        [format!("tcpmssd: -i {MISSING}: no such interface")],
    );
}

#[test]
fn unknown_interface_exits_66_when_detaching_and_leaves_no_pidfile() {
    let dir = PidfileDir::new("iface");
    let pidfile = dir.pidfile();
    let output = run(&["-p", "1", "-i", MISSING, "-P", pidfile.to_str().unwrap()]);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(66), "{stderr}");
    assert!(
        stderr.contains(&format!("tcpmssd: -i {MISSING}: no such interface")),
        "{stderr}"
    );
    assert!(!pidfile.exists(), "pidfile left behind by a failed start");
}

#[test]
fn pidfile_in_missing_directory_exits_73() {
    let dir = PidfileDir::new("nodir");
    let pidfile = dir.0.join("missing").join("tcpmssd.pid");
    let output = run(&[
        "-v",
        "-p",
        "1",
        "-m",
        "1400",
        "-P",
        pidfile.to_str().unwrap(),
    ]);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(73), "{stderr}");
    assert!(
        stderr.starts_with(&format!("tcpmssd: {}: ", pidfile.display())),
        "{stderr}"
    );
}

#[test]
fn unknown_user_exits_67() {
    let output = run(&["-v", "-p", "1", "-m", "1400", "-u", "tcpmssd-no-such-user"]);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(67), "{stderr}");
    assert_eq!(
        stderr.lines().collect::<Vec<_>>(),
        ["tcpmssd: -u tcpmssd-no-such-user: no such user"],
    );
}
