//! The FreeBSD packet path: a divert(4) socket bound to `-p`. Every packet read goes back with
//! the address it came with (divert(4): "passing the same socket address supplied by
//! recvfrom(2) unmodified to sendto(2)"), changed or not; the address says its direction.

use std::io;
use std::os::fd::{AsFd, BorrowedFd};

use super::divert_address::{self, Direction};
use crate::counters::Event;
use crate::exit::{Fatal, EX_NOPERM, EX_OSERR, EX_UNAVAILABLE};
use crate::log::OsError;
use crate::run::{Handler, PacketPath};
use crate::sys::freebsd::divert::Socket;

/// Receive buffer asked for the divert socket.
const RECEIVE_BUFFER_LEN: usize = 256 * 1024;

/// Packets read per batch at most, so that a flood still lets the loop see its signals.
const BATCH_PACKETS: usize = 64;

/// Batches read at most when leaving: the socket buffer holds 64 KiB (DIVRCVQ in
/// ip_divert.c), at most about 1,600 SYNs.
const DRAIN_PASSES: usize = 32;

/// How often a packet is sent again after `EINTR` or `ENOBUFS`, with the same bytes and
/// length, before it is counted as lost.
const SEND_ATTEMPTS: usize = 3;

/// A bound divert socket.
pub struct DivertPort {
    socket: Socket,
    port: u16,
}

impl DivertPort {
    /// Reads and answers up to one batch; returns how many packets it read.
    fn pass(&mut self, buf: &mut [u8], handler: &mut Handler) -> io::Result<usize> {
        let mut count = 0;
        while count < BATCH_PACKETS {
            let received = match self.socket.recv(buf) {
                Ok(received) => received,
                Err(error) if error.raw_os_error() == Some(libc::EAGAIN) => break,
                Err(error) if error.raw_os_error() == Some(libc::EINTR) => break,
                Err(error) if error.raw_os_error() == Some(libc::ENOBUFS) => {
                    handler.count(Event::RecvError);
                    continue;
                }
                Err(error) => return Err(error),
            };
            count += 1;
            if received.truncated {
                // No IP packet is larger than the buffer; a cut one cannot be sent back whole,
                // and a part of it would be a different packet.
                handler.count(Event::TruncatedCopy);
                handler.warn(format_args!(
                    "divert port {}: a packet longer than the buffer was cut and lost",
                    self.port
                ));
                continue;
            }
            let address = received
                .address
                .get(..received.address_len)
                .unwrap_or_default();
            let Some(packet) = buf.get_mut(..received.len) else {
                continue;
            };
            match divert_address::direction(address) {
                Ok(direction) => {
                    let _ = handler.packet(packet, direction == Direction::Outbound);
                }
                Err(why) => {
                    handler.count(Event::MalformedMessage);
                    handler.warn(format_args!(
                        "divert port {}: {}: packet passed unchanged",
                        self.port,
                        why.name()
                    ));
                }
            }
            self.reinject(packet, address, handler);
        }
        Ok(count)
    }

    /// Sends `packet` back with `address`; transient errors are retried with the same bytes.
    fn reinject(&self, packet: &[u8], address: &[u8], handler: &mut Handler) {
        for attempt in 1..=SEND_ATTEMPTS {
            match self.socket.send(packet, address) {
                Ok(sent) if sent == packet.len() => return,
                Ok(_) => break,
                Err(error)
                    if attempt < SEND_ATTEMPTS
                        && matches!(error.raw_os_error(), Some(libc::EINTR | libc::ENOBUFS)) => {}
                Err(error) => {
                    handler.count(Event::SendError);
                    handler.warn(format_args!(
                        "divert port {}: reinjecting a packet: {}",
                        self.port,
                        OsError(&error)
                    ));
                    return;
                }
            }
        }
        handler.count(Event::SendError);
        handler.warn(format_args!(
            "divert port {}: a packet was reinjected short",
            self.port
        ));
    }
}

impl PacketPath for DivertPort {
    fn open(port: u16, _buf: &mut [u8], _handler: &mut Handler) -> Result<DivertPort, Fatal> {
        let socket = Socket::open().map_err(|e| match e.raw_os_error() {
            Some(libc::EPERM | libc::EACCES) => Fatal::new(
                EX_NOPERM,
                format_args!("can't create divert socket: {}: run as root", OsError(&e)),
            ),
            Some(libc::EAFNOSUPPORT | libc::EPROTONOSUPPORT) => Fatal::new(
                EX_UNAVAILABLE,
                format_args!(
                    "can't create divert socket: {} (kldload ipdivert)",
                    OsError(&e)
                ),
            ),
            _ => Fatal::os(EX_OSERR, "can't create divert socket", &e),
        })?;
        // Room for a burst of SYNs while the daemon is descheduled (the kernel's default is
        // DIVRCVQ, 64 KiB, in ip_divert.c). Best effort: the default works, only sooner full.
        let _ = crate::sys::freebsd::set_receive_buffer(socket.as_fd(), RECEIVE_BUFFER_LEN);
        socket.bind(port).map_err(|e| match e.raw_os_error() {
            Some(libc::EADDRINUSE) => Fatal::new(
                EX_UNAVAILABLE,
                format_args!("divert port {port}: in use by another process"),
            ),
            _ => Fatal::os(EX_OSERR, "can't bind divert socket", &e),
        })?;
        Ok(DivertPort { socket, port })
    }

    fn fd(&self) -> BorrowedFd<'_> {
        self.socket.as_fd()
    }

    fn pass_batch(&mut self, buf: &mut [u8], handler: &mut Handler) -> io::Result<()> {
        self.pass(buf, handler).map(|_| ())
    }

    fn shut_down(mut self, buf: &mut [u8], handler: &mut Handler) -> io::Result<()> {
        // Divert has no queue to close: answer what waits in the socket, then close it. Packets
        // diverted after that are dropped by ipfw (no socket on the port) until a new daemon
        // binds it.
        for _ in 0..DRAIN_PASSES {
            if self.pass(buf, handler)? == 0 {
                break;
            }
        }
        Ok(())
    }
}
