//! `-e`: the clamp in the kernel. The eBPF classifier (`ebpf.rs` loads it) goes on the
//! interface's egress hook, and with `-b` on its ingress hook too, as a direct-action `bpf`
//! filter under a `clsact` qdisc, put there with rtnetlink (tcpmssd-wire's `tc.rs`). The
//! daemon stays as its control plane: it writes the limits into the program's `LIMITS` map
//! when the MTU changes, attaches it again when the interface comes back, and reads the
//! program's per-CPU counters for the reports.
//!
//! Lifetime, as the man page states it:
//! - SIGTERM (or SIGINT) takes the filter off, if it still runs this daemon's program, and
//!   exits 0. The `clsact` qdisc stays: other filters may hang under it.
//! - A daemon killed with -9 leaves its filter attached: the kernel keeps the program and its
//!   maps as long as the filter holds them, so the link keeps being clamped to the last
//!   limits (never a link without a clamp, never a broken link).
//! - A new daemon on the same interface replaces that program at the filter's fixed place
//!   (`tc::FILTER_PRIORITY`, `NLM_F_REPLACE`): never two stacked.
//! - The filter goes with its interface; when an interface of that name appears again, the
//!   program is attached to it again.
//!
//! The programs are loaded at start, before privilege goes: the one for the interface's kind
//! of link, or both while the interface does not exist yet. Later, `bpf(2)` is allowed only
//! for the map commands (`linux/mod.rs`).

use std::os::fd::{AsFd, AsRawFd, OwnedFd};

use tcpmssd_core::{Limits, Reason};
use tcpmssd_wire::tc::{self, Hook, Item};

use crate::cli::Config;
use crate::exit::{fatal, Fatal, EX_NOINPUT, EX_OSERR, EX_UNAVAILABLE};
use crate::log::{info, warning};
use crate::run::{Backend, Event, Fds, Handler};
use crate::sys::errno::{Errno, SysResult};
use crate::sys::file;
use crate::sys::interface::{self, IFNAME_MAX};
use crate::sys::linux::bpf;
use crate::sys::linux::netlink::Socket;
use crate::text::decimal;

use super::ebpf::{self, Maps, CLAMPED, HELPER_FAILED, NO_LIMITS, OBJECT};

/// The kinds of link the classifier handles: one program each.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Framing {
    /// Frames with an Ethernet header (and up to two VLAN tags) in front of IP.
    Ethernet,
    /// IP packets with no link header: PPP, WireGuard, tun, IP-in-IP tunnels.
    Ip,
}

impl Framing {
    const ALL: [Framing; 2] = [Framing::Ethernet, Framing::Ip];

    /// The framing of a link of type `arphrd` (`ARPHRD_*`, if_arp.h); `None` for one the
    /// classifier does not know how to read. GRE devices (778, 823) are left out: with a
    /// header of their own built before the qdisc, egress packets do not start at IP.
    fn of(arphrd: u16) -> Option<Framing> {
        match arphrd {
            // ARPHRD_ETHER (also bridges, VLANs, veth, Wi-Fi), ARPHRD_LOOPBACK.
            1 | 772 => Some(Framing::Ethernet),
            // ARPHRD_PPP, ARPHRD_RAWIP (LTE modems), ARPHRD_TUNNEL (ipip), ARPHRD_TUNNEL6
            // (ip6tnl), ARPHRD_SIT, ARPHRD_NONE (tun, WireGuard).
            512 | 519 | 768 | 769 | 776 | 0xfffe => Some(Framing::Ip),
            _ => None,
        }
    }

    fn section(self) -> &'static str {
        match self {
            Framing::Ethernet => ebpf::SECTION_ETHERNET,
            Framing::Ip => ebpf::SECTION_L3,
        }
    }

    fn slot(self) -> usize {
        self as usize
    }
}

/// A program in the kernel: its descriptor and its id, by which the kernel's filter
/// messages name it.
struct Loaded {
    fd: OwnedFd,
    id: u32,
}

/// The classifier on one interface.
pub struct Classifier {
    interface: heapless::String<IFNAME_MAX>,
    hooks: heapless::Vec<Hook, 2>,
    maps: Maps,
    /// By [`Framing::slot`].
    programs: [Option<Loaded>; 2],
    /// The interface index and framing the filters were put on; `None` while they are not
    /// (the interface is gone, or has not been there yet).
    attached: Option<(u32, Framing)>,
    /// An rtnetlink socket for the tc requests, bound to no group.
    control: Socket,
    seq: u32,
    /// Possible CPUs: each has its own value of a per-CPU counter.
    cpus: usize,
}

impl Backend for Classifier {
    const PORT_NAME: &'static str = "eBPF";

    fn open(
        config: &Config,
        link: Option<u32>,
        buf: &mut [u8],
        handler: &mut Handler,
    ) -> Result<Classifier, Fatal> {
        let interface = config.ebpf.clone().unwrap_or_default();
        // The interface's own program; both while it does not exist: it may come as either.
        let framing = link.map(|_| framing_of(&interface)).transpose()?;
        let cpus = possible_cpus()
            .map_err(|e| Fatal::os(EX_OSERR, "can't read /sys/devices/system/cpu/possible", &e))?;
        // Its failure shows as the loads' own on the kernels that need it (before 5.11).
        let _ = bpf::lift_memlock_limit();
        let mut maps = Maps::default();
        let mut programs = [None, None];
        for wanted in Framing::ALL {
            if framing.is_some_and(|framing| framing != wanted) {
                continue;
            }
            programs[wanted.slot()] = Some(load(wanted, &mut maps, buf)?);
        }
        maps.set_limits(handler.limits())
            .map_err(|e| Fatal::os(EX_OSERR, "can't write the limits into the eBPF map", &e))?;
        let control = Socket::open(libc::NETLINK_ROUTE)
            .and_then(|socket| socket.bind(0).map(|()| socket))
            .map_err(|e| Fatal::os(EX_OSERR, "can't open rtnetlink socket", &e))?;
        let mut hooks = heapless::Vec::new();
        let _ = hooks.push(Hook::Egress);
        if config.both {
            let _ = hooks.push(Hook::Ingress);
        }
        let mut classifier = Classifier {
            interface,
            hooks,
            maps,
            programs,
            attached: None,
            control,
            seq: 0,
            cpus,
        };
        if let (Some(index), Some(framing)) = (link, framing) {
            classifier.attach(index, framing)?;
        }
        Ok(classifier)
    }

    fn fds(&self) -> Fds<'_> {
        Fds::new()
    }

    fn pass(&mut self, _buf: &mut [u8], _handler: &mut Handler) -> SysResult<()> {
        Ok(())
    }

    fn limits_changed(&mut self, limits: Limits, handler: &mut Handler) {
        if let Err(error) = self.maps.set_limits(Some(limits)) {
            warning!(handler.log();
                self.interface,
                ": can't write the new limits into the eBPF map: ",
                error,
                "; the old ones stay"
            );
        }
    }

    fn link_changed(&mut self, index: Option<u32>, handler: &mut Handler) {
        let Some(index) = index else {
            // The filters went with the interface.
            self.attached = None;
            return;
        };
        if self.attached.is_some_and(|(attached, _)| attached == index) {
            return;
        }
        let framing = match framing_of(&self.interface) {
            Ok(framing) => framing,
            Err(fatal) => {
                warning!(handler.log(); *fatal.line, "; not attached");
                return;
            }
        };
        match self.attach(index, framing) {
            Ok(()) => info!(handler.log();
                self.interface,
                ": eBPF classifier attached (index ",
                index,
                ")"
            ),
            Err(fatal) => warning!(handler.log(); *fatal.line),
        }
    }

    fn update_counters(&mut self, buf: &mut [u8], handler: &mut Handler) {
        match self.maps.counters(self.cpus, buf) {
            Ok(totals) => {
                let mut unchanged = [0u64; Reason::ALL.len()];
                for (count, total) in unchanged.iter_mut().zip(totals) {
                    *count = total;
                }
                let events = [
                    (Event::NoInterface, totals[NO_LIMITS]),
                    (Event::HelperError, totals[HELPER_FAILED]),
                ];
                handler
                    .counters_mut()
                    .set_totals(totals[CLAMPED], unchanged, &events);
            }
            Err(error) => warning!(handler.log();
                self.interface,
                ": can't read the eBPF counters: ",
                error
            ),
        }
    }

    fn shut_down(mut self, buf: &mut [u8], handler: &mut Handler) -> SysResult<()> {
        self.update_counters(buf, handler);
        let Some((index, framing)) = self.attached else {
            return Ok(());
        };
        let Some(ours) = self.programs[framing.slot()]
            .as_ref()
            .map(|loaded| loaded.id)
        else {
            return Ok(());
        };
        for hook in self.hooks.clone() {
            let seq = self.next_seq();
            let detached = match self.filter_program(index, hook) {
                // Another daemon put its program there since: not ours to take off.
                Ok(Some(id)) if id != ours => {
                    info!(handler.log();
                        self.interface,
                        ": the eBPF classifier on ",
                        hook_name(hook),
                        " is another's now (program ",
                        id,
                        "); \
                         left attached"
                    );
                    continue;
                }
                // Gone already (with its interface, or taken off by hand).
                Ok(None) => continue,
                Ok(Some(_)) => self.request(&tc::detach(index, hook, seq)),
                Err(error) => Err(error),
            };
            match detached {
                Ok(()) => info!(handler.log();
                    self.interface,
                    ": eBPF classifier taken off ",
                    hook_name(hook)
                ),
                Err(error) => warning!(handler.log();
                    self.interface,
                    ": can't take the eBPF classifier off ",
                    hook_name(hook),
                    ": ",
                    error,
                    "; it stays, clamping"
                ),
            }
        }
        Ok(())
    }
}

impl Classifier {
    /// Puts the program for `framing` on each hook of interface `index`: the `clsact` qdisc
    /// first, if the interface has none yet.
    fn attach(&mut self, index: u32, framing: Framing) -> Result<(), Fatal> {
        let Some(fd) = self.programs[framing.slot()]
            .as_ref()
            .map(|loaded| loaded.fd.as_raw_fd())
        else {
            return Err(fatal!(EX_UNAVAILABLE;
                self.interface,
                ": came back as another kind of link than the program loaded at start \
                 is for; restart tcpmssd"
            ));
        };
        let seq = self.next_seq();
        match self.request(&tc::add_clsact(index, seq)) {
            Err(error) if error.raw_os_error() != Some(libc::EEXIST) => {
                return Err(self.attach_failed("can't add the clsact qdisc", &error));
            }
            _ => {}
        }
        for hook in self.hooks.clone() {
            let seq = self.next_seq();
            self.request(&tc::attach(index, hook, fd as u32, seq))
                .map_err(|error| self.attach_failed(hook_name(hook), &error))?;
        }
        self.attached = Some((index, framing));
        Ok(())
    }

    /// The failure of an attach `step`.
    #[cold]
    fn attach_failed(&self, step: &str, error: &Errno) -> Fatal {
        fatal!(EX_UNAVAILABLE;
            self.interface,
            ": can't attach the eBPF classifier (",
            step,
            "): ",
            error,
            "; the kernel needs \
             CONFIG_NET_CLS_BPF and CONFIG_NET_SCH_INGRESS, or use the NFQUEUE mode (-p)"
        )
    }

    /// Returns the id of the program in the filter at tcpmssd's place on `hook` of interface
    /// `index`, `None` when there is no filter there.
    fn filter_program(&mut self, index: u32, hook: Hook) -> SysResult<Option<u32>> {
        let seq = self.next_seq();
        let mut found = None;
        match self.exchange(&tc::get_filter(index, hook, seq), |id| found = id) {
            Ok(()) => Ok(found),
            Err(error) if error.raw_os_error() == Some(libc::ENOENT) => Ok(None),
            Err(error) => Err(error),
        }
    }

    /// Sends one request and waits for its acknowledgement.
    fn request(&self, msg: &[u8]) -> SysResult<()> {
        self.exchange(msg, |_| {})
    }

    /// Sends one request, hands the program id of each filter message in the answer to
    /// `filter`, and returns the acknowledgement's result.
    fn exchange(&self, msg: &[u8], mut filter: impl FnMut(Option<u32>)) -> SysResult<()> {
        let seq = msg
            .get(8..12)
            .and_then(|seq| seq.try_into().ok())
            .map_or(0, u32::from_ne_bytes);
        self.control.send(msg)?;
        // Acknowledgements carry the request (without NETLINK_CAP_ACK), a filter's dump a
        // few hundred bytes: a page holds either.
        let mut answer = [0u8; 4096];
        loop {
            let received = self.control.recv(&mut answer, false)?;
            if !received.from_kernel {
                continue;
            }
            for item in tc::messages(answer.get(..received.len).unwrap_or_default()) {
                match item {
                    Item::Filter { program_id } => filter(program_id),
                    Item::Error { errno, seq: acked } if acked == seq => {
                        // As tcpmssd_wire::netlink::ack_result, without its io::Error.
                        return if errno == 0 {
                            Ok(())
                        } else {
                            Err(Errno(errno))
                        };
                    }
                    Item::Error { .. } | Item::Other | Item::Malformed(_) => {}
                }
            }
        }
    }

    fn next_seq(&mut self) -> u32 {
        self.seq = self.seq.wrapping_add(1);
        self.seq
    }
}

/// Loads the program for `framing` with `maps`; a refusal is one line with the verifier's
/// last words (its log goes into `buf`, which is free at start).
fn load(framing: Framing, maps: &mut Maps, buf: &mut [u8]) -> Result<Loaded, Fatal> {
    let section = framing.section();
    let loaded = ebpf::load_with(OBJECT, section, maps, 0, &mut []).and_then(|fd| {
        let id = bpf::prog_id(fd.as_fd()).map_err(ebpf::Error::Load)?;
        Ok(Loaded { fd, id })
    });
    let error = match loaded {
        Ok(loaded) => return Ok(loaded),
        Err(error) => error,
    };
    // Once more with the log, for the reason: the first try without it is the fast one.
    let verifier_said = match ebpf::load_with(OBJECT, section, maps, 1, buf) {
        Err(ebpf::Error::Load(_)) => last_line(buf),
        _ => "",
    };
    // A log that ends without the verifier's statistics was cut by the buffer (kernels
    // before 6.4 keep its start): its last line is then not the reason.
    let whole = log_text(buf).contains("\nprocessed ");
    let (space, open, close) = match (verifier_said.is_empty(), whole) {
        (true, _) => ("", "", ""),
        (false, true) => (" ", "(the verifier: ", ")"),
        (false, false) => (
            " ",
            "(the verifier's log did not fit 64 KiB; its last line kept: ",
            ")",
        ),
    };
    Err(fatal!(EX_UNAVAILABLE;
        "can't load the eBPF classifier (",
        section,
        "): ",
        error,
        space,
        open,
        verifier_said,
        close,
        "; \
         the NFQUEUE mode (-p) needs no eBPF"
    ))
}

/// Returns the text of the NUL-terminated log in `log`.
fn log_text(log: &[u8]) -> &str {
    let end = log.iter().position(|&b| b == 0).unwrap_or(log.len());
    core::str::from_utf8(log.get(..end).unwrap_or_default()).unwrap_or_default()
}

/// Returns the verifier's reason from the NUL-terminated log in `log`: its last non-empty
/// line but the statistics it closes with ("processed N insns ...", "verification time ...",
/// "stack depth ...").
fn last_line(log: &[u8]) -> &str {
    let statistics = ["processed ", "verification time ", "stack depth "];
    log_text(log)
        .lines()
        .rev()
        .find(|line| {
            !line.trim().is_empty() && !statistics.iter().any(|start| line.starts_with(start))
        })
        .unwrap_or_default()
}

fn hook_name(hook: Hook) -> &'static str {
    match hook {
        Hook::Egress => "egress",
        Hook::Ingress => "ingress",
    }
}

/// Returns how the interface called `name` frames its packets, or why the classifier cannot
/// go on it.
fn framing_of(name: &str) -> Result<Framing, Fatal> {
    let arphrd =
        interface::link_type(name).map_err(|e| fatal!(EX_OSERR; name, ": link type: ", e))?;
    Framing::of(arphrd).ok_or_else(|| {
        fatal!(EX_NOINPUT;
            name,
            ": link type ",
            arphrd,
            " is neither Ethernet nor IP-only (PPP, WireGuard, \
             tun, ipip): the eBPF mode cannot read its packets; use the NFQUEUE mode (-p)"
        )
    })
}

/// Reads the number of possible CPUs from `/sys/devices/system/cpu/possible` ("0-3"): the
/// kernel sizes per-CPU values by it, not by the CPUs online.
fn possible_cpus() -> SysResult<usize> {
    let fd = file::open(
        c"/sys/devices/system/cpu/possible",
        libc::O_RDONLY | libc::O_CLOEXEC,
        0,
    )?;
    let mut text = [0u8; 64];
    let text = file::read_to_fill(fd.as_fd(), &mut text)?;
    let last = text
        .trim_ascii()
        .rsplit(|&b| b == b',' || b == b'-')
        .next()
        .and_then(decimal)
        .ok_or(Errno(libc::EINVAL))?;
    usize::try_from(last)
        .ok()
        .and_then(|last| last.checked_add(1))
        .ok_or(Errno(libc::EINVAL))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The link types of if_arp.h each kind of device reports, and some the classifier
    /// cannot read.
    #[test]
    fn framing_by_link_type() {
        for ethernet in [1, 772] {
            assert_eq!(Framing::of(ethernet), Some(Framing::Ethernet), "{ethernet}");
        }
        for ip_only in [512, 519, 768, 769, 776, 0xfffe] {
            assert_eq!(Framing::of(ip_only), Some(Framing::Ip), "{ip_only}");
        }
        // ARPHRD_IPGRE, ARPHRD_IP6GRE, ARPHRD_CAN, ARPHRD_IEEE80211_RADIOTAP, ARPHRD_INFINIBAND.
        for other in [778, 823, 280, 803, 32] {
            assert_eq!(Framing::of(other), None, "{other}");
        }
    }

    #[test]
    fn the_verifier_s_last_line() {
        let log =
            b"0: (b7) r0 = 0\nR1 invalid mem access\nprocessed 5 insns (limit 1000000)\n\0junk";
        assert_eq!(last_line(log), "R1 invalid mem access");
        assert_eq!(last_line(b"\0"), "");
        assert_eq!(last_line(b""), "");
    }
}
