//! tcpmssd: clamps the TCP MSS of SYN packets the firewall hands to it (NFQUEUE on Linux,
//! divert(4) on FreeBSD), so that connections across a link with a small MTU work even where
//! ICMP "fragmentation needed" is lost.
//!
//! Start-up reads top to bottom as the C original's main(): parse the command line, detach,
//! take the pidfile, learn the MTU, bind the queue, announce, loop, leave.
#![deny(unsafe_code)]
// The C runtime calls `sys::entry`'s `main`, which calls `tcpmssd` below: std's start-up
// (`lang_start`) is left out, see there.
#![cfg_attr(not(test), no_main)]

// Shared by both systems, in the order they depend on each other: `sys` (every system call),
// `text`, `log`, `exit`, then the rest.
mod cli;
mod exit;
mod log;
mod mtu;
mod pidfile;
mod run;
mod sys;
mod text;

// Each system's backend, MTU source and privilege: `os` below is the one this build runs.
// FreeBSD's backend and MTU source run in the tests on any OS, against doubles of its sockets.
#[cfg(any(test, target_os = "freebsd"))]
mod freebsd;
#[cfg(target_os = "linux")]
mod linux;

use std::ffi::OsStr;
use std::sync::{Mutex, PoisonError};

use cli::{Command, Config, MtuSource};
use exit::{fatal, Fatal, EX_CANTCREAT, EX_NOUSER, EX_OSERR, EX_UNAVAILABLE, EX_USAGE};
use log::{err, info, Log};
use mtu::{LinkEvents, MtuWatch};
use pidfile::{Pidfile, PidfileError};
use run::{Backend, Handler, LimitsShown, PACKET_BUF_LEN};
use sys::privilege;
use sys::{detach, signals, stdio};
use text::{put, Line, Shown, LINE_LEN};

/// This system's backends, MTU source and privilege (build.rs refuses other systems).
#[cfg(target_os = "freebsd")]
use freebsd as os;
#[cfg(target_os = "linux")]
use linux as os;

/// The one packet buffer, static rather than on the heap or the stack; locked once, in `daemon`.
static PACKET_BUF: Mutex<[u8; PACKET_BUF_LEN]> = Mutex::new([0; PACKET_BUF_LEN]);

/// The program, given its arguments after the program name; returns the exit status.
#[cfg_attr(test, allow(dead_code))]
fn tcpmssd<'a>(args: impl Iterator<Item = &'a OsStr>) -> u8 {
    match cli::parse_args(args) {
        Ok(Command::Help) => {
            let _ = stdio::write_stdout(cli::HELP.as_bytes());
            0
        }
        Ok(Command::Version) => {
            let _ = stdio::write_stdout(cli::VERSION.as_bytes());
            let _ = stdio::write_stdout(b"\n");
            0
        }
        Ok(Command::Run(config)) => os::run(&config),
        Err(error) => {
            // One write, as every log line: the two lines arrive together. The error line
            // holds at most LINE_LEN bytes, so both fit.
            static_assertions::const_assert!(cli::USAGE.len() + 2 <= LINE_LEN);
            let mut message = [0u8; 2 * LINE_LEN];
            let mut len = 0;
            for part in [error.line(), "\n", cli::USAGE, "\n"] {
                message[len..len + part.len()].copy_from_slice(part.as_bytes());
                len += part.len();
            }
            let _ = stdio::write_stderr(&message[..len]);
            EX_USAGE
        }
    }
}

/// Runs the daemon on backend `B`, following `-i`'s MTU through `E`; returns the exit status.
/// The system's `run` (linux/mod.rs, freebsd/mod.rs) picks both.
///
/// Only opening the backend and the loop depend on `B`: the rest of start-up is in
/// [`start`] and [`settle`], which do not, so that a second backend (the eBPF mode) does not
/// bring a second copy of them (12 KB).
fn daemon<B: Backend, E: LinkEvents>(config: &Config) -> u8 {
    let mut started = match start::<E>(config) {
        Ok(started) => started,
        Err(status) => return status,
    };
    let mut buf = PACKET_BUF.lock().unwrap_or_else(PoisonError::into_inner);
    let link = started.watch.as_ref().and_then(MtuWatch::index);
    let backend = match B::open(config, link, &mut buf[..], &mut started.handler) {
        Ok(backend) => backend,
        Err(fatal) => return fail(started.handler.log(), &fatal),
    };
    if let Err(status) = settle(config, &mut started, B::PORT_NAME) {
        return status;
    }
    let Started {
        mut handler,
        watch,
        mask,
        pidfile,
        ..
    } = started;
    let result = run::run(backend, watch, &mut buf[..], &mut handler, &mask);
    let status = match result {
        Ok(()) => 0,
        Err(error) => {
            err!(handler.log(); "packet loop: ", error);
            EX_OSERR
        }
    };
    info!(handler.log(); "exiting");
    handler.report();
    // The pidfile goes only now, after the queue: a new instance may start as soon as it does.
    drop(pidfile);
    status
}

/// What start-up has made before the backend opens.
struct Started<'a, E> {
    detached: Option<detach::Detached>,
    mask: signals::WaitMask,
    user: Option<privilege::User>,
    pidfile: Option<Pidfile<'a>>,
    watch: Option<MtuWatch<E>>,
    mtu: Option<u32>,
    handler: Handler,
}

/// Start-up up to the backend: detach, signals, the `-u` user, the pidfile, the interface.
/// A failure is logged and its exit status returned.
fn start<E: LinkEvents>(config: &Config) -> Result<Started<'_, E>, u8> {
    let mut log = Log::stderr();
    // Detach first, while the process has one thread, so that the sockets and the pidfile
    // belong to the process that stays. Until `ready`, errors still reach the terminal and the
    // parent exits with the child's status.
    let detached = if config.foreground {
        None
    } else {
        match detach::daemonize() {
            Ok(detached) => Some(detached),
            Err(error) => return Err(fail(&mut log, &Fatal::os(EX_OSERR, "can't fork", &error))),
        }
    };
    // Handled from here on, and blocked: a signal during start-up waits for the loop instead
    // of killing a half-started daemon with packets queued to it.
    let mask = match signals::install_signal_handlers().and_then(|()| signals::block_signals()) {
        Ok(mask) => mask,
        Err(error) => return Err(fail(&mut log, &Fatal::os(EX_OSERR, "signals", &error))),
    };
    let user = match &config.user {
        None => None,
        Some(name) => match privilege::lookup_user(name) {
            Ok(Some(user)) => Some(user),
            Ok(None) => {
                let fatal = fatal!(EX_NOUSER; "-u ", name, ": no such user");
                return Err(fail(&mut log, &fatal));
            }
            Err(error) => {
                let fatal = Fatal::os(EX_OSERR, "can't look up the -u user", &error);
                return Err(fail(&mut log, &fatal));
            }
        },
    };
    let pidfile = match &config.pidfile {
        None => None,
        Some(path) => match Pidfile::create(path) {
            Ok(pidfile) => Some(pidfile),
            Err(error) => {
                let status = match error {
                    PidfileError::Running { .. } => EX_UNAVAILABLE,
                    PidfileError::NotAFile | PidfileError::Io(_) => EX_CANTCREAT,
                };
                let path = Shown::bytes(path.to_bytes());
                let fatal = fatal!(status; path, ": ", error);
                return Err(fail(&mut log, &fatal));
            }
        },
    };
    // No MTU yet when the -i interface does not exist: it is waited for (a PPP or VPN link
    // appears only once it is up), and packets pass unchanged until it appears. With -e and
    // -m the interface is followed for the classifier's sake, its MTU left aside.
    let (watch, found_mtu) = match config.interface() {
        None => (None, None),
        Some(name) => match MtuWatch::<E>::open(name) {
            Ok((watch, mtu)) => (Some(watch), mtu),
            Err(fatal) => return Err(fail(&mut log, &fatal)),
        },
    };
    let mtu = match config.mtu_source {
        MtuSource::Fixed(mtu) => Some(u32::from(mtu)),
        MtuSource::Interface(_) => found_mtu,
    };
    let limits = mtu.map(run::limits_for);
    let mut handler = Handler::new(limits, config.both, config.verbose, log);
    if matches!(config.mtu_source, MtuSource::Fixed(_)) {
        handler.fix_mtu();
    }
    Ok(Started {
        detached,
        mask,
        user,
        pidfile,
        watch,
        mtu,
        handler,
    })
}

/// Start-up once the backend is open (`port_name` is its [`Backend::PORT_NAME`]): the pid
/// written, the log moved to syslog, privilege given up, the parent told, the start-up line,
/// the seccomp filter. A failure is logged and its exit status returned.
fn settle<E: LinkEvents>(
    config: &Config,
    started: &mut Started<'_, E>,
    port_name: &str,
) -> Result<(), u8> {
    let handler = &mut started.handler;
    if let Some(pidfile) = &mut started.pidfile {
        if let Err(error) = pidfile.write_pid() {
            let fatal = fatal!(EX_CANTCREAT;
                Shown::bytes(pidfile.path().to_bytes()),
                ": ",
                error
            );
            return Err(fail(handler.log(), &fatal));
        }
    }
    if !config.verbose {
        // Opened (LOG_NDELAY) before giving up privilege: on FreeBSD the chroot hides the log
        // socket from later opens.
        handler.set_log(Log::syslog());
    }
    if let Err(fatal) = os::give_up_privilege(config, started.user.take(), handler.log()) {
        if !config.verbose {
            // Still on the terminal (or the supervisor's log), as every earlier failure.
            fail(&mut Log::stderr(), &fatal);
        }
        return Err(fail(handler.log(), &fatal));
    }
    if let Some(detached) = started.detached.take() {
        if let Err(error) = detached.ready() {
            return Err(fail(
                handler.log(),
                &Fatal::os(EX_OSERR, "can't detach", &error),
            ));
        }
    }
    announce(
        config,
        port_name,
        started.watch.as_ref(),
        started.mtu,
        handler,
    );
    // Last: from here on only the loop's own system calls are allowed.
    if let Err(fatal) = os::confine(config, handler.log()) {
        return Err(fail(handler.log(), &fatal));
    }
    Ok(())
}

/// Logs the start-up line: what the daemon does, with which limits, or that it waits for its
/// interface.
fn announce<E: LinkEvents>(
    config: &Config,
    port_name: &str,
    watch: Option<&MtuWatch<E>>,
    mtu: Option<u32>,
    handler: &mut Handler,
) {
    let direction = if config.both {
        "both directions"
    } else {
        "outbound only"
    };
    let version = env!("CARGO_PKG_VERSION");
    // "NFQUEUE 100" or "divert port 100"; "eBPF on ppp0 egress" with -e.
    let mut path = Line::new();
    match &config.ebpf {
        None => put!(&mut path; port_name, " ", config.port),
        Some(interface) => {
            let hooks = if config.both {
                "egress and ingress"
            } else {
                "egress"
            };
            put!(&mut path; port_name, " on ", interface, " ", hooks);
        }
    }
    // With -m the MTU is known; the interface may still be missing.
    if config.ebpf.is_some() && handler.mtu_fixed() && watch.is_some_and(|w| w.index().is_none()) {
        path.push_str(" once it exists (waiting for interface)");
    }
    // "em0 MTU 1500" with -i, "MTU 1500" with -m.
    let (interface, space) = match watch.filter(|_| !handler.mtu_fixed()) {
        Some(watch) => (watch.interface(), " "),
        None => ("", ""),
    };
    match (mtu, handler.limits()) {
        (Some(mtu), Some(limits)) => {
            let limits = LimitsShown(limits);
            info!(handler.log();
                "started, version ",
                version,
                ": ",
                path,
                ", ",
                interface,
                space,
                "MTU ",
                mtu,
                ", ",
                limits,
                ", ",
                direction
            );
        }
        _ => info!(handler.log();
            "started, version ",
            version,
            ": ",
            path,
            ", waiting for interface ",
            interface,
            ": packets pass unchanged until it appears, ",
            direction
        ),
    }
    if config.verbose && config.ebpf.is_some() {
        info!(handler.log();
            "-v with -e: the kernel clamps, so there is no line per clamp; \
             USR1 logs the counters"
        );
    }
}

/// Logs a start-up failure and returns its exit status.
// Out of line: start-up fails in some twenty places.
#[cold]
#[inline(never)]
fn fail(log: &mut Log, fatal: &Fatal) -> u8 {
    err!(log; *fatal.line);
    fatal.status
}
