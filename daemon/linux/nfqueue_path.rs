//! The Linux packet path: an NFQUEUE queue over raw netlink. Binds the queue, reads packets in
//! batches into the one buffer, gives each a verdict (with the new bytes only when clamped) in
//! one `sendmsg` per batch, and leaves without losing a packet.
//!
//! Message layouts are in `nfqueue_messages.rs`; kernel behaviour cited from
//! `net/netfilter/nfnetlink_queue.c` (nfq.c below).

use core::ops::Range;
use std::io::{self, IoSlice};
use std::os::fd::{AsFd, BorrowedFd};
use std::time::Duration;

use static_assertions::const_assert;

use super::nfqueue_messages::{self as nfqueue, Item, Packet};
use crate::counters::Event;
use crate::exit::{Fatal, EX_NOPERM, EX_OSERR, EX_UNAVAILABLE};
use crate::log::OsError;
use crate::run::{Handler, PacketPath, PACKET_BUF_LEN};
use crate::sys::clock::Moment;
use crate::sys::linux::netlink::Socket;
use crate::sys::linux::privilege;
use crate::sys::signals;

/// Packets the kernel may hold for us before fail-open accepts new ones unclamped. Four times
/// the kernel's default (NFQNL_QMAX_DEFAULT 1024, nfq.c): with 1024, 0.2 % of a 150,000 SYN/s
/// flood passed unclamped when the daemon was descheduled (benches/throughput.sh, 7 rounds),
/// with 4096 none did. A flood beyond it passes rather than waits.
const QUEUE_MAX_LEN: u32 = 4096;

/// Receive buffer for the queue socket: room for a full queue of SYN messages (about 1 KiB of
/// socket memory each), so the queue limit, not the socket, decides when fail-open starts.
const RECEIVE_BUFFER_LEN: usize = 8 * 1024 * 1024;

/// The longest packet message the kernel sends with the copy range asked for: a 65531-byte
/// payload attribute (NFQNL_MAX_COPY_RANGE) and under 200 bytes of headers and other
/// attributes (nfqnl_build_packet_message sizes them), rounded up generously. A read is only
/// started with at least this much room, so no message is ever cut by where it lands.
const MAX_MESSAGE_LEN: usize = 64 * 1024 + 1024;

// The largest message fits behind the SYNs a batch keeps (60 bytes each for IPv4) ...
const_assert!(PACKET_BUF_LEN >= MAX_MESSAGE_LEN + 40 * 60);
// ... and holds the largest payload with its headers and other attributes.
const_assert!(MAX_MESSAGE_LEN >= nfqueue::MAX_PAYLOAD_LEN + 200);

/// Packets read per batch at most, so that a flood still lets the loop see its signals.
const BATCH_PACKETS: usize = 64;

/// Clamped packets per batch at most: each needs its own verdict and three `iovec`s.
const BATCH_CLAMPED: usize = 64;

/// Batches read at most when leaving: enough for twice a full queue.
const DRAIN_PASSES: usize = 2 * QUEUE_MAX_LEN as usize / BATCH_PACKETS + 1;

/// How long to wait for the kernel's answer to a configuration request.
const ACK_WAIT: Duration = Duration::from_secs(2);

/// How often a verdict message is sent again after a transient failure (`ENOBUFS`, `ENOMEM`)
/// before its packets are left to the next batch's verdict.
const SEND_ATTEMPTS: usize = 3;

/// A bound NFQUEUE queue.
pub struct Queue {
    socket: Socket,
    number: u16,
    /// Sequence number of the last configuration request.
    seq: u32,
    /// The answer to request `seq`, once read: 0 or a positive errno.
    answer: Option<i32>,
    /// The highest packet id whose verdict could not be sent; the next batch verdict covers it.
    owed: Option<u32>,
}

/// The verdicts one batch owes.
struct Batch {
    /// Bytes at the start of the buffer that hold clamped packets waiting for their verdicts;
    /// the next read goes after them.
    keep: usize,
    /// Clamped packets: id and where their new bytes are.
    clamped: heapless::Vec<(u32, Range<usize>), BATCH_CLAMPED>,
    /// The highest id read in this batch (ids are serial numbers, nfq.c `nfq_id_after`).
    max_id: Option<u32>,
    /// Some packet read in this batch is not among `clamped`: a batch verdict must follow.
    unchanged: bool,
    /// Packet messages read.
    packets: usize,
}

impl Batch {
    const fn new() -> Batch {
        Batch {
            keep: 0,
            clamped: heapless::Vec::new(),
            max_id: None,
            unchanged: false,
            packets: 0,
        }
    }

    fn note_id(&mut self, id: u32) {
        self.max_id = Some(match self.max_id {
            Some(max) if !id_after(id, max) => max,
            _ => id,
        });
    }
}

/// Returns true when packet id `a` was assigned after `b`, allowing for wrap-around.
fn id_after(a: u32, b: u32) -> bool {
    // The kernel's own comparison: (int)(a - b) > 0 (nfq.c nfq_id_after).
    i32::from_ne_bytes(a.wrapping_sub(b).to_ne_bytes()) > 0
}

impl Queue {
    /// Sends configuration request `msg` (numbered `seq`) and reads until the kernel answers,
    /// passing the packets that arrive meanwhile. `Ok(None)`: no answer within [`ACK_WAIT`].
    fn request(
        &mut self,
        msg: &[u8],
        seq: u32,
        buf: &mut [u8],
        handler: &mut Handler,
    ) -> io::Result<Option<i32>> {
        self.seq = seq;
        self.answer = None;
        self.socket.send(msg)?;
        // The kernel handles the request inside our send and queues its answer at once
        // (netlink_rcv_skb, netlink_ack); packets queued before it come first.
        let deadline = Moment::now() + ACK_WAIT;
        loop {
            let read = self.pass(buf, handler)?;
            if let Some(errno) = self.answer.take() {
                return Ok(Some(errno));
            }
            if read == 0 {
                let left = deadline.saturating_duration_since(Moment::now());
                if left.is_zero() {
                    return Ok(None);
                }
                signals::poll_readable(self.socket.as_fd(), left)?;
            }
        }
    }

    /// Reads one batch and sends its verdicts; returns how many messages it read.
    fn pass(&mut self, buf: &mut [u8], handler: &mut Handler) -> io::Result<usize> {
        let mut batch = Batch::new();
        let mut messages = 0;
        // Reads are bounded too: datagrams without packets (answers, or anything a privileged
        // process sends us) must not keep the loop here either.
        for _ in 0..BATCH_PACKETS {
            if batch.packets >= BATCH_PACKETS || batch.clamped.is_full() {
                break;
            }
            let Some(free) = buf
                .get_mut(batch.keep..)
                .filter(|f| f.len() >= MAX_MESSAGE_LEN)
            else {
                break;
            };
            let received = match self.socket.recv(free, true) {
                Ok(received) => received,
                Err(error) if error.raw_os_error() == Some(libc::EAGAIN) => break,
                // NETLINK_NO_ENOBUFS is set; should the kernel still report lost messages, the
                // batch verdict covers their packets.
                Err(error) if error.raw_os_error() == Some(libc::ENOBUFS) => {
                    handler.count(Event::RecvError);
                    continue;
                }
                Err(error) if error.raw_os_error() == Some(libc::EINTR) => break,
                Err(error) => return Err(error),
            };
            if !received.from_kernel {
                // Only the kernel may hand us packets; anything else is dropped unread.
                handler.count(Event::MalformedMessage);
                continue;
            }
            let start = batch.keep;
            let end = start.saturating_add(received.len);
            messages += self.read_datagram(buf, start..end, &mut batch, handler);
        }
        self.send_verdicts(buf, &batch, handler);
        Ok(messages)
    }

    /// Handles every message of the datagram at `buf[datagram]`; returns how many it held.
    fn read_datagram(
        &mut self,
        buf: &mut [u8],
        datagram: Range<usize>,
        batch: &mut Batch,
        handler: &mut Handler,
    ) -> usize {
        let mut at = datagram.start;
        let mut count = 0;
        while let Some((item, next)) = buf
            .get(..datagram.end)
            .and_then(|read| nfqueue::message_at(read, at))
        {
            count += 1;
            at = next;
            match item {
                Item::Packet(packet) => self.read_packet(buf, packet, batch, handler),
                Item::Error { errno, seq } if seq == self.seq && seq != 0 => {
                    self.answer = Some(errno);
                }
                Item::Error { errno, .. } => {
                    // Verdicts go without NLM_F_ACK: only their failures are answered.
                    if errno != 0 {
                        handler.count(Event::SendError);
                        let error = io::Error::from_raw_os_error(errno);
                        handler.warn(format_args!(
                            "NFQUEUE {}: the kernel refused a verdict: {}",
                            self.number,
                            OsError(&error)
                        ));
                    }
                }
                Item::Other => {}
                Item::Malformed(why) => {
                    handler.count(Event::MalformedMessage);
                    handler.warn(format_args!(
                        "NFQUEUE {}: unreadable message from the kernel: {}",
                        self.number,
                        why.name()
                    ));
                }
            }
        }
        count
    }

    /// Clamps one packet; a clamped one is moved to the front of the buffer for its verdict.
    fn read_packet(
        &mut self,
        buf: &mut [u8],
        packet: Packet,
        batch: &mut Batch,
        handler: &mut Handler,
    ) {
        batch.packets += 1;
        batch.note_id(packet.id);
        if packet.truncated {
            // Only a whole packet may be sent back: a shorter payload would trim it (nfq.c
            // nfqnl_mangle). The batch verdict passes it as it is.
            handler.count(Event::TruncatedCopy);
            batch.unchanged = true;
            return;
        }
        let outbound = nfqueue::is_outbound(packet.hook);
        let changed = buf
            .get_mut(packet.payload.clone())
            .is_some_and(|bytes| handler.packet(bytes, outbound));
        if !changed {
            batch.unchanged = true;
            return;
        }
        // Messages are read in order and `keep` never passes the message being read, so the
        // bytes moved over are ones already read.
        let len = packet.payload.len();
        let kept = batch.keep..batch.keep.saturating_add(len);
        buf.copy_within(packet.payload, batch.keep);
        if batch.clamped.push((packet.id, kept.clone())).is_ok() {
            batch.keep = kept.end;
        } else {
            // `pass` stops reading when the list is full; only a datagram holding more packets
            // than that gets here. Its packet passes unclamped with the batch verdict.
            batch.unchanged = true;
        }
    }

    /// Sends the batch's verdicts in one message: one with the new bytes per clamped packet,
    /// then one batch verdict that accepts every other packet up to the highest id.
    fn send_verdicts(&mut self, buf: &[u8], batch: &Batch, handler: &mut Handler) {
        let mut headers = [[0u8; nfqueue::VERDICT_PAYLOAD_HEADER_LEN]; BATCH_CLAMPED];
        let mut written = [false; BATCH_CLAMPED];
        for ((header, done), (id, kept)) in headers.iter_mut().zip(&mut written).zip(&batch.clamped)
        {
            // Cannot fail for a payload read from an attribute; should it, the packet is left
            // to the batch verdict below rather than sent with a broken header.
            *done =
                nfqueue::put_accept_with_payload(header, 0, self.number, *id, kept.len()).is_some();
        }
        let unwritten = written.iter().take(batch.clamped.len()).any(|done| !done);
        let mut max_id = batch.max_id.filter(|_| batch.unchanged || unwritten);
        if let Some(owed) = self.owed {
            max_id = Some(match max_id {
                Some(id) if id_after(id, owed) => id,
                _ => owed,
            });
        }
        if batch.clamped.is_empty() && max_id.is_none() {
            return;
        }
        let mut tail = [0u8; nfqueue::VERDICT_LEN];
        let mut parts: heapless::Vec<IoSlice<'_>, { 3 * BATCH_CLAMPED + 1 }> = heapless::Vec::new();
        for ((header, done), (_, kept)) in headers.iter().zip(written).zip(&batch.clamped) {
            let Some(bytes) = buf.get(kept.clone()).filter(|_| done) else {
                continue;
            };
            let _ = parts.push(IoSlice::new(header));
            let _ = parts.push(IoSlice::new(bytes));
            let padding = nfqueue::payload_padding(bytes.len());
            if !padding.is_empty() {
                let _ = parts.push(IoSlice::new(padding));
            }
        }
        if let Some(max_id) = max_id {
            if nfqueue::put_accept_batch(&mut tail, 0, self.number, max_id).is_some() {
                let _ = parts.push(IoSlice::new(&tail));
            }
        }
        let mut attempts = 0;
        loop {
            attempts += 1;
            match self.socket.send_vectored(&parts) {
                Ok(_) => {
                    self.owed = None;
                    return;
                }
                Err(error) if attempts < SEND_ATTEMPTS && transient(&error) => {}
                Err(error) => {
                    handler.count(Event::SendError);
                    handler.warn(format_args!(
                        "NFQUEUE {}: sending verdicts: {}",
                        self.number,
                        OsError(&error)
                    ));
                    // The packets stay queued: the next batch verdict accepts them (clamped
                    // ones unclamped, which is better than held).
                    self.owed = batch.max_id.or(max_id);
                    return;
                }
            }
        }
    }
}

/// Returns true for send errors that a second attempt may not meet.
fn transient(error: &io::Error) -> bool {
    matches!(
        error.raw_os_error(),
        Some(libc::ENOBUFS | libc::ENOMEM | libc::EAGAIN | libc::EINTR)
    )
}

impl PacketPath for Queue {
    fn open(port: u16, buf: &mut [u8], handler: &mut Handler) -> Result<Queue, Fatal> {
        let socket = Socket::open(libc::NETLINK_NETFILTER)
            .map_err(|e| Fatal::os(EX_OSERR, "can't open netlink socket", &e))?;
        socket
            .bind(0)
            .map_err(|e| Fatal::os(EX_OSERR, "can't bind netlink socket", &e))?;
        socket
            .set_no_enobufs()
            .map_err(|e| Fatal::os(EX_OSERR, "can't set NETLINK_NO_ENOBUFS", &e))?;
        socket
            .set_receive_buffer(RECEIVE_BUFFER_LEN)
            .map_err(|e| Fatal::os(EX_OSERR, "can't size the netlink receive buffer", &e))?;
        let mut queue = Queue {
            socket,
            number: port,
            seq: 0,
            answer: None,
            owed: None,
        };
        let bind = nfqueue::config_bind(port, QUEUE_MAX_LEN, 1);
        let answer = queue
            .request(&bind, 1, buf, handler)
            .map_err(|e| Fatal::os(EX_OSERR, "can't send the NFQUEUE bind request", &e))?;
        match answer {
            Some(0) => Ok(queue),
            None => Err(Fatal::new(
                EX_UNAVAILABLE,
                format_args!("NFQUEUE {port}: no answer from the kernel to the bind request"),
            )),
            // nfq.c answers EPERM both without CAP_NET_ADMIN and for a queue another socket
            // has bound; the capability tells which.
            Some(libc::EPERM) if privilege::has_net_admin().unwrap_or(false) => Err(Fatal::new(
                EX_UNAVAILABLE,
                format_args!("NFQUEUE {port}: queue in use by another process"),
            )),
            Some(libc::EPERM) => Err(Fatal::new(
                EX_NOPERM,
                format_args!(
                    "NFQUEUE {port}: not permitted to bind the queue: \
                     run as root or with CAP_NET_ADMIN"
                ),
            )),
            Some(errno) => Err(Fatal::os(
                EX_UNAVAILABLE,
                "can't bind the NFQUEUE queue (is nfnetlink_queue available?)",
                &io::Error::from_raw_os_error(errno),
            )),
        }
    }

    fn fd(&self) -> BorrowedFd<'_> {
        self.socket.as_fd()
    }

    fn pass_batch(&mut self, buf: &mut [u8], handler: &mut Handler) -> io::Result<()> {
        self.pass(buf, handler).map(|_| ())
    }

    fn backlog(&self) -> bool {
        self.owed.is_some()
    }

    fn shut_down(mut self, buf: &mut [u8], handler: &mut Handler) -> io::Result<()> {
        // An unbind drops every packet still queued (nfq.c instance_destroy), so first stop
        // new ones: with fail-open, a maximum length of 0 makes the kernel accept them itself.
        let number = self.number;
        let close_door = nfqueue::config_max_len(number, 0, 2);
        match self.request(&close_door, 2, buf, handler)? {
            Some(0) => {}
            Some(errno) => handler.log().warn(format_args!(
                "NFQUEUE {number}: can't stop new packets before leaving: {}",
                OsError(&io::Error::from_raw_os_error(errno))
            )),
            None => handler.log().warn(format_args!(
                "NFQUEUE {number}: no answer to the request to stop new packets"
            )),
        }
        // Every packet queued before the door closed already sits in our socket (nfq.c sends
        // the message while it queues the packet): drain them all.
        // Bounded, should the door have stayed open under a flood.
        for _ in 0..DRAIN_PASSES {
            if self.pass(buf, handler)? == 0 {
                break;
            }
        }
        let unbind = nfqueue::config_unbind(number, 3);
        if let Some(errno) = self.request(&unbind, 3, buf, handler)?.filter(|&e| e != 0) {
            handler.log().warn(format_args!(
                "NFQUEUE {number}: unbinding: {}",
                OsError(&io::Error::from_raw_os_error(errno))
            ));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_compare_as_serial_numbers() {
        assert!(id_after(2, 1));
        assert!(!id_after(1, 2));
        assert!(!id_after(5, 5));
        assert!(id_after(0, u32::MAX));
        assert!(id_after(3, u32::MAX - 3));
        assert!(!id_after(u32::MAX, 0));
    }

    #[test]
    fn batch_keeps_the_highest_id_across_wrap() {
        let mut batch = Batch::new();
        for id in [u32::MAX - 1, u32::MAX, 0, 1] {
            batch.note_id(id);
        }
        assert_eq!(batch.max_id, Some(1));
        let mut batch = Batch::new();
        for id in [7, 9, 8] {
            batch.note_id(id);
        }
        assert_eq!(batch.max_id, Some(9));
    }
}
