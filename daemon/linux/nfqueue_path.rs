//! The Linux packet path: an NFQUEUE queue over raw netlink. Binds the queue, reads packets in
//! batches into fixed slots of the one buffer (one `recvmmsg` per batch), gives each a verdict
//! (with the new bytes only when clamped) in one `sendmsg` per batch, and leaves without losing
//! a packet.
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
use crate::sys::linux::netlink::{Received, Socket, MAX_SLOTS};
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
/// attributes (nfqnl_build_packet_message sizes them), rounded up generously.
const MAX_MESSAGE_LEN: usize = 64 * 1024 + 1024;

/// Datagrams one batch reads, each into a slot of its own: one `recvmmsg` takes them all.
const SLOTS: usize = 32;

/// Bytes per slot: a 1500-byte packet with its message around it (under 200 bytes of headers
/// and attributes), so that only packets from links with larger MTUs go on into [`SPILL`].
const SLOT_LEN: usize = 2048;

/// Where a message longer than its slot is made whole: its slot's bytes are copied here, just in
/// front of the rest, which the kernel wrote into [`SPILL`].
const STAGING: Range<usize> = SLOTS * SLOT_LEN..(SLOTS + 1) * SLOT_LEN;

/// Where the kernel writes what does not fit in a slot; shared by the slots of one read, so
/// only the last message of a read that went on into it is whole (`Socket::recv_slots`).
const SPILL: Range<usize> = STAGING.end..STAGING.start + MAX_MESSAGE_LEN;

// Slots, staging and spill fit in the one buffer, and a slot and the spill hold any message.
const_assert!(SPILL.end <= PACKET_BUF_LEN);
const_assert!(SLOTS <= MAX_SLOTS);
// ... and the spill holds the largest payload with its headers and other attributes.
const_assert!(MAX_MESSAGE_LEN >= nfqueue::MAX_PAYLOAD_LEN + 200);

/// Reads after a batch in which two or more messages went on into the spill area (all but the
/// last were then lost and their packets queued again with `NF_REPEAT`): long enough for those
/// packets to come back, behind at most a full queue, and be read one datagram per read, so
/// that none is cut a second time.
const ONE_BY_ONE_READS: usize = QUEUE_MAX_LEN as usize + SLOTS;

/// Batches read at most when leaving: enough for twice a full queue.
const DRAIN_PASSES: usize = 2 * QUEUE_MAX_LEN as usize / SLOTS + 1;

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
    /// Reads left that take one datagram at a time ([`ONE_BY_ONE_READS`]).
    one_by_one: usize,
}

/// The verdicts one batch owes.
struct Batch {
    /// Clamped packets: id and where their new bytes are.
    clamped: heapless::Vec<(u32, Range<usize>), SLOTS>,
    /// Packets whose messages were cut: they get `NF_REPEAT`.
    repeated: heapless::Vec<u32, SLOTS>,
    /// The highest id read in this batch (ids are serial numbers, nfq.c `nfq_id_after`).
    max_id: Option<u32>,
    /// Some packet read in this batch is not among `clamped` or `repeated`: a batch verdict
    /// must follow.
    unchanged: bool,
}

impl Batch {
    const fn new() -> Batch {
        Batch {
            clamped: heapless::Vec::new(),
            repeated: heapless::Vec::new(),
            max_id: None,
            unchanged: false,
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

    /// Reads one batch and sends its verdicts; returns how many datagrams it read.
    ///
    /// Normally one `recvmmsg` fills up to [`SLOTS`] slots. A message longer than its slot goes
    /// on into the spill area; if a later one of the same read did too, the earlier is lost
    /// past its slot, and its packet gets `NF_REPEAT` (it is queued again) instead of passing
    /// unclamped. The reads after such a batch take one datagram at a time until those packets
    /// are back ([`ONE_BY_ONE_READS`]), and a batch ends after a message that used the spill.
    fn pass(&mut self, buf: &mut [u8], handler: &mut Handler) -> io::Result<usize> {
        let mut batch = Batch::new();
        let mut read = 0;
        let mut received = [Received::NONE; SLOTS];
        while read < SLOTS {
            let wanted = if self.one_by_one > 0 { 1 } else { SLOTS - read };
            let Some(out) = received.get_mut(..wanted) else {
                break;
            };
            let count = match self.socket.recv_slots(buf, SLOT_LEN, read, SPILL, out) {
                Ok(count) => count,
                Err(error) if error.raw_os_error() == Some(libc::EAGAIN) => break,
                // NETLINK_NO_ENOBUFS is set; should the kernel still report lost messages, the
                // batch verdict covers their packets (the next read goes on).
                Err(error) if error.raw_os_error() == Some(libc::ENOBUFS) => {
                    handler.count(Event::RecvError);
                    break;
                }
                Err(error) if error.raw_os_error() == Some(libc::EINTR) => break,
                Err(error) => return Err(error),
            };
            let got = received.get(..count).unwrap_or_default();
            // Only the last datagram of the read that went on into the spill area is whole.
            let whole_spill = got.iter().rposition(|r| r.len > SLOT_LEN);
            let spilled = got.iter().filter(|r| r.len > SLOT_LEN).count();
            for (k, datagram) in got.iter().enumerate() {
                let slot = (read + k) * SLOT_LEN;
                if !datagram.from_kernel {
                    // Only the kernel may hand us packets; anything else is dropped unread.
                    handler.count(Event::MalformedMessage);
                    continue;
                }
                let (bytes, cut) = if datagram.len <= SLOT_LEN {
                    (slot..slot + datagram.len, false)
                } else if whole_spill == Some(k) && !datagram.truncated {
                    // Made contiguous: the slot's part just in front of the spilled rest.
                    buf.copy_within(slot..slot + SLOT_LEN, STAGING.start);
                    (STAGING.start..STAGING.start + datagram.len, false)
                } else {
                    // Its spilled part was overwritten: the slot still holds the message's
                    // start, with the packet id, and the packet is queued again. A datagram
                    // longer than slot and spill together (none is: MAX_MESSAGE_LEN) would be
                    // cut again every time, so its packet passes as it is instead.
                    (slot..slot + SLOT_LEN, !datagram.truncated)
                };
                self.read_datagram(buf, bytes, cut, &mut batch, handler);
            }
            read += count;
            self.one_by_one = self.one_by_one.saturating_sub(count);
            if spilled >= 2 {
                self.one_by_one = ONE_BY_ONE_READS;
            }
            // Fewer than asked: the socket is empty. A spilled message holds the spill area
            // until its verdict is sent.
            if count < wanted || spilled > 0 {
                break;
            }
        }
        self.send_verdicts(buf, &batch, handler);
        Ok(read)
    }

    /// Handles every message of the datagram at `buf[datagram]`; `cut` says that the bytes past
    /// its end were lost, so its last message is not whole.
    fn read_datagram(
        &mut self,
        buf: &mut [u8],
        datagram: Range<usize>,
        cut: bool,
        batch: &mut Batch,
        handler: &mut Handler,
    ) {
        let mut at = datagram.start;
        while let Some((item, next)) = buf
            .get(..datagram.end)
            .and_then(|read| nfqueue::message_at(read, at))
        {
            at = next;
            match item {
                Item::Packet(packet) => self.read_packet(buf, packet, cut, batch, handler),
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
    }

    /// Clamps one packet in place and notes the verdict it needs.
    fn read_packet(
        &mut self,
        buf: &mut [u8],
        packet: Packet,
        cut: bool,
        batch: &mut Batch,
        handler: &mut Handler,
    ) {
        batch.note_id(packet.id);
        if packet.truncated {
            // Only a whole packet may be sent back: a shorter payload would trim it (nfq.c
            // nfqnl_mangle). One that we cut is queued again to be read whole; one that the
            // kernel copied short (NFQA_CAP_LEN) passes as it is with the batch verdict.
            if cut && batch.repeated.push(packet.id).is_ok() {
                handler.count(Event::Repeated);
            } else {
                handler.count(Event::TruncatedCopy);
                batch.unchanged = true;
            }
            return;
        }
        let outbound = nfqueue::is_outbound(packet.hook);
        let changed = buf
            .get_mut(packet.payload.clone())
            .is_some_and(|bytes| handler.packet(bytes, outbound));
        // The bytes stay in their slot until the verdicts are sent. A batch has a slot per
        // datagram, so the list is full only for a datagram holding several packet messages
        // (the kernel sends one per datagram): that packet passes unclamped with the batch
        // verdict.
        if !changed || batch.clamped.push((packet.id, packet.payload)).is_err() {
            batch.unchanged = true;
        }
    }

    /// Sends the batch's verdicts in one message: one with the new bytes per clamped packet,
    /// one `NF_REPEAT` per cut one, then one batch verdict that accepts every other packet up
    /// to the highest id.
    fn send_verdicts(&mut self, buf: &[u8], batch: &Batch, handler: &mut Handler) {
        let mut headers = [[0u8; nfqueue::VERDICT_PAYLOAD_HEADER_LEN]; SLOTS];
        let mut written = [false; SLOTS];
        for ((header, done), (id, kept)) in headers.iter_mut().zip(&mut written).zip(&batch.clamped)
        {
            // Cannot fail for a payload read from an attribute; should it, the packet is left
            // to the batch verdict below rather than sent with a broken header.
            *done =
                nfqueue::put_accept_with_payload(header, 0, self.number, *id, kept.len()).is_some();
        }
        let mut repeats = [0u8; SLOTS * nfqueue::VERDICT_LEN];
        let mut repeats_len = 0;
        for id in &batch.repeated {
            if let Some(end) = nfqueue::put_repeat(&mut repeats, repeats_len, self.number, *id) {
                repeats_len = end;
            }
        }
        let unwritten = written.iter().take(batch.clamped.len()).any(|done| !done)
            || repeats_len < batch.repeated.len() * nfqueue::VERDICT_LEN;
        let mut max_id = batch.max_id.filter(|_| batch.unchanged || unwritten);
        if let Some(owed) = self.owed {
            max_id = Some(match max_id {
                Some(id) if id_after(id, owed) => id,
                _ => owed,
            });
        }
        if batch.clamped.is_empty() && repeats_len == 0 && max_id.is_none() {
            return;
        }
        let mut tail = [0u8; nfqueue::VERDICT_LEN];
        let mut parts: heapless::Vec<IoSlice<'_>, { 3 * SLOTS + 2 }> = heapless::Vec::new();
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
        // Before the batch verdict, which would otherwise accept them first.
        if let Some(repeats) = repeats.get(..repeats_len).filter(|r| !r.is_empty()) {
            let _ = parts.push(IoSlice::new(repeats));
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
            one_by_one: 0,
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
