//! The binary's command line: every bad input is one line on stderr, then the usage, exit
//! status 64 (EX_USAGE), never a panic; help and version go to stdout with status 0.

#[path = "common/binary.rs"]
mod binary;

use std::ffi::{OsStr, OsString};
use std::os::unix::ffi::OsStrExt;
use std::process::{Command, Output};

/// The first line of the usage, the same in every build.
const USAGE: &str = "usage: tcpmssd [-bfv] -p port {-i iface | -m mtu} [-P pidfile] [-u user]";

/// The usage lines the binary prints: the first lines of its help, up to the blank line
/// (one line, or two with the eBPF mode's).
fn usage_lines() -> Vec<String> {
    let help = run(["-h"]);
    let help = String::from_utf8(help.stdout).expect("UTF-8 help");
    let lines: Vec<String> = help
        .lines()
        .take_while(|line| !line.is_empty())
        .map(str::to_string)
        .collect();
    assert_eq!(lines.first().map(String::as_str), Some(USAGE));
    lines
}

fn run<I, S>(args: I) -> Output
where
    I: IntoIterator<Item = S>,
    S: AsRef<OsStr>,
{
    Command::new(binary::binary())
        .args(args)
        .output()
        .expect("the binary runs")
}

fn assert_usage_error(args: &[OsString], expected: &str) {
    let output = run(args);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(64), "{args:?}: {stderr}");
    assert!(!stderr.contains("panicked"), "{args:?}: {stderr}");
    let lines: Vec<&str> = stderr.lines().collect();
    let mut wanted = vec![expected.to_string()];
    wanted.extend(usage_lines());
    assert_eq!(lines, wanted, "{args:?}");
    assert!(output.stdout.is_empty(), "{args:?}");
}

fn os(args: &[&str]) -> Vec<OsString> {
    args.iter().map(OsString::from).collect()
}

#[test]
fn bad_command_lines_exit_64_with_one_line_and_usage() {
    #[rustfmt::skip]
    let cases: &[(&[&str], &str)] = &[
        (&["-m", "1400"],                         "tcpmssd: -p port is required"),
        (&["-p", "1", "-i", "em0", "-m", "1400"], "tcpmssd: -i and -m cannot be used together"),
        (&["-p", "1"],                            "tcpmssd: -i iface or -m mtu is required"),
        (&[],                                     "tcpmssd: -p port is required"),
        (&["-p", "1", "-m", "67"],                "tcpmssd: -m 67: MTU must be 68..65535"),
        (&["-p", "1", "-m", "65536"],             "tcpmssd: -m 65536: MTU must be 68..65535"),
        (&["-p", "1", "-m", "0x578"],             "tcpmssd: -m 0x578: MTU must be a decimal number"),
        (&["-p", "1", "-m", "1e3"],               "tcpmssd: -m 1e3: MTU must be a decimal number"),
        (&["-p", "1", "-m", "+1400"],             "tcpmssd: -m +1400: MTU must be a decimal number"),
        (&["-p", "1", "-m", " 1400"],             "tcpmssd: -m \" 1400\": MTU must be a decimal number"),
        (&["-p", "1", "-m", ""],                  "tcpmssd: -m \"\": MTU must be a decimal number"),
        (&["-p", "-1", "-m", "1400"],             "tcpmssd: -p -1: port must be a decimal number"),
        (&["-p", "65536", "-m", "1400"],          "tcpmssd: -p 65536: port must be 0..65535"),
        (&["-p", "1", "-p", "2", "-m", "1400"],   "tcpmssd: -p given twice"),
        (&["-p1", "-i", "abcdefghijklmnop"],      "tcpmssd: -i abcdefghijklmnop: interface name must be 1..15 bytes"),
        (&["-p1", "-i", "em/0"],                  "tcpmssd: -i em/0: interface name must not contain '/', white space or control characters"),
        (&["-p1", "-m1400", "em0"],               "tcpmssd: unexpected argument em0"),
        (&["-p1", "-m1400", "-x"],                "tcpmssd: unknown option -x"),
        (&["-p1", "-m1400", "--mtu=9000"],        "tcpmssd: unknown option --mtu"),
        (&["-m1400", "-p"],                       "tcpmssd: -p needs a value"),
        (&["-p1", "-m1400", "-P", "run/x.pid"],   "tcpmssd: -P run/x.pid: pidfile must be an absolute path"),
        // Empty strings, wherever they can go.
        (&["-p", "", "-m", "1400"],               "tcpmssd: -p \"\": port must be a decimal number"),
        (&["-p1", "-i", ""],                      "tcpmssd: -i \"\": interface name must be 1..15 bytes"),
        (&["-p1", "-m1400", "-P", ""],            "tcpmssd: -P \"\": pidfile must be an absolute path"),
        (&["-p1", "-m1400", ""],                  "tcpmssd: unexpected argument \"\""),
        (&[""],                                   "tcpmssd: unexpected argument \"\""),
        // Every flag repeated, also when the value is the same.
        (&["-p1", "-m1400", "-m1400"],            "tcpmssd: -m given twice"),
        (&["-p1", "-i", "em0", "-i", "em1"],      "tcpmssd: -i given twice"),
        (&["-p1", "-m1400", "-P/a", "-P/b"],      "tcpmssd: -P given twice"),
        (&["-bb", "-p1", "-m1400"],               "tcpmssd: -b given twice"),
        (&["-v", "-p1", "-v", "-m1400"],          "tcpmssd: -v given twice"),
        // Interface names: 16 bytes and more, '/' anywhere.
        (&["-p1", "-i", "abcdefghijklmnopqrstuvwxyz"], "tcpmssd: -i abcdefghijklmnopqrstuvwxyz: interface name must be 1..15 bytes"),
        (&["-p1", "-i", "/"],                     "tcpmssd: -i /: interface name must not contain '/', white space or control characters"),
        (&["-p1", "-i", "em0/"],                  "tcpmssd: -i em0/: interface name must not contain '/', white space or control characters"),
        (&["-p1", "-m", "-1"],                    "tcpmssd: -m -1: MTU must be a decimal number"),
    ];
    for (args, expected) in cases {
        assert_usage_error(&os(args), expected);
    }
}

// Bytes that are not UTF-8 in every place an argument can take: shown escaped. lexopt hands
// over an option name that is no UTF-8 with U+FFFD in place of the bad bytes, so that is what
// the message shows (escaped as every byte past ASCII).
#[test]
fn non_utf8_arguments_exit_64_with_one_line_and_usage() {
    #[rustfmt::skip]
    let cases: &[(&[&[u8]], &str)] = &[
        (&[b"-p", b"\xff", b"-m", b"1400"],   "tcpmssd: -p \"\\xFF\": port must be a decimal number"),
        (&[b"-p\xff", b"-m1400"],             "tcpmssd: -p \"\\xFF\": port must be a decimal number"),
        (&[b"-p1", b"-m", b"14\xff00"],       "tcpmssd: -m \"14\\xFF00\": MTU must be a decimal number"),
        (&[b"-p1", b"-i", &[0xff; 16]],       "tcpmssd: -i \"\\xFF\\xFF\\xFF\\xFF\\xFF\\xFF\\xFF\\xFF\\xFF\\xFF\\xFF\\xFF\\xFF\\xFF\\xFF\\xFF\": interface name must be 1..15 bytes"),
        (&[b"-p1", b"-m1400", b"\xff"],       "tcpmssd: unexpected argument \"\\xFF\""),
        (&[b"-p1", b"-m1400", b"-\xff"],      "tcpmssd: unknown option \"-\\xEF\\xBF\\xBD\""),
        (&[b"-p1", b"-m1400", b"-b\xff"],     "tcpmssd: unknown option \"-\\xEF\\xBF\\xBD\""),
        (&[b"-p1", b"-m1400", b"--\xff"],     "tcpmssd: unknown option \"--\\xEF\\xBF\\xBD\""),
        (&[b"--help=\xff"],                   "tcpmssd: --help takes no value, got \"\\xFF\""),
    ];
    for (args, expected) in cases {
        let args: Vec<OsString> = args
            .iter()
            .map(|a| OsStr::from_bytes(a).to_owned())
            .collect();
        assert_usage_error(&args, expected);
    }
}

// lexopt reads `-p=5` as `-p 5`: the `=` is not part of the value (getopt(3) would keep it).
#[test]
fn equals_after_a_short_option_is_not_part_of_the_value() {
    #[rustfmt::skip]
    let cases: &[(&[&str], &str)] = &[
        (&["-m1400", "-p=x"],             "tcpmssd: -p x: port must be a decimal number"),
        (&["-p=1", "-m=67"],              "tcpmssd: -m 67: MTU must be 68..65535"),
        (&["-p=1", "-i=em/0"],            "tcpmssd: -i em/0: interface name must not contain '/', white space or control characters"),
        (&["-p=1", "-m=1400", "-P=x.pid"], "tcpmssd: -P x.pid: pidfile must be an absolute path"),
        (&["-p=1", "-m=1400", "-b=yes"],   "tcpmssd: -b takes no value, got yes"),
    ];
    for (args, expected) in cases {
        assert_usage_error(&os(args), expected);
    }
}

#[test]
fn non_utf8_interface_name_exits_64() {
    let args = [
        OsString::from("-p"),
        OsString::from("1"),
        OsString::from("-i"),
        OsStr::from_bytes(b"\xffem0").to_owned(),
    ];
    assert_usage_error(
        &args,
        "tcpmssd: -i \"\\xFFem0\": interface name must be UTF-8",
    );
}

#[test]
fn help_goes_to_stdout_with_status_0() {
    for flag in ["-h", "--help"] {
        let output = run([flag]);
        assert_eq!(output.status.code(), Some(0), "{flag}");
        let stdout = String::from_utf8(output.stdout).unwrap();
        assert!(stdout.starts_with(USAGE), "{flag}: {stdout}");
        for option in [
            "-p port",
            "-i iface",
            "-m mtu",
            "-b ",
            "-f ",
            "-v ",
            "-P pidfile",
        ] {
            assert!(stdout.contains(option), "{flag}: {option} missing");
        }
        assert!(output.stderr.is_empty(), "{flag}");
    }
}

#[test]
fn version_goes_to_stdout_with_status_0() {
    for flag in ["-V", "--version"] {
        let output = run([flag]);
        assert_eq!(output.status.code(), Some(0), "{flag}");
        let stdout = String::from_utf8(output.stdout).unwrap();
        assert_eq!(
            stdout,
            format!("tcpmssd {}\n", env!("CARGO_PKG_VERSION")),
            "{flag}"
        );
        assert!(output.stderr.is_empty(), "{flag}");
    }
}

#[test]
fn help_into_a_closed_pipe_exits_0_rather_than_dying_of_sigpipe() {
    use std::os::fd::{FromRawFd, OwnedFd};
    use std::os::unix::process::{CommandExt, ExitStatusExt};

    let mut ends = [0; 2];
    // SAFETY: `ends` has room for the two descriptors pipe(2) writes.
    assert_eq!(unsafe { libc::pipe(ends.as_mut_ptr()) }, 0);
    // SAFETY: pipe(2) succeeded; each end is owned here and nowhere else.
    let read_end = unsafe { OwnedFd::from_raw_fd(ends[0]) };
    // SAFETY: as above.
    let write_end = unsafe { OwnedFd::from_raw_fd(ends[1]) };
    drop(read_end);
    let mut command = Command::new(binary::binary());
    command.arg("--help").stdout(write_end);
    // The test process ignores SIGPIPE, as every Rust program does, and the child would
    // inherit that: give it the default a shell gives.
    let default_sigpipe = || {
        // SAFETY: signal(2) is async-signal-safe, and SIG_DFL a valid disposition.
        unsafe { libc::signal(libc::SIGPIPE, libc::SIG_DFL) };
        Ok(())
    };
    // SAFETY: the closure only calls signal(2).
    unsafe { command.pre_exec(default_sigpipe) };
    let status = command.status().expect("the binary runs");
    assert_eq!(status.signal(), None, "{status}");
    assert_eq!(status.code(), Some(0), "{status}");
}

/// The eBPF mode's command-line errors, in a build that has the mode (its help names `-e`).
#[test]
fn ebpf_mode_misuse_exits_64_with_one_line_and_usage() {
    if usage_lines().len() < 2 {
        eprintln!("skipped: this build has no eBPF mode (no -e in its usage)");
        return;
    }
    #[rustfmt::skip]
    let cases: &[(&[&str], &str)] = &[
        (&["-e", "-p", "1", "-i", "em0"], "tcpmssd: -p has no meaning with -e: the kernel clamps, no queue is read"),
        (&["-e", "-m", "1400"],           "tcpmssd: -e needs -i iface: the interface to clamp on"),
        (&["-e", "-e", "-i", "em0"],      "tcpmssd: -e given twice"),
    ];
    for (args, expected) in cases {
        assert_usage_error(&os(args), expected);
    }
}
