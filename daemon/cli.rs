//! The command line: `tcpmssd [-bfv] -p port {-i iface | -m mtu} [-P pidfile] [-u user]`, read
//! with lexopt in the BSD getopt style of the original tcpmssd(8) (clustered flags, `-p5` and
//! `-p 5`), plus `-h`/`--help` and `-V`/`--version`; on Linux, the eBPF mode's
//! `tcpmssd -e [-bfv] -i iface [-m mtu] [-P pidfile] [-u user]`. Every exit-64 message is
//! written here.

use std::ffi::{CString, OsStr};
use std::os::unix::ffi::OsStrExt;

use crate::sys::interface::IFNAME_MAX;
use crate::text::{decimal, put, Line, Shown};

/// Whether this build has the eBPF mode (`-e`): Linux with the `ebpf` feature.
pub const HAS_EBPF: bool = cfg!(all(target_os = "linux", feature = "ebpf"));

/// The synopsis printed after every usage error: one line, two with the eBPF mode.
pub const USAGE: &str = if HAS_EBPF {
    "usage: tcpmssd [-bfv] -p port {-i iface | -m mtu} [-P pidfile] [-u user]
       tcpmssd -e [-bfv] -i iface [-m mtu] [-P pidfile] [-u user]"
} else {
    "usage: tcpmssd [-bfv] -p port {-i iface | -m mtu} [-P pidfile] [-u user]"
};

/// The `--help` text: every option on one screen.
pub const HELP: &str = if HAS_EBPF {
    "\
usage: tcpmssd [-bfv] -p port {-i iface | -m mtu} [-P pidfile] [-u user]
       tcpmssd -e [-bfv] -i iface [-m mtu] [-P pidfile] [-u user]

Lowers the TCP MSS option of SYN and SYN-ACK packets the firewall queues to it,
or, with -e, in the kernel on the interface itself (no firewall rule).

  -p port        NFQUEUE queue, 0..65535
  -e             clamp in the kernel with eBPF: SYNs leaving through -i's
                 interface (with -b also those arriving); TERM takes it off,
                 a killed daemon leaves it clamping; -v shows no clamp lines
  -i iface       clamp for this interface's MTU, followed when it changes;
                 waited for if it does not exist yet (packets pass meanwhile)
  -m mtu         clamp for this fixed MTU, 68..65535
  -b             clamp packets in both directions (default: outbound only)
  -f             stay in the foreground, log to syslog (for a supervisor)
  -v             stay in the foreground and log every clamp to stderr
  -P pidfile     pidfile path, absolute (default: /var/run/tcpmssd.<iface>.pid
                 with -i, /var/run/tcpmssd.<port>.pid with -m; none with -f, -v)
  -u user        run as this user once the queue is open (keeps CAP_NET_ADMIN,
                 and CAP_BPF with -e)
  -h, --help     print this help and exit
  -V, --version  print the version and exit

Signals: TERM and INT exit, HUP re-reads the MTU, USR1 logs the counters.
"
} else {
    "\
usage: tcpmssd [-bfv] -p port {-i iface | -m mtu} [-P pidfile] [-u user]

Lowers the TCP MSS option of SYN and SYN-ACK packets the firewall queues to it,
so that connections work across a link with a small MTU even where ICMP is lost.

  -p port        NFQUEUE queue (Linux) or divert(4) port (FreeBSD), 0..65535
  -i iface       clamp for this interface's MTU, followed when it changes;
                 waited for if it does not exist yet (packets pass meanwhile)
  -m mtu         clamp for this fixed MTU, 68..65535
  -b             clamp packets in both directions (default: outbound only)
  -f             stay in the foreground, log to syslog (for a supervisor)
  -v             stay in the foreground and log every clamp to stderr
  -P pidfile     pidfile path, absolute (default: /var/run/tcpmssd.<iface>.pid
                 with -i, /var/run/tcpmssd.<port>.pid with -m; none with -f, -v)
  -u user        run as this user once the queue or port is open (Linux keeps
                 CAP_NET_ADMIN only; FreeBSD also chroots to /var/empty)
  -h, --help     print this help and exit
  -V, --version  print the version and exit

Signals: TERM and INT exit, HUP re-reads the interface MTU,
USR1 (and INFO on FreeBSD) logs the counters.
"
};

/// The `--version` line.
pub const VERSION: &str = concat!("tcpmssd ", env!("CARGO_PKG_VERSION"));

/// Longest user name accepted by `-u` (LOGIN_NAME_MAX is larger, useradd's default is 32).
pub const USER_MAX: usize = 32;

/// Smallest MTU accepted: the IPv4 minimum every link must carry (RFC 791, section 3.2).
pub const MTU_MIN: u16 = 68;

/// Where the MTU that sets the MSS limit comes from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum MtuSource {
    /// `-i`: this interface's MTU, read at start and followed; the name is checked for shape
    /// only, its existence at start-up.
    Interface(heapless::String<IFNAME_MAX>),
    /// `-m`: this MTU, 68..=65535.
    Fixed(u16),
}

/// A complete, valid command line.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Config {
    /// `-b`: clamp inbound packets too.
    pub both: bool,
    /// `-f` or `-v`: do not detach. With `-f` alone, lines still go to syslog, as detached.
    pub foreground: bool,
    /// `-v`: stay in the foreground, log to stderr, one line per clamp.
    pub verbose: bool,
    /// `-p`: NFQUEUE queue number on Linux, divert(4) port on FreeBSD.
    pub port: u16,
    /// `-i` or `-m`.
    pub mtu_source: MtuSource,
    /// The pidfile to write: `-P`, else the default when detaching, else (`-f`, `-v`) none.
    ///
    /// A `CString`, not a fixed-size string: a path is bytes rather than UTF-8, `PATH_MAX`
    /// differs between the systems, and it is built once at start-up, never per packet.
    pub pidfile: Option<CString>,
    /// `-u`: the user to switch to once the packet socket is open.
    pub user: Option<heapless::String<USER_MAX>>,
    /// `-e`: clamp in the kernel, on this interface (`-i`'s); `port` is then 0, unused.
    pub ebpf: Option<heapless::String<IFNAME_MAX>>,
}

impl Config {
    /// Returns the interface whose existence (and, without `-m`, MTU) the daemon follows:
    /// `-i`'s.
    pub fn interface(&self) -> Option<&str> {
        match (&self.mtu_source, &self.ebpf) {
            (MtuSource::Interface(name), _) | (_, Some(name)) => Some(name),
            (MtuSource::Fixed(_), None) => None,
        }
    }
}

/// What the command line asks for.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Command {
    /// Run the daemon.
    Run(Config),
    /// `-h`/`--help`: print [`HELP`] to stdout and exit 0.
    Help,
    /// `-V`/`--version`: print [`VERSION`] to stdout and exit 0.
    Version,
}

/// A bad command line: one line, `tcpmssd: <what is wrong>`, to print before [`USAGE`] and
/// exit with [`crate::exit::EX_USAGE`].
pub struct UsageError {
    // Boxed as `exit::Fatal`'s line: the parser's many `?` then pass a pointer, not 264 bytes.
    line: Box<Line>,
}

/// Returns a [`UsageError`] built from pieces as [`crate::text::put!`] appends them.
macro_rules! usage {
    ($($piece:expr),* $(,)?) => {{
        let mut error = UsageError::empty();
        $crate::text::put!(&mut error.line; $($piece),*);
        error
    }};
}

impl UsageError {
    /// Returns the error with its line started, for [`usage!`] to fill.
    // Out of line and cold: the twenty-odd call sites are then a call each.
    #[cold]
    #[inline(never)]
    fn empty() -> UsageError {
        let mut line = Box::new(Line::new());
        line.push_str("tcpmssd: ");
        UsageError { line }
    }

    /// Returns the message, without a newline.
    #[must_use]
    pub fn line(&self) -> &str {
        self.line.as_str()
    }
}

// The tests show a parse result in their assertion messages; the daemon never formats one.
#[cfg(test)]
impl core::fmt::Debug for UsageError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        core::fmt::Debug::fmt(self.line(), f)
    }
}

fn parse_port(value: &OsStr) -> Result<u16, UsageError> {
    let shown = Shown(value);
    let n = decimal(value.as_bytes())
        .ok_or_else(|| usage!("-p ", shown, ": port must be a decimal number"))?;
    u16::try_from(n).map_err(|_| usage!("-p ", shown, ": port must be 0..65535"))
}

fn parse_mtu(value: &OsStr) -> Result<u16, UsageError> {
    let shown = Shown(value);
    let n = decimal(value.as_bytes())
        .ok_or_else(|| usage!("-m ", shown, ": MTU must be a decimal number"))?;
    u16::try_from(n)
        .ok()
        .filter(|&mtu| mtu >= MTU_MIN)
        .ok_or_else(|| usage!("-m ", shown, ": MTU must be 68..65535"))
}

fn parse_interface(value: &OsStr) -> Result<heapless::String<IFNAME_MAX>, UsageError> {
    let shown = Shown(value);
    if value.is_empty() || value.len() > IFNAME_MAX {
        return Err(usage!("-i ", shown, ": interface name must be 1..15 bytes"));
    }
    let Some(name) = value.to_str() else {
        return Err(usage!("-i ", shown, ": interface name must be UTF-8"));
    };
    // '/' would put the default pidfile outside /var/run; control characters (NUL among
    // them) would reach terminals and logs raw. Linux's dev_valid_name() refuses '/' and
    // ASCII white space too.
    if name
        .bytes()
        .any(|b| b == b'/' || b.is_ascii_whitespace() || b.is_ascii_control())
    {
        return Err(usage!(
            "-i ",
            shown,
            ": interface name must not contain '/', white space or control characters"
        ));
    }
    heapless::String::try_from(name)
        .map_err(|()| usage!("-i ", shown, ": interface name must be 1..15 bytes"))
}

fn parse_pidfile(value: &OsStr) -> Result<CString, UsageError> {
    // The daemon changes to `/`: a relative path would be removed in the wrong place at exit.
    if value.as_bytes().first() != Some(&b'/') {
        return Err(usage!(
            "-P ",
            Shown(value),
            ": pidfile must be an absolute path"
        ));
    }
    // An argument from the kernel cannot hold a NUL; one from a caller of `parse` can.
    CString::new(value.as_bytes()).map_err(|error| {
        usage!(
            "-P ",
            Shown::bytes(&error.into_vec()),
            ": pidfile path holds a NUL byte"
        )
    })
}

fn parse_user(value: &OsStr) -> Result<heapless::String<USER_MAX>, UsageError> {
    let shown = Shown(value);
    // The portable user name set (POSIX 3.437), as useradd enforces it: no option-like or
    // shell-unsafe names.
    let valid = |name: &str| {
        !name.starts_with('-')
            && name
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-'))
    };
    value
        .to_str()
        .filter(|name| valid(name))
        .and_then(|name| heapless::String::try_from(name).ok())
        .filter(|name| !name.is_empty())
        .ok_or_else(|| {
            usage!(
                "-u ",
                shown,
                ": user name must be 1..32 characters of A-Z a-z 0-9 . _ -, \
                 not starting with -"
            )
        })
}

/// Refuses an option given twice: a second `-p` is a typo, not an override.
fn once<T>(slot: &mut Option<T>, option: char, value: T) -> Result<(), UsageError> {
    if slot.is_some() {
        return Err(usage!("-", option, " given twice"));
    }
    *slot = Some(value);
    Ok(())
}

/// Parses `args`, which exclude the program name.
#[cfg(test)]
pub fn parse<I>(args: I) -> Result<Command, UsageError>
where
    I: IntoIterator,
    I::Item: Into<std::ffi::OsString>,
{
    let args: Vec<_> = args.into_iter().map(Into::into).collect();
    parse_args(args.iter().map(|arg| arg.as_os_str()))
}

/// Reads the command line with lexopt, in the style of BSD getopt(3): flags clustered
/// (`-bv`), a value attached (`-p5`, also `-p=5`) or in the next argument (`-p 5`, even one
/// that starts with `-`), `--` ending the options; besides, `--help` and `--version`. The
/// daemon takes no operands. Every message is written here, none by lexopt.
///
/// lexopt copies each argument into an `OsString`: a few heap allocations at start-up, none
/// later (the loop's count stays flat; the counters report it).
pub fn parse_args<'a>(args: impl Iterator<Item = &'a OsStr>) -> Result<Command, UsageError> {
    use lexopt::Arg;

    let mut parser = lexopt::Parser::from_args(args);
    let mut seen = Seen::default();
    while let Some(arg) = parser.next().map_err(lexopt_error)? {
        let option = match arg {
            Arg::Short('h') => return Ok(Command::Help),
            Arg::Short('V') => return Ok(Command::Version),
            Arg::Long(name) => {
                let (command, option) = long_option(name)?;
                // `--help=me` is a mistake worth reporting, not a request for help.
                return match parser.optional_value() {
                    Some(value) => Err(usage!(option, " takes no value, got ", Shown(&value))),
                    None => Ok(command),
                };
            }
            Arg::Value(operand) => return Err(unexpected_argument(&operand)),
            Arg::Short(option) => option,
        };
        match option {
            'b' => once(&mut seen.both, 'b', ())?,
            'e' if HAS_EBPF => once(&mut seen.ebpf, 'e', ())?,
            'e' => return Err(no_ebpf()),
            'f' => once(&mut seen.foreground, 'f', ())?,
            'v' => once(&mut seen.verbose, 'v', ())?,
            'p' | 'i' | 'm' | 'P' | 'u' => {
                let value = parser.value().map_err(lexopt_error)?;
                seen.take(option, &value)?;
            }
            _ => return Err(unknown_short_option(option)),
        }
    }
    seen.finish()
}

/// Turns the errors lexopt can give for the calls made above into their one-line message.
/// Not lexopt's own text: its `Display` of every variant would cost the binary 2 KB.
fn lexopt_error(error: lexopt::Error) -> UsageError {
    match error {
        lexopt::Error::MissingValue {
            option: Some(option),
        } => usage!(option.as_str(), " needs a value"),
        // `-b=x`: a flag with a value after `=`.
        lexopt::Error::UnexpectedValue { option, value } => {
            usage!(option.as_str(), " takes no value, got ", Shown(&value))
        }
        // MissingValue without an option, UnexpectedOption, UnexpectedArgument,
        // NonUnicodeValue, ParsingFailed and Custom come only from calls not made here.
        _ => usage!("bad command line"),
    }
}

fn unexpected_argument(arg: &OsStr) -> UsageError {
    usage!("unexpected argument ", Shown(arg))
}

/// An unknown `-x`. lexopt hands over a character: bytes that are no UTF-8 arrive as U+FFFD,
/// which is shown escaped as any byte past ASCII is.
fn unknown_short_option(option: char) -> UsageError {
    let mut name = [b'-'; 5];
    let len = option.encode_utf8(&mut name[1..]).len();
    usage!(
        "unknown option ",
        Shown::bytes(name.get(..=len).unwrap_or_default())
    )
}

/// `--help` or `--version` (`name` comes without its dashes), with the option's name.
fn long_option(name: &str) -> Result<(Command, &'static str), UsageError> {
    match name {
        "help" => Ok((Command::Help, "--help")),
        "version" => Ok((Command::Version, "--version")),
        _ => {
            // Shown whole, dashes included, so that `--=x` reads `unknown option --`.
            let mut option = Line::new();
            put!(&mut option; "--", name);
            Err(usage!(
                "unknown option ",
                Shown::bytes(option.as_str().as_bytes())
            ))
        }
    }
}

/// The options read so far.
#[derive(Default)]
struct Seen {
    both: Option<()>,
    foreground: Option<()>,
    verbose: Option<()>,
    ebpf: Option<()>,
    port: Option<u16>,
    interface: Option<heapless::String<IFNAME_MAX>>,
    mtu: Option<u16>,
    pidfile: Option<CString>,
    user: Option<heapless::String<USER_MAX>>,
}

impl Seen {
    /// Takes the value of `-p`, `-i`, `-m`, `-P` or `-u`: checked first, then refused if the
    /// option came before.
    fn take(&mut self, option: char, value: &OsStr) -> Result<(), UsageError> {
        match option {
            'p' => once(&mut self.port, 'p', parse_port(value)?),
            'P' => {
                let path = parse_pidfile(value)?;
                // The same path twice is one request: an rc.d script passes `-P` and the
                // administrator's flags may repeat it.
                if self.pidfile.as_ref() == Some(&path) {
                    return Ok(());
                }
                once(&mut self.pidfile, 'P', path)
            }
            'u' => once(&mut self.user, 'u', parse_user(value)?),
            'i' => once(&mut self.interface, 'i', parse_interface(value)?),
            _ => once(&mut self.mtu, 'm', parse_mtu(value)?),
        }
    }

    /// Checks that the required options came and fills in the defaults.
    fn finish(self) -> Result<Command, UsageError> {
        let (port, mtu_source, ebpf) = match self.ebpf {
            Some(()) => {
                if self.port.is_some() {
                    return Err(usage!(
                        "-p has no meaning with -e: the kernel clamps, no queue is read"
                    ));
                }
                let Some(interface) = self.interface else {
                    return Err(usage!("-e needs -i iface: the interface to clamp on"));
                };
                let source = match self.mtu {
                    Some(mtu) => MtuSource::Fixed(mtu),
                    None => MtuSource::Interface(interface.clone()),
                };
                (0, source, Some(interface))
            }
            None => {
                let Some(port) = self.port else {
                    return Err(usage!("-p port is required"));
                };
                let source = match (self.interface, self.mtu) {
                    (Some(name), None) => MtuSource::Interface(name),
                    (None, Some(mtu)) => MtuSource::Fixed(mtu),
                    (Some(_), Some(_)) => return Err(usage!("-i and -m cannot be used together")),
                    (None, None) => return Err(usage!("-i iface or -m mtu is required")),
                };
                (port, source, None)
            }
        };
        let verbose = self.verbose.is_some();
        let foreground = verbose || self.foreground.is_some();
        let pidfile = match self.pidfile {
            Some(path) => Some(path),
            // In the foreground there is no daemon for a pidfile to name: a supervisor
            // (daemon(8), systemd) knows the pid, and writes its own file if asked.
            None if foreground => None,
            None => Some(default_pidfile(ebpf.as_deref(), &mtu_source, port)),
        };
        Ok(Command::Run(Config {
            both: self.both.is_some(),
            foreground,
            verbose,
            port,
            mtu_source,
            pidfile,
            user: self.user,
            ebpf,
        }))
    }
}

/// `-e` in a build without the eBPF mode.
fn no_ebpf() -> UsageError {
    if cfg!(target_os = "linux") {
        usage!("-e: this build has no eBPF mode (built without the ebpf feature)")
    } else {
        usage!("-e: the eBPF mode is Linux only")
    }
}

/// Returns `/var/run/tcpmssd.<iface>.pid` (as the original; `-e`'s interface in the eBPF
/// mode) or `/var/run/tcpmssd.<port>.pid`.
fn default_pidfile(ebpf: Option<&str>, source: &MtuSource, port: u16) -> CString {
    // 17 + 15 (IFNAME_MAX) + 4 bytes at most.
    let mut path = Line::new();
    match (ebpf, source) {
        (Some(name), _) => put!(&mut path; "/var/run/tcpmssd.", name, ".pid"),
        (None, MtuSource::Interface(name)) => put!(&mut path; "/var/run/tcpmssd.", name, ".pid"),
        (None, MtuSource::Fixed(_)) => put!(&mut path; "/var/run/tcpmssd.", port, ".pid"),
    }
    // Interface names with a NUL are refused by parse_interface.
    CString::new(path.as_str()).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use std::ffi::OsString;

    use super::*;
    use crate::text::LINE_LEN;

    fn run(args: &[&str]) -> Config {
        match parse(args) {
            Ok(Command::Run(config)) => config,
            other => panic!("{args:?}: expected a config, got {other:?}"),
        }
    }

    fn error(args: &[&str]) -> String {
        match parse(args) {
            Err(error) => error.line().to_owned(),
            other => panic!("{args:?}: expected an error, got {other:?}"),
        }
    }

    #[test]
    fn original_command_line() {
        let config = run(&["-p", "1000", "-i", "em0"]);
        assert_eq!(
            config,
            Config {
                both: false,
                foreground: false,
                verbose: false,
                port: 1000,
                mtu_source: MtuSource::Interface("em0".try_into().unwrap()),
                pidfile: Some(c"/var/run/tcpmssd.em0.pid".into()),
                user: None,
                ebpf: None,
            }
        );
    }

    #[test]
    fn clustered_flags_and_attached_values() {
        let config = run(&["-bvp5", "-m1400"]);
        assert!(config.both && config.verbose && config.foreground);
        assert_eq!(config.port, 5);
        assert_eq!(config.mtu_source, MtuSource::Fixed(1400));
        assert_eq!(config.pidfile, None, "foreground: no pidfile unless -P");
    }

    #[test]
    fn double_dash_ends_the_options() {
        assert_eq!(run(&["-p1", "-m1400", "--"]).port, 1);
        // A value is the next argument whatever it looks like, as with getopt(3).
        assert_eq!(
            run(&["-p1", "-i", "-x0"]).mtu_source,
            MtuSource::Interface("-x0".try_into().unwrap())
        );
    }

    /// lexopt reads `-p=5` as `-p 5` (getopt(3) would read the value `=5`).
    #[test]
    fn equals_after_a_short_option_starts_its_value() {
        let config = run(&["-p=5", "-m=1400"]);
        assert_eq!(
            (config.port, config.mtu_source),
            (5, MtuSource::Fixed(1400))
        );
        let config = run(&["-bp=7", "-i=em0", "-P=/run/t.pid"]);
        assert_eq!(config.port, 7);
        assert_eq!(
            config.mtu_source,
            MtuSource::Interface("em0".try_into().unwrap())
        );
        assert_eq!(config.pidfile.as_deref(), Some(c"/run/t.pid"));
    }

    /// lexopt hands over an option name that is no UTF-8 as U+FFFD, shown escaped.
    #[test]
    fn non_utf8_option_name_shown_as_the_replacement_character() {
        for bad in [&b"-\xff"[..], b"-b\xff", b"-\xc3"] {
            let args = [
                OsStr::new("-p1"),
                OsStr::new("-m1400"),
                OsStr::from_bytes(bad),
            ];
            match parse(args) {
                Err(error) => assert_eq!(
                    error.line(),
                    "tcpmssd: unknown option \"-\\xEF\\xBF\\xBD\"",
                    "{bad:?}"
                ),
                other => panic!("{bad:?}: expected an error, got {other:?}"),
            }
        }
    }

    #[test]
    fn foreground_without_clamp_lines_and_without_a_default_pidfile() {
        let config = run(&["-f", "-p", "7", "-i", "em0"]);
        assert!(config.foreground && !config.verbose);
        assert_eq!(config.pidfile, None, "a supervisor knows the pid");
        let config = run(&["-fP", "/run/t.pid", "-p7", "-m1400"]);
        assert_eq!(config.pidfile.as_deref(), Some(c"/run/t.pid"));
        let config = run(&["-fv", "-p7", "-m1400"]);
        assert!(config.foreground && config.verbose);
    }

    #[test]
    fn the_same_pidfile_twice_is_one() {
        let config = run(&["-P/run/t.pid", "-p7", "-m1400", "-P", "/run/t.pid"]);
        assert_eq!(config.pidfile.as_deref(), Some(c"/run/t.pid"));
    }

    #[test]
    fn fixed_mtu_default_pidfile_names_the_port() {
        let config = run(&["-m", "1400", "-p", "7"]);
        assert_eq!(config.pidfile.as_deref(), Some(c"/var/run/tcpmssd.7.pid"));
    }

    #[test]
    fn pidfile_with_a_nul_byte_refused() {
        let args = [
            OsStr::new("-p1"),
            OsStr::new("-m1400"),
            OsStr::new("-P"),
            OsStr::new("/run/a\0b"),
        ];
        match parse(args) {
            Err(error) => assert_eq!(
                error.line(),
                "tcpmssd: -P \"/run/a\\0b\": pidfile path holds a NUL byte"
            ),
            other => panic!("expected an error, got {other:?}"),
        }
    }

    #[test]
    fn pidfile_option_overrides_also_in_foreground() {
        let config = run(&["-v", "-p", "0", "-m", "65535", "-P", "/tmp/x.pid"]);
        assert_eq!(config.mtu_source, MtuSource::Fixed(65535));
        assert_eq!(config.pidfile.as_deref(), Some(c"/tmp/x.pid"));
    }

    #[test]
    fn user_option() {
        assert_eq!(run(&["-p1", "-m1400"]).user, None);
        let config = run(&["-p1", "-m1400", "-u", "_tcpmssd"]);
        assert_eq!(config.user.as_deref(), Some("_tcpmssd"));
        let longest = "u".repeat(USER_MAX);
        assert_eq!(
            run(&["-p1", "-m1400", "-u", &longest]).user.as_deref(),
            Some(longest.as_str())
        );
    }

    #[test]
    fn range_edges_accepted() {
        assert_eq!(run(&["-p", "65535", "-m", "68"]).port, 65535);
        assert_eq!(
            run(&["-p", "0", "-m", "00068"]).mtu_source,
            MtuSource::Fixed(68)
        );
        let name = "abcdefghijklmno";
        assert_eq!(
            run(&["-p", "0", "-i", name]).mtu_source,
            MtuSource::Interface(name.try_into().unwrap())
        );
    }

    #[test]
    fn help_and_version() {
        for args in [&["-h"][..], &["--help"], &["-p", "1", "-h"], &["-bh"]] {
            assert_eq!(parse(args).unwrap(), Command::Help, "{args:?}");
        }
        for args in [&["-V"][..], &["--version"]] {
            assert_eq!(parse(args).unwrap(), Command::Version, "{args:?}");
        }
        assert!(VERSION.starts_with("tcpmssd 0."));
    }

    #[test]
    fn help_fits_one_screen_and_names_every_option() {
        assert!(HELP.lines().count() <= 24);
        assert!(HELP.lines().all(|line| line.len() <= 80));
        for option in [
            "-p",
            "-i",
            "-m",
            "-b",
            "-f",
            "-v",
            "-P",
            "-u",
            "-h",
            "--help",
            "-V",
            "--version",
        ]
        .into_iter()
        .chain(HAS_EBPF.then_some("-e"))
        {
            let listed = HELP.lines().any(|line| {
                line.trim_start().split([' ', ',']).next() == Some(option)
                    || line.contains(&format!(", {option} "))
            });
            assert!(listed, "{option}");
        }
        assert!(HELP.starts_with(USAGE));
    }

    #[test]
    fn usage_errors() {
        #[rustfmt::skip]
        let cases: &[(&[&str], &str)] = &[
            (&["-m", "1400"],                       "-p port is required"),
            (&["-p", "1"],                          "-i iface or -m mtu is required"),
            (&["-p1", "-i", "em0", "-m", "1400"],   "-i and -m cannot be used together"),
            (&["-p1", "-m", "1400", "-i", "em0"],   "-i and -m cannot be used together"),
            (&["-p1", "-m", "67"],                  "-m 67: MTU must be 68..65535"),
            (&["-p1", "-m", "65536"],               "-m 65536: MTU must be 68..65535"),
            (&["-p1", "-m", "99999999999999999999"], "-m 99999999999999999999: MTU must be 68..65535"),
            (&["-p1", "-m", "0x578"],               "-m 0x578: MTU must be a decimal number"),
            (&["-p1", "-m", "1e3"],                 "-m 1e3: MTU must be a decimal number"),
            (&["-p1", "-m", "+1400"],               "-m +1400: MTU must be a decimal number"),
            (&["-p1", "-m", " 1400"],               "-m \" 1400\": MTU must be a decimal number"),
            (&["-p1", "-m", ""],                    "-m \"\": MTU must be a decimal number"),
            (&["-p", "-1", "-m", "1400"],           "-p -1: port must be a decimal number"),
            (&["-p", "65536", "-m", "1400"],        "-p 65536: port must be 0..65535"),
            (&["-p1", "-p2", "-m", "1400"],         "-p given twice"),
            (&["-p1", "-m", "1400", "-m", "1400"],  "-m given twice"),
            (&["-p1", "-i", "a", "-i", "b"],        "-i given twice"),
            (&["-bb", "-p1", "-m", "1400"],         "-b given twice"),
            (&["-vp1", "-vm1400"],                  "-v given twice"),
            (&["-p1", "-i", "abcdefghijklmnop"],    "-i abcdefghijklmnop: interface name must be 1..15 bytes"),
            (&["-p1", "-i", ""],                    "-i \"\": interface name must be 1..15 bytes"),
            (&["-p1", "-i", "../etc"],              "-i ../etc: interface name must not contain '/', white space or control characters"),
            (&["-p1", "-i", "em 0"],                "-i \"em 0\": interface name must not contain '/', white space or control characters"),
            (&["-p1", "-i", "em\u{1}"],             "-i \"em\\x01\": interface name must not contain '/', white space or control characters"),
            (&["-p1", "-i", "em\0"],                "-i \"em\\0\": interface name must not contain '/', white space or control characters"),
            (&["-p1", "-m", "1400", "extra"],       "unexpected argument extra"),
            (&["-p1", "-m", "1400", "--", "-x"],    "unexpected argument -x"),
            (&["-x"],                               "unknown option -x"),
            (&["--port=1"],                         "unknown option --port"),
            (&["--help=me"],                        "--help takes no value, got me"),
            (&["-m", "1400", "-p"],                 "-p needs a value"),
            (&["-m", "1400", "-p", "--"],           "-p --: port must be a decimal number"),
            (&["-m", "1400", "-p=x5"],              "-p x5: port must be a decimal number"),
            (&["-m", "1400", "-p=-5"],              "-p -5: port must be a decimal number"),
            (&["-p1", "-m1400", "-b=x"],            "-b takes no value, got x"),
            (&["-p1", "-m1400", "-P/a", "-P/a/"],   "-P given twice"),
            (&["-ff", "-p1", "-m1400"],             "-f given twice"),
            (&["-p1", "-m1400", "-"],               "unexpected argument -"),
            (&["-p1", "-m1400", "-bé"],             "unknown option \"-\\xC3\\xA9\""),
            (&["--", "-p1"],                        "unexpected argument -p1"),
            (&["--=x"],                             "unknown option --"),
            (&["--helpme"],                         "unknown option --helpme"),
            (&["-p1", "-m", "1400", "-P", "x.pid"], "-P x.pid: pidfile must be an absolute path"),
            (&["-p1", "-m1400", "-P/a", "-P/b"],    "-P given twice"),
            (&["-p1", "-m1400", "-u", ""],          "-u \"\": user name must be 1..32 characters of A-Z a-z 0-9 . _ -, not starting with -"),
            (&["-p1", "-m1400", "-u", "-x"],        "-u -x: user name must be 1..32 characters of A-Z a-z 0-9 . _ -, not starting with -"),
            (&["-p1", "-m1400", "-u", "a b"],       "-u \"a b\": user name must be 1..32 characters of A-Z a-z 0-9 . _ -, not starting with -"),
            (&["-p1", "-m1400", "-u", "root;id"],   "-u root;id: user name must be 1..32 characters of A-Z a-z 0-9 . _ -, not starting with -"),
            (&["-p1", "-m1400", "-u", &"u".repeat(33)], "-u uuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuu: user name must be 1..32 characters of A-Z a-z 0-9 . _ -, not starting with -"),
            (&["-p1", "-m1400", "-ua", "-ub"],      "-u given twice"),
        ];
        for (args, expected) in cases {
            assert_eq!(error(args), format!("tcpmssd: {expected}"), "{args:?}");
        }
    }

    #[test]
    fn non_utf8_interface_refused_and_shown_escaped() {
        let args = [
            OsString::from("-p"),
            OsString::from("1"),
            OsString::from("-i"),
            OsString::from(OsStr::from_bytes(b"em\xff0")),
        ];
        let error = parse(args).unwrap_err();
        assert_eq!(
            error.line(),
            "tcpmssd: -i \"em\\xFF0\": interface name must be UTF-8"
        );
    }

    #[test]
    fn huge_value_message_is_one_cut_line() {
        let long = "x".repeat(10_000);
        let line = error(&["-p", "1", "-m", &long]);
        assert!(line.len() <= LINE_LEN);
        assert!(line.starts_with("tcpmssd: -m xxx"));
        assert!(line.ends_with("..."));
        assert!(!line.contains('\n'));
    }

    #[test]
    fn ebpf_mode() {
        if !HAS_EBPF {
            let expected = if cfg!(target_os = "linux") {
                "tcpmssd: -e: this build has no eBPF mode (built without the ebpf feature)"
            } else {
                "tcpmssd: -e: the eBPF mode is Linux only"
            };
            assert_eq!(error(&["-e", "-i", "em0"]), expected);
            return;
        }
        let config = run(&["-e", "-i", "ppp0"]);
        assert_eq!(config.ebpf.as_deref(), Some("ppp0"));
        assert_eq!(
            config.mtu_source,
            MtuSource::Interface("ppp0".try_into().unwrap())
        );
        assert_eq!(config.interface(), Some("ppp0"));
        assert_eq!(config.pidfile, Some(c"/var/run/tcpmssd.ppp0.pid".into()));
        // -m fixes the MTU; -i still names the interface, in any order.
        let config = run(&["-m1400", "-bve", "-i", "wg0"]);
        assert_eq!(config.mtu_source, MtuSource::Fixed(1400));
        assert_eq!(config.interface(), Some("wg0"));
        assert!(config.both && config.verbose);
        #[rustfmt::skip]
        let cases: &[(&[&str], &str)] = &[
            (&["-e", "-p1", "-i", "em0"], "-p has no meaning with -e: the kernel clamps, no queue is read"),
            (&["-e", "-m", "1400"],       "-e needs -i iface: the interface to clamp on"),
            (&["-e"],                     "-e needs -i iface: the interface to clamp on"),
            (&["-ee", "-i", "em0"],       "-e given twice"),
            (&["-e", "-i", "a", "-i", "b"], "-i given twice"),
        ];
        for (args, expected) in cases {
            assert_eq!(error(args), format!("tcpmssd: {expected}"), "{args:?}");
        }
        // Without -e, -i is only the MTU source.
        assert_eq!(run(&["-p1", "-i", "em0"]).interface(), Some("em0"));
        assert_eq!(run(&["-p1", "-m", "1500"]).interface(), None);
    }
}
