//! The FreeBSD packet path: a divert(4) socket bound to `-p`. Every packet read goes back with
//! the address it came with (divert(4): "passing the same socket address supplied by
//! recvfrom(2) unmodified to sendto(2)"), changed or not; the address says its direction.
//!
//! The socket calls go through [`DivertSocket`]: on FreeBSD the divert socket of
//! `sys/freebsd/divert.rs`; in the tests below, on any OS, a double that behaves as FreeBSD
//! 14's `divert_packet()`, `div_send()` (sys/netinet/ip_divert.c) and `soreceive()`
//! (kern/uipc_socket.c) do, so that this loop, not only the address parser (tcpmssd-wire's
//! `divert.rs`), runs in `cargo test`.

use std::os::fd::AsFd;
use std::time::Duration;

use tcpmssd_wire::divert::{self, Direction, SOCKADDR_IN_LEN};

use crate::cli::Config;
use crate::exit::{fatal, Fatal, EX_NOPERM, EX_OSERR, EX_UNAVAILABLE};
use crate::log::warning;
use crate::run::{limited_warn, send_retrying, Backend, Event, Fds, Handler};
use crate::sys::clock::Moment;
use crate::sys::errno::SysResult;

/// Receive buffer asked for the divert socket, instead of the kernel's DIVRCVQ (64 KiB + 100,
/// ip_divert.c). `sbappendaddr_locked()` (kern/uipc_sockbuf.c) charges a packet its length
/// plus the 16 address bytes, so 256 KiB hold about 3,400 IPv4 SYNs of 60 bytes.
const RECEIVE_BUFFER_LEN: usize = 256 * 1024;

/// Packets read per batch at most, so that a flood still lets the loop see its signals.
const BATCH_PACKETS: usize = 64;

/// How long leaving may spend answering what waits in the socket. A time, not a count of
/// packets: a count sized for one buffer is too small for a larger one (2,048 left 1,400 of a
/// full 256 KiB buffer behind), and a flood that never ends must not keep the daemon from
/// exiting. A SYN takes a few microseconds, so a full buffer drains in milliseconds.
const DRAIN_TIME: Duration = Duration::from_secs(1);

/// `__FreeBSD_version` where the 14 branch starts; every 14 release has the PF_DIVERT family
/// (commit 8624f4347e81, "divert: declare PF_DIVERT domain and stop abusing PF_INET", landed
/// during 14-CURRENT, so only 14-CURRENT snapshots older than it are misjudged). Only older
/// kernels are asked for the legacy socket: FreeBSD 14 answers it with a console line "uses
/// obsolete way to create divert(4) socket" (`socreate()`, kern/uipc_socket.c), also when
/// ipdivert.ko is simply not loaded.
pub const PF_DIVERT_RELEASE: i32 = 1_400_000;

/// The calls the path makes on its socket: `sys/freebsd/divert.rs` on FreeBSD, a double in the
/// tests.
pub trait DivertSocket: AsFd + Sized {
    /// Opens a PF_DIVERT socket (FreeBSD 14 and later).
    fn open() -> SysResult<Self>;
    /// Opens a socket the pre-14 way, `socket(PF_INET, SOCK_RAW, IPPROTO_DIVERT)`.
    fn open_legacy() -> SysResult<Self>;
    /// Returns the kernel's `__FreeBSD_version` (`kern.osreldate`).
    fn os_release() -> SysResult<i32>;
    /// Asks for a receive buffer of `len` bytes (`SO_RCVBUF`).
    fn set_receive_buffer(&self, len: usize) -> SysResult<()>;
    /// Asks for receive-buffer overflows to be reported as `ENOBUFS` (`SO_RERROR`).
    fn report_overflows(&self) -> SysResult<()>;
    /// Binds to divert port `port`.
    fn bind(&self, port: u16) -> SysResult<()>;
    /// Receives one packet without blocking: the bytes copied into `buf` (a longer packet is
    /// cut to it) and the bytes of `address` the kernel wrote.
    fn recv(
        &self,
        buf: &mut [u8],
        address: &mut [u8; SOCKADDR_IN_LEN],
    ) -> SysResult<(usize, usize)>;
    /// Sends `packet` back with `address`; returns the bytes sent.
    fn send(&self, packet: &[u8], address: &[u8]) -> SysResult<usize>;
}

/// A bound divert socket.
pub struct Divert<S> {
    socket: S,
    port: u16,
    /// [`DRAIN_TIME`]; shorter in the tests.
    drain_time: Duration,
}

/// Why a batch ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Ended {
    /// [`BATCH_PACKETS`] were read; more may wait.
    Full,
    /// The socket is empty (`EAGAIN`).
    Empty,
    /// A read was interrupted by a signal: the loop looks at its flags first.
    Interrupted,
}

/// Opens the divert socket: PF_DIVERT, or the legacy form on a kernel older than 14.
fn open_socket<S: DivertSocket>() -> Result<S, Fatal> {
    let opened = S::open().or_else(|error| {
        let no_family = matches!(
            error.raw_os_error(),
            Some(libc::EAFNOSUPPORT | libc::EPROTONOSUPPORT)
        );
        // A release that cannot be read is taken as new: no console line, and the error
        // names the module.
        if no_family && S::os_release().is_ok_and(|release| release < PF_DIVERT_RELEASE) {
            S::open_legacy()
        } else {
            Err(error)
        }
    });
    opened.map_err(|e| match e.raw_os_error() {
        Some(libc::EPERM | libc::EACCES) => {
            fatal!(EX_NOPERM; "can't create divert socket: ", e, ": run as root")
        }
        Some(libc::EAFNOSUPPORT | libc::EPROTONOSUPPORT) => fatal!(EX_UNAVAILABLE;
            "can't create divert socket: ",
            e,
            " (kldload ipdivert)"
        ),
        _ => Fatal::os(EX_OSERR, "can't create divert socket", &e),
    })
}

impl<S: DivertSocket> Divert<S> {
    /// Reads and answers up to one batch.
    fn pass_batch(&mut self, buf: &mut [u8], handler: &mut Handler) -> SysResult<Ended> {
        for _ in 0..BATCH_PACKETS {
            let mut address = [0u8; SOCKADDR_IN_LEN];
            let (len, address_len) = match self.socket.recv(buf, &mut address) {
                Ok(received) => received,
                Err(error) if error.raw_os_error() == Some(libc::EAGAIN) => {
                    return Ok(Ended::Empty)
                }
                Err(error) if error.raw_os_error() == Some(libc::EINTR) => {
                    return Ok(Ended::Interrupted)
                }
                // SO_RERROR: the buffer overflowed and the kernel dropped packets
                // (soroverflow_locked). Reported once, when the queue is read empty.
                Err(error) if error.raw_os_error() == Some(libc::ENOBUFS) => {
                    handler.count(Event::RecvError);
                    limited_warn!(handler;
                        "divert port ",
                        self.port,
                        ": receive buffer full, the kernel dropped packets"
                    );
                    continue;
                }
                Err(error) => return Err(error),
            };
            if len >= buf.len() {
                // No IP packet is larger than the buffer; a cut one cannot be sent back whole,
                // and a part of it would be a different packet.
                handler.count(Event::TruncatedCopy);
                limited_warn!(handler;
                    "divert port ",
                    self.port,
                    ": a packet longer than the buffer was cut and lost"
                );
                continue;
            }
            let address = address.get(..address_len).unwrap_or_default();
            let Some(packet) = buf.get_mut(..len) else {
                continue;
            };
            match divert::direction(address) {
                Ok(direction) => {
                    let _ = handler.packet(packet, direction == Direction::Outbound);
                }
                Err(why) => {
                    handler.count(Event::MalformedMessage);
                    limited_warn!(handler;
                        "divert port ",
                        self.port,
                        ": ",
                        why.name(),
                        ": packet passed unchanged"
                    );
                }
            }
            self.reinject(packet, address, handler);
        }
        Ok(Ended::Full)
    }

    /// Sends `packet` back with `address`; transient errors are retried with the same bytes:
    /// div_send() frees the packet on every error, so sending it again is no duplicate
    /// (EINTR, and ENOBUFS from a full interface queue or a failed tag allocation).
    fn reinject(&self, packet: &[u8], address: &[u8], handler: &mut Handler) {
        match send_retrying(|| self.socket.send(packet, address)) {
            Ok(sent) if sent == packet.len() => {}
            Ok(_) => {
                handler.count(Event::SendError);
                limited_warn!(handler;
                    "divert port ",
                    self.port,
                    ": a packet was reinjected short"
                );
            }
            Err(error) => {
                handler.count(Event::SendError);
                limited_warn!(handler;
                    "divert port ",
                    self.port,
                    ": reinjecting a packet: ",
                    error
                );
            }
        }
    }
}

impl<S: DivertSocket> Backend for Divert<S> {
    const PORT_NAME: &'static str = "divert port";

    fn open(
        config: &Config,
        _link: Option<u32>,
        _buf: &mut [u8],
        handler: &mut Handler,
    ) -> Result<Divert<S>, Fatal> {
        let port = config.port;
        let socket = open_socket::<S>()?;
        // Room for a burst of SYNs while the daemon is descheduled. Best effort: the default
        // works, only sooner full.
        let _ = socket.set_receive_buffer(RECEIVE_BUFFER_LEN);
        // Without SO_RERROR a full buffer drops packets without a word (soroverflow_locked,
        // kern/uipc_sockbuf.c); with it they are counted and logged. FreeBSD 13 and later.
        if let Err(error) = socket.report_overflows() {
            warning!(handler.log();
                "divert port ",
                port,
                ": SO_RERROR: ",
                error,
                ": packets the kernel drops for a full \
                 buffer go uncounted"
            );
        }
        socket.bind(port).map_err(|e| match e.raw_os_error() {
            Some(libc::EADDRINUSE) => {
                fatal!(EX_UNAVAILABLE; "divert port ", port, ": in use by another process")
            }
            _ => Fatal::os(EX_OSERR, "can't bind divert socket", &e),
        })?;
        Ok(Divert {
            socket,
            port,
            drain_time: DRAIN_TIME,
        })
    }

    fn fds(&self) -> Fds<'_> {
        Fds::from_iter([self.socket.as_fd()])
    }

    fn pass(&mut self, buf: &mut [u8], handler: &mut Handler) -> SysResult<()> {
        self.pass_batch(buf, handler).map(|_| ())
    }

    fn shut_down(mut self, buf: &mut [u8], handler: &mut Handler) -> SysResult<()> {
        // Divert has no queue to close: answer what waits in the socket until it is empty,
        // then close it. Packets diverted after that are dropped by ipfw (divert_packet()
        // counts them `noport` and frees them) until a new daemon binds the port.
        let deadline = Moment::now() + self.drain_time;
        while self.pass_batch(buf, handler)? != Ended::Empty {
            if Moment::now() >= deadline {
                // u32, not as_millis()'s u128: a u128 piece would need a u128 division.
                let millis = u32::try_from(self.drain_time.as_millis()).unwrap_or(u32::MAX);
                warning!(handler.log();
                    "divert port ",
                    self.port,
                    ": still packets after ",
                    millis,
                    " ms of draining; leaving"
                );
                break;
            }
        }
        Ok(())
    }
}

#[cfg(test)]
#[allow(clippy::indexing_slicing, clippy::unwrap_used)]
pub(super) mod tests {
    //! The loop against [`Kernel`], a double of FreeBSD 14's divert socket. Each behaviour it
    //! imitates names its source in sys/netinet/ip_divert.c, kern/uipc_sockbuf.c or
    //! kern/uipc_socket.c (FreeBSD 14/15 main).

    use super::*;
    use crate::log::Log;
    use crate::run::limits_for;
    use crate::sys::errno::Errno;
    use std::cell::RefCell;
    use std::collections::VecDeque;
    use std::os::fd::BorrowedFd;
    use std::rc::Rc;
    use tcpmssd_core::Limits;

    /// Linux connect() SYN to 198.51.100.2:9, captured with tcpdump (the IPv4 payload of
    /// tcpmssd-wire's nfqueue.rs, PACKET_V4): MSS 1460 at bytes 42..44.
    #[rustfmt::skip]
    pub(in crate::freebsd) const SYN_V4: [u8; 60] = [
        0x45, 0x00, 0x00, 0x3c, // IPv4, IHL 5, total length 60
        0x79, 0x30, 0x40, 0x00, // id, DF
        0x40, 0x06, 0x6d, 0x21, // TTL 64, TCP, header checksum
        0xc6, 0x33, 0x64, 0x01, // 198.51.100.1
        0xc6, 0x33, 0x64, 0x02, // 198.51.100.2
        0xe0, 0x46, 0x00, 0x09, // ports 57414 -> 9
        0x3b, 0x35, 0xb6, 0x0f, // sequence number
        0x00, 0x00, 0x00, 0x00, // acknowledgment number
        0xa0, 0x02, 0xfa, 0xf0, // data offset 10, SYN, window 64240
        0x03, 0xb7, 0x00, 0x00, // checksum, urgent pointer
        0x02, 0x04, 0x05, 0xb4, // MSS 1460
        0x04, 0x02, 0x08, 0x0a, // SACK permitted, timestamps...
        0x7f, 0x7b, 0xa3, 0xda, // ...TSval
        0x00, 0x00, 0x00, 0x00, // ...TSecr
        0x01, 0x03, 0x03, 0x0a, // NOP, window scale 10
    ];

    /// The same capture to [2001:db8::2]:9 (tcpmssd-wire's nfqueue.rs, PACKET_V6): MSS 1440 at
    /// bytes 62..64.
    #[rustfmt::skip]
    const SYN_V6: [u8; 80] = [
        0x60, 0x0d, 0x00, 0x91, // IPv6, flow label
        0x00, 0x28, 0x06, 0x40, // payload length 40, TCP, hop limit 64
        0x20, 0x01, 0x0d, 0xb8, 0x00, 0x00, 0x00, 0x00, // 2001:db8::1
        0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x01,
        0x20, 0x01, 0x0d, 0xb8, 0x00, 0x00, 0x00, 0x00, // 2001:db8::2
        0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x02,
        0xeb, 0x04, 0x00, 0x09, // ports 60164 -> 9
        0xea, 0x08, 0x3f, 0xb4, // sequence number
        0x00, 0x00, 0x00, 0x00, // acknowledgment number
        0xa0, 0x02, 0xfd, 0x20, // data offset 10, SYN, window
        0x63, 0xa3, 0x00, 0x00, // checksum, urgent pointer
        0x02, 0x04, 0x05, 0xa0, // MSS 1440
        0x04, 0x02, 0x08, 0x0a, // SACK permitted, timestamps...
        0x64, 0x78, 0x12, 0x95, // ...TSval
        0x00, 0x00, 0x00, 0x00, // ...TSecr
        0x01, 0x03, 0x03, 0x0a, // NOP, window scale 10
    ];

    /// The MTU the tests clamp for: limits 1360 (IPv4) and 1340 (IPv6).
    const MTU: u32 = 1400;
    /// The divert port and the ipfw rule that diverts to it.
    const PORT: u16 = 1000;
    const RULE: u16 = 500;

    /// `DIVRCVQ` (ip_divert.c): the receive buffer `div_attach()` reserves.
    const DIVRCVQ: usize = 65536 + 100;
    /// `kern.ipc.maxsockbuf`'s default (sb_max, kern/uipc_sockbuf.c): SO_RCVBUF above it fails.
    const SB_MAX: usize = 2 * 1024 * 1024;

    /// An interface as the kernel knows it: name and first IPv4 address, if any.
    #[derive(Clone)]
    struct Interface {
        name: &'static str,
        ipv4: Option<[u8; 4]>,
    }

    /// What `div_send()` did with a packet written back.
    #[derive(Clone, Debug, PartialEq, Eq)]
    struct Reinjected {
        packet: Vec<u8>,
        /// The address bytes as written.
        address: Vec<u8>,
        /// `ip_output()`/`ip6_output()` (true) or the netisr input queue (false).
        outbound: bool,
        /// The receive interface the kernel gave an inbound packet.
        rcvif: Option<&'static str>,
        /// The ipfw rule processing restarts at (`sin_port + 1`).
        restart_rule: u16,
    }

    /// The kernel side of one divert socket.
    struct Kernel {
        /// `kern.osreldate`.
        release: i32,
        /// ipdivert.ko loaded: the PF_DIVERT domain exists (`div_modevent`, `domain_add`).
        module: bool,
        /// What a socket(2) call opened: "PF_DIVERT" or "legacy".
        opened: Vec<&'static str>,
        interfaces: Vec<Interface>,
        bound: Option<u16>,
        /// sb_hiwat of the receive buffer.
        hiwat: usize,
        /// SO_RERROR in so_options.
        rerror_option: bool,
        /// so_rerror: ENOBUFS waiting to be reported.
        rerror: bool,
        queue: VecDeque<([u8; 16], Vec<u8>)>,
        /// sb_ccc: address and packet bytes queued.
        queued: usize,
        /// Packets dropped on a full buffer.
        overflowed: u64,
        /// Errors the next calls return instead of doing their work.
        recv_errors: VecDeque<i32>,
        send_errors: VecDeque<i32>,
        recv_calls: u64,
        send_calls: u64,
        sent: Vec<Reinjected>,
        /// A flood: before each read, this packet is diverted again, so many times.
        flood: Option<(Vec<u8>, u64)>,
    }

    impl Kernel {
        fn new() -> Kernel {
            Kernel {
                release: 1_400_097, // 14.0-RELEASE
                module: true,
                opened: Vec::new(),
                interfaces: vec![
                    Interface {
                        name: "em0",
                        ipv4: Some([198, 51, 100, 1]),
                    },
                    Interface {
                        name: "ng0",
                        ipv4: Some([203, 0, 113, 1]),
                    },
                ],
                bound: None,
                hiwat: DIVRCVQ,
                rerror_option: false,
                rerror: false,
                queue: VecDeque::new(),
                queued: 0,
                overflowed: 0,
                recv_errors: VecDeque::new(),
                send_errors: VecDeque::new(),
                recv_calls: 0,
                send_calls: 0,
                sent: Vec::new(),
                flood: None,
            }
        }

        /// ipfw's `divert PORT` rule RULE takes `packet`: `divert_packet()` builds the
        /// address and appends it to the socket bound to the port. `rcvif` is the interface
        /// the packet came in on (none for a locally sent one); `incoming` says whether it is
        /// on its way in. Returns whether it was queued.
        fn divert(&mut self, packet: &[u8], rcvif: Option<&str>, incoming: bool) -> bool {
            let mut sin = [0u8; 16];
            sin[0] = 16; // sin_len = sizeof(divsrc)
            sin[1] = 2; // AF_INET, for IPv6 packets too
            sin[2..4].copy_from_slice(&RULE.to_ne_bytes()); // "in host format"
            if incoming {
                // The first AF_INET address of the receive interface, none if it has none.
                let ifp = self.interfaces.iter().find(|i| Some(i.name) == rcvif);
                if let Some(addr) = ifp.and_then(|i| i.ipv4) {
                    sin[4..8].copy_from_slice(&addr);
                }
            }
            if let Some(name) = rcvif {
                // strlcpy(divsrc.sin_zero, if_xname, sizeof(divsrc.sin_zero)): 7 bytes + NUL.
                let cut = &name.as_bytes()[..name.len().min(7)];
                sin[8..8 + cut.len()].copy_from_slice(cut);
            }
            if self.bound != Some(PORT) {
                return false; // DIVSTAT_INC(noport); m_freem(m)
            }
            // sbappendaddr_locked(): fails when sa_len + m_pkthdr.len exceeds sbspace().
            let space = 16 + packet.len();
            if self.queued + space > self.hiwat {
                // soroverflow_locked(): so_rerror = ENOBUFS only with SO_RERROR set.
                if self.rerror_option {
                    self.rerror = true;
                }
                self.overflowed += 1;
                return false;
            }
            self.queued += space;
            self.queue.push_back((sin, packet.to_vec()));
            true
        }

        /// Diverts `packet` until the buffer is full; returns how many fit.
        fn fill(&mut self, packet: &[u8]) -> usize {
            let mut queued = 0;
            while self.divert(packet, None, false) {
                queued += 1;
            }
            queued
        }

        fn interface_named(&self, name: &[u8]) -> Option<&'static str> {
            self.interfaces
                .iter()
                .find(|i| i.name.as_bytes() == name)
                .map(|i| i.name)
        }

        /// `div_send()` and `div_output_outbound()`/`div_output_inbound()`.
        fn div_send(&mut self, packet: &[u8], address: &[u8]) -> SysResult<usize> {
            let error = |errno| Err(Errno(errno));
            // getsockaddr() (kern/uipc_syscalls.c) sets sa_len to the length passed;
            // div_send() wants AF_INET and sizeof(struct sockaddr_in).
            if address.len() != 16 {
                return error(libc::EINVAL);
            }
            if address[1] != 2 {
                return error(libc::EAFNOSUPPORT);
            }
            let restart_rule = u16::from_ne_bytes([address[2], address[3]]).wrapping_add(1);
            // The receive interface by the NUL-terminated name in sin_zero (ifunit()).
            let zero = &address[8..16];
            let name_len = zero.iter().position(|&b| b == 0).unwrap_or(8);
            let mut rcvif = None;
            if name_len > 0 && name_len < 8 {
                rcvif = self.interface_named(&zero[..name_len]);
            }
            let family = packet[0] >> 4;
            if family != 4 && family != 6 {
                return error(libc::EAFNOSUPPORT);
            }
            let outbound = address[4..8] == [0; 4];
            if outbound {
                // "Don't allow packet length sizes that will crash."
                let declared = if family == 4 {
                    usize::from(u16::from_be_bytes([packet[2], packet[3]]))
                } else {
                    usize::from(u16::from_be_bytes([packet[4], packet[5]]))
                };
                if declared > packet.len() {
                    return error(libc::EINVAL);
                }
            } else if rcvif.is_none() {
                // "No luck with the name, check by IP address": ifa_ifwithaddr().
                let addr = &address[4..8];
                rcvif = self
                    .interfaces
                    .iter()
                    .find(|i| i.ipv4.is_some_and(|a| a == addr))
                    .map(|i| i.name);
                if rcvif.is_none() {
                    return error(libc::EADDRNOTAVAIL);
                }
            }
            self.sent.push(Reinjected {
                packet: packet.to_vec(),
                address: address.to_vec(),
                outbound,
                rcvif: if outbound { None } else { rcvif },
                restart_rule,
            });
            Ok(packet.len())
        }
    }

    thread_local! {
        /// The kernel the next `FakeDivert::open` attaches to.
        static NEXT: RefCell<Option<Rc<RefCell<Kernel>>>> = const { RefCell::new(None) };
    }

    /// A divert socket on [`Kernel`].
    struct FakeDivert {
        kernel: Rc<RefCell<Kernel>>,
        fd: std::fs::File,
    }

    impl AsFd for FakeDivert {
        fn as_fd(&self) -> BorrowedFd<'_> {
            self.fd.as_fd()
        }
    }

    impl FakeDivert {
        fn attach(kernel: Rc<RefCell<Kernel>>) -> FakeDivert {
            FakeDivert {
                kernel,
                fd: std::fs::File::open("/dev/null").unwrap(),
            }
        }
    }

    fn next_kernel() -> Rc<RefCell<Kernel>> {
        NEXT.with_borrow(|next| Rc::clone(next.as_ref().unwrap()))
    }

    impl DivertSocket for FakeDivert {
        fn open() -> SysResult<FakeDivert> {
            let kernel = next_kernel();
            // socreate(): no PF_DIVERT domain without the module, or before 14.
            let exists = {
                let k = kernel.borrow();
                k.module && k.release >= PF_DIVERT_RELEASE
            };
            kernel.borrow_mut().opened.push("PF_DIVERT");
            if !exists {
                return Err(Errno(libc::EAFNOSUPPORT));
            }
            Ok(FakeDivert::attach(kernel))
        }

        fn open_legacy() -> SysResult<FakeDivert> {
            let kernel = next_kernel();
            kernel.borrow_mut().opened.push("legacy");
            if !kernel.borrow().module {
                return Err(Errno(libc::EPROTONOSUPPORT));
            }
            Ok(FakeDivert::attach(kernel))
        }

        fn os_release() -> SysResult<i32> {
            Ok(next_kernel().borrow().release)
        }

        fn set_receive_buffer(&self, len: usize) -> SysResult<()> {
            // sbreserve_locked_limit(): refused past sb_max.
            if len > SB_MAX {
                return Err(Errno(libc::ENOBUFS));
            }
            self.kernel.borrow_mut().hiwat = len;
            Ok(())
        }

        fn report_overflows(&self) -> SysResult<()> {
            self.kernel.borrow_mut().rerror_option = true;
            Ok(())
        }

        fn bind(&self, port: u16) -> SysResult<()> {
            self.kernel.borrow_mut().bound = Some(port);
            Ok(())
        }

        fn recv(
            &self,
            buf: &mut [u8],
            address: &mut [u8; SOCKADDR_IN_LEN],
        ) -> SysResult<(usize, usize)> {
            let mut k = self.kernel.borrow_mut();
            k.recv_calls += 1;
            if let Some(errno) = k.recv_errors.pop_front() {
                return Err(Errno(errno));
            }
            if let Some((packet, left)) = k.flood.take() {
                if left > 0 {
                    k.divert(&packet, None, false);
                    k.flood = Some((packet, left - 1));
                }
            }
            // soreceive_generic(): queued data first ("if (m != NULL) goto dontblock"), the
            // pending so_rerror only once the buffer is empty, then cleared.
            match k.queue.pop_front() {
                Some((sin, packet)) => {
                    k.queued -= 16 + packet.len();
                    // A datagram longer than the buffer is cut (PR_ATOMIC: the rest is
                    // dropped, MSG_TRUNC in msg_flags).
                    let copied = packet.len().min(buf.len());
                    buf[..copied].copy_from_slice(&packet[..copied]);
                    *address = sin;
                    Ok((copied, 16))
                }
                None if k.rerror => {
                    k.rerror = false;
                    Err(Errno(libc::ENOBUFS))
                }
                None => Err(Errno(libc::EAGAIN)),
            }
        }

        fn send(&self, packet: &[u8], address: &[u8]) -> SysResult<usize> {
            let mut k = self.kernel.borrow_mut();
            k.send_calls += 1;
            if let Some(errno) = k.send_errors.pop_front() {
                // div_send() has freed the packet: nothing reaches ip_output().
                return Err(Errno(errno));
            }
            k.div_send(packet, address)
        }
    }

    /// A daemon's view: the bound path and its handler (`-m 1400`, `-b` when `both`).
    struct Daemon {
        kernel: Rc<RefCell<Kernel>>,
        path: Option<Divert<FakeDivert>>,
        handler: Handler,
        buf: Vec<u8>,
    }

    impl Daemon {
        fn start(kernel: Kernel, both: bool) -> Daemon {
            Daemon::start_with(kernel, both, Some(limits_for(MTU)))
        }

        /// `limits`: `None` for a daemon waiting for its `-i` interface.
        fn start_with(kernel: Kernel, both: bool, limits: Option<Limits>) -> Daemon {
            let kernel = Rc::new(RefCell::new(kernel));
            NEXT.set(Some(Rc::clone(&kernel)));
            let mut handler = Handler::new(limits, both, false, Log::stderr());
            let mut buf = vec![0u8; crate::run::PACKET_BUF_LEN];
            let config = match crate::cli::parse(["-f", "-m", "1500", "-p", &PORT.to_string()]) {
                Ok(crate::cli::Command::Run(config)) => config,
                _ => unreachable!("a valid command line"),
            };
            let path = Divert::<FakeDivert>::open(&config, None, &mut buf, &mut handler)
                .unwrap_or_else(|fatal| panic!("{}", fatal.line));
            Daemon {
                kernel,
                path: Some(path),
                handler,
                buf,
            }
        }

        fn kernel(&self) -> std::cell::RefMut<'_, Kernel> {
            self.kernel.borrow_mut()
        }

        fn pass_batch(&mut self) {
            let path = self.path.as_mut().unwrap();
            path.pass(&mut self.buf, &mut self.handler).unwrap();
        }

        fn shut_down(&mut self) {
            let path = self.path.take().unwrap();
            path.shut_down(&mut self.buf, &mut self.handler).unwrap();
        }

        fn event(&self, event: Event) -> u64 {
            self.handler.counters().events(event)
        }
    }

    fn mss_v4(packet: &[u8]) -> u16 {
        u16::from_be_bytes([packet[42], packet[43]])
    }

    fn mss_v6(packet: &[u8]) -> u16 {
        u16::from_be_bytes([packet[62], packet[63]])
    }

    #[test]
    fn outbound_syn_is_clamped_and_reinjected_with_the_address_it_came_with() {
        let mut daemon = Daemon::start(Kernel::new(), false);
        // A SYN forwarded from em0 out of ng0: the name of its receive interface, no address.
        assert!(daemon.kernel().divert(&SYN_V4, Some("em0"), false));
        daemon.pass_batch();
        let k = daemon.kernel();
        assert_eq!(k.sent.len(), 1);
        let sent = &k.sent[0];
        assert_eq!(mss_v4(&sent.packet), 1360);
        // Only the TCP checksum (36..38) and the MSS changed.
        assert_eq!(sent.packet[..36], SYN_V4[..36]);
        assert_eq!(sent.packet[38..42], SYN_V4[38..42]);
        assert_eq!(sent.packet[44..], SYN_V4[44..]);
        #[rustfmt::skip]
        let mut received: [u8; 16] = [
            16, 2,                  // sin_len, AF_INET
            0, 0,                   // rule 500 (host byte order): below
            0, 0, 0, 0,             // INADDR_ANY: outbound
            b'e', b'm', b'0', 0,    // the receive interface
            0, 0, 0, 0,
        ];
        received[2..4].copy_from_slice(&500u16.to_ne_bytes());
        assert_eq!(sent.address, received, "the address goes back unchanged");
        assert!(sent.outbound);
        assert_eq!(
            sent.restart_rule,
            RULE + 1,
            "ipfw goes on after the divert rule"
        );
    }

    /// Waiting for the `-i` interface: every SYN goes back byte for byte, with its address,
    /// counted as `no-interface` (inbound ones without -b stay `skipped-inbound`).
    #[test]
    fn without_an_mtu_yet_syns_go_back_unchanged_counted_no_interface() {
        let mut daemon = Daemon::start_with(Kernel::new(), false, None);
        assert!(daemon.kernel().divert(&SYN_V4, Some("em0"), false));
        assert!(daemon.kernel().divert(&SYN_V6, None, false));
        assert!(daemon.kernel().divert(&SYN_V4, Some("ng0"), true));
        daemon.pass_batch();
        let k = daemon.kernel();
        assert_eq!(k.sent.len(), 3, "every packet goes back");
        assert_eq!(k.sent[0].packet, SYN_V4);
        assert_eq!(k.sent[1].packet, SYN_V6);
        assert_eq!(k.sent[2].packet, SYN_V4);
        assert!(k.sent[0].outbound && !k.sent[2].outbound);
        drop(k);
        assert_eq!(daemon.event(Event::NoInterface), 2);
        assert_eq!(daemon.event(Event::SkippedInbound), 1);
        assert_eq!(daemon.handler.counters().packets(), 0, "the core saw none");
    }

    #[test]
    fn inbound_syn_passes_unchanged_without_b_and_is_clamped_with_b() {
        for (both, mss) in [(false, 1460), (true, 1360)] {
            let mut daemon = Daemon::start(Kernel::new(), both);
            assert!(daemon.kernel().divert(&SYN_V4, Some("ng0"), true));
            daemon.pass_batch();
            let k = daemon.kernel();
            assert_eq!(k.sent.len(), 1, "-b {both}: every packet goes back");
            let sent = &k.sent[0];
            assert_eq!(mss_v4(&sent.packet), mss, "-b {both}");
            assert!(!sent.outbound, "back into ip_input, as received");
            assert_eq!(sent.rcvif, Some("ng0"));
            assert_eq!(sent.address[4..8], [203, 0, 113, 1]);
        }
    }

    /// Man page, IPV6: divert_packet() fills sin_addr from an IPv4 address only, so an IPv6
    /// SYN coming in on a link without one looks outbound: it is clamped without -b and goes
    /// back through ip6_output(). The address still goes back unchanged.
    #[test]
    fn inbound_ipv6_on_a_link_without_ipv4_looks_outbound() {
        let mut kernel = Kernel::new();
        kernel.interfaces.push(Interface {
            name: "gif0",
            ipv4: None,
        });
        let mut daemon = Daemon::start(kernel, false);
        assert!(daemon.kernel().divert(&SYN_V6, Some("gif0"), true));
        daemon.pass_batch();
        let k = daemon.kernel();
        let sent = &k.sent[0];
        assert_eq!(mss_v6(&sent.packet), 1340, "clamped as outbound");
        assert!(sent.outbound, "the kernel takes it as outbound too");
        assert_eq!(&sent.address[8..16], b"gif0\0\0\0\0");
    }

    /// divert_packet() cuts the receive interface's name to 7 bytes; the address goes back
    /// unchanged and the kernel resolves it: by the cut name when an interface has it (the
    /// kernel's limit: vlan1001's packet is then taken as received on vlan100), else by
    /// the address.
    #[test]
    fn interface_names_past_seven_bytes_go_back_as_the_kernel_cut_them() {
        for (with_vlan100, rcvif) in [(false, "vlan1001"), (true, "vlan100")] {
            let mut kernel = Kernel::new();
            kernel.interfaces.push(Interface {
                name: "vlan1001",
                ipv4: Some([198, 51, 100, 17]),
            });
            if with_vlan100 {
                kernel.interfaces.push(Interface {
                    name: "vlan100",
                    ipv4: Some([198, 51, 100, 33]),
                });
            }
            let mut daemon = Daemon::start(kernel, true);
            assert!(daemon.kernel().divert(&SYN_V4, Some("vlan1001"), true));
            daemon.pass_batch();
            let k = daemon.kernel();
            let sent = &k.sent[0];
            assert_eq!(&sent.address[4..16], b"\xc6\x33\x64\x11vlan100\0");
            assert_eq!(sent.rcvif, Some(rcvif), "vlan100 exists: {with_vlan100}");
        }
    }

    #[test]
    fn eintr_and_enobufs_on_send_are_retried_with_the_same_bytes() {
        let mut daemon = Daemon::start(Kernel::new(), false);
        daemon.kernel().divert(&SYN_V4, None, false);
        daemon
            .kernel()
            .send_errors
            .extend([libc::EINTR, libc::ENOBUFS]);
        daemon.pass_batch();
        let k = daemon.kernel();
        assert_eq!(k.send_calls, 3);
        assert_eq!(k.sent.len(), 1, "the third attempt went through");
        assert_eq!(
            mss_v4(&k.sent[0].packet),
            1360,
            "the clamped bytes, not stale ones"
        );
        drop(k);
        assert_eq!(daemon.event(Event::SendError), 0);
    }

    #[test]
    fn three_transient_failures_give_up_count_one_error_and_go_on() {
        let mut daemon = Daemon::start(Kernel::new(), false);
        daemon.kernel().divert(&SYN_V4, None, false);
        daemon.kernel().divert(&SYN_V6, None, false);
        daemon.kernel().send_errors.extend([libc::ENOBUFS; 3]);
        daemon.pass_batch();
        let k = daemon.kernel();
        assert_eq!(
            k.send_calls, 4,
            "three for the first packet, one for the next"
        );
        assert_eq!(k.sent.len(), 1);
        assert_eq!(k.sent[0].packet[0] >> 4, 6, "the next packet went back");
        drop(k);
        assert_eq!(daemon.event(Event::SendError), 1);
    }

    /// div_output_inbound(): the name found no interface and neither did the address (the
    /// interface lost it meanwhile): EADDRNOTAVAIL is final, not retried.
    #[test]
    fn eaddrnotavail_is_counted_once_and_not_retried() {
        let mut daemon = Daemon::start(Kernel::new(), true);
        daemon.kernel().divert(&SYN_V4, Some("ng0"), true);
        daemon.kernel().interfaces.retain(|i| i.name != "ng0");
        daemon.pass_batch();
        let k = daemon.kernel();
        assert_eq!(k.send_calls, 1);
        assert!(k.sent.is_empty());
        drop(k);
        assert_eq!(daemon.event(Event::SendError), 1);
    }

    #[test]
    fn a_batch_reads_at_most_64_packets_and_leaves_the_rest_queued() {
        let mut daemon = Daemon::start(Kernel::new(), false);
        for _ in 0..100 {
            daemon.kernel().divert(&SYN_V4, None, false);
        }
        daemon.pass_batch();
        assert_eq!(daemon.kernel().sent.len(), 64);
        assert_eq!(daemon.kernel().queue.len(), 36);
        daemon.pass_batch();
        assert_eq!(daemon.kernel().sent.len(), 100);
    }

    /// SO_RERROR is set at open, so a full buffer's drops come back as one ENOBUFS once the
    /// queue is read empty; counted, and the loop reads on.
    #[test]
    fn overflow_is_reported_with_so_rerror_counted_and_the_loop_goes_on() {
        let mut daemon = Daemon::start(Kernel::new(), false);
        assert!(daemon.kernel().rerror_option, "SO_RERROR set at open");
        let queued = daemon.kernel().fill(&SYN_V4);
        assert!(
            !daemon.kernel().divert(&SYN_V4, None, false),
            "full: dropped"
        );
        for _ in 0..queued.div_ceil(BATCH_PACKETS) + 1 {
            daemon.pass_batch();
        }
        assert_eq!(daemon.kernel().sent.len(), queued);
        assert_eq!(daemon.event(Event::RecvError), 1, "the drop was counted");
        daemon.kernel().divert(&SYN_V4, None, false);
        daemon.pass_batch();
        assert_eq!(daemon.kernel().sent.len(), queued + 1);
    }

    #[test]
    fn shutdown_answers_a_full_256_kib_buffer() {
        let mut daemon = Daemon::start(Kernel::new(), false);
        assert_eq!(daemon.kernel().hiwat, RECEIVE_BUFFER_LEN);
        let queued = daemon.kernel().fill(&SYN_V4);
        // 262,144 / (16 + 60) bytes a record.
        assert_eq!(queued, 3449);
        // Every record answered is the point, not the time bound: an unoptimised build under
        // qemu-user on a busy machine took more than the default second (3,200 of 3,449).
        daemon.path.as_mut().unwrap().drain_time = Duration::from_secs(60);
        daemon.shut_down();
        let k = daemon.kernel();
        assert_eq!(k.sent.len(), queued, "every queued SYN went back");
        assert!(k.queue.is_empty());
        assert!(k.sent.iter().all(|s| mss_v4(&s.packet) == 1360));
    }

    /// An interrupted read ends a batch (the loop reads its signal flags), loses nothing, and
    /// does not end the drain at shutdown.
    #[test]
    fn an_interrupted_read_ends_the_batch_but_not_the_drain() {
        let mut daemon = Daemon::start(Kernel::new(), false);
        for _ in 0..10 {
            daemon.kernel().divert(&SYN_V4, None, false);
        }
        daemon.kernel().recv_errors.push_back(libc::EINTR);
        daemon.pass_batch();
        assert_eq!(daemon.kernel().sent.len(), 0, "the batch ended at EINTR");
        assert_eq!(daemon.kernel().queue.len(), 10, "nothing lost");
        daemon.kernel().recv_errors.push_back(libc::EINTR);
        daemon.shut_down();
        assert_eq!(daemon.kernel().sent.len(), 10);
    }

    #[test]
    fn shutdown_under_an_endless_flood_stops_at_its_time_limit() {
        let mut daemon = Daemon::start(Kernel::new(), false);
        daemon.path.as_mut().unwrap().drain_time = Duration::from_millis(50);
        let flood = 2_000_000;
        daemon.kernel().flood = Some((SYN_V4.to_vec(), flood));
        let start = std::time::Instant::now();
        daemon.shut_down();
        let elapsed = start.elapsed();
        let k = daemon.kernel();
        assert!(
            k.flood.as_ref().unwrap().1 > 0,
            "the drain waited for the flood's end"
        );
        assert!(elapsed < Duration::from_secs(5), "{elapsed:?}");
        let read = usize::try_from(flood - k.flood.as_ref().unwrap().1).unwrap();
        assert_eq!(
            k.sent.len() + k.queue.len(),
            read,
            "every packet read went back"
        );
        assert!(!k.sent.is_empty());
    }

    #[test]
    fn a_packet_cut_by_the_buffer_is_counted_not_sent() {
        let mut daemon = Daemon::start(Kernel::new(), false);
        daemon.buf.truncate(SYN_V4.len() - 1);
        daemon.kernel().divert(&SYN_V4, None, false);
        daemon.pass_batch();
        assert_eq!(
            daemon.kernel().send_calls,
            0,
            "a part of a packet is no packet"
        );
        assert_eq!(daemon.event(Event::TruncatedCopy), 1);
    }

    /// FreeBSD 14 without ipdivert.ko: PF_DIVERT only, no legacy socket (no console line),
    /// and the error names the module. FreeBSD 13: the legacy socket.
    #[test]
    fn the_legacy_socket_is_tried_only_before_freebsd_14() {
        let mut missing = Kernel::new();
        missing.module = false;
        let kernel = Rc::new(RefCell::new(missing));
        NEXT.set(Some(Rc::clone(&kernel)));
        let fatal = open_socket::<FakeDivert>().err().unwrap();
        assert_eq!(kernel.borrow().opened, ["PF_DIVERT"]);
        assert_eq!(fatal.status, EX_UNAVAILABLE);
        assert!(
            fatal.line.as_str().contains("(kldload ipdivert)"),
            "{}",
            fatal.line
        );

        let mut thirteen = Kernel::new();
        thirteen.release = 1_302_001; // 13.2-RELEASE
        let kernel = Rc::new(RefCell::new(thirteen));
        NEXT.set(Some(Rc::clone(&kernel)));
        assert!(open_socket::<FakeDivert>().is_ok());
        assert_eq!(kernel.borrow().opened, ["PF_DIVERT", "legacy"]);
    }
}
