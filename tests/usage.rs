//! Until the daemon exists, the binary must say so plainly and exit with EX_USAGE.

use std::process::Command;

#[test]
fn placeholder_prints_usage_and_exits_64() {
    let output = Command::new(env!("CARGO_BIN_EXE_tcpmssd"))
        .args(["-p", "0", "-m", "1400"])
        .output()
        .expect("the binary runs");
    assert_eq!(output.status.code(), Some(64));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("not implemented yet"), "{stderr}");
    assert!(
        stderr.contains("usage: tcpmssd [-bv] -p port {-i iface | -m mtu}"),
        "{stderr}"
    );
}
