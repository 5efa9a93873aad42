//! Start-up failures that need no privilege: each prints one line saying what is wrong and
//! exits with its sysexits(3) status, in the foreground and when detaching (the parent exits
//! with the child's status). Failures that need a network namespace (queue taken, no
//! permission) are in e2e.rs, and so is an interface that does not exist yet, which is waited
//! for rather than refused.

#[path = "common/binary.rs"]
mod binary;

use std::path::PathBuf;
use std::process::{Command, Output};

/// Names the command line takes but Linux's dev_valid_name() refuses (net/core/dev.c): no
/// interface can ever have them, so they are refused (66) rather than waited for.
#[cfg(target_os = "linux")]
const IMPOSSIBLE: [(&str, &str); 3] = [
    ("..", "Linux names no interface \".\" or \"..\""),
    (
        "eth0:1",
        "':' marks an address label on Linux; name the interface itself",
    ),
    (
        "w\u{e0}n0",
        "Linux takes byte 0xA0 for white space in interface names",
    ),
];

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
}

impl Drop for PidfileDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

#[cfg(target_os = "linux")]
#[test]
fn impossible_interface_names_exit_66_in_the_foreground() {
    for (name, why) in IMPOSSIBLE {
        let output = run(&["-v", "-p", "1", "-i", name]);
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert_eq!(output.status.code(), Some(66), "{name}: {stderr}");
        assert_eq!(
            stderr.lines().collect::<Vec<_>>(),
            [format!(
                "tcpmssd: -i {name}: cannot be an interface name: {why}"
            )],
        );
    }
}

#[cfg(target_os = "linux")]
#[test]
fn impossible_interface_name_exits_66_when_detaching_and_leaves_no_pidfile() {
    let dir = PidfileDir::new("iface");
    let pidfile = dir.0.join("tcpmssd.pid");
    let (name, why) = IMPOSSIBLE[1];
    let output = run(&["-p", "1", "-i", name, "-P", pidfile.to_str().unwrap()]);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(66), "{stderr}");
    assert!(
        stderr.contains(&format!(
            "tcpmssd: -i {name}: cannot be an interface name: {why}"
        )),
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
