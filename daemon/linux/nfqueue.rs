//! The Linux backend: an NFQUEUE queue over raw netlink. Binds the queue, reads packets in
//! batches into the slots of the one buffer (one `recvmmsg` per batch), gives each a verdict
//! (with the new bytes only when clamped) in one `sendmsg` per batch, reads until the socket is
//! empty before sleeping again, and leaves without losing a packet.
//!
//! Message layouts are in tcpmssd-wire's `nfqueue.rs`; kernel behaviour cited from
//! `net/netfilter/nfnetlink_queue.c` (nfq.c below).

use core::ops::Range;
use std::io::IoSlice;
use std::os::fd::AsFd;
use std::time::Duration;

use static_assertions::const_assert;
use tcpmssd_wire::nfqueue::{self, Item, Packet};

use crate::cli::Config;
use crate::exit::{fatal, Fatal, EX_NOPERM, EX_OSERR, EX_UNAVAILABLE};
use crate::log::warning;
use crate::run::{limited_warn, send_retrying, Backend, Event, Fds, Handler, PACKET_BUF_LEN};
use crate::sys::clock::Moment;
use crate::sys::errno::{Errno, SysResult};
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

/// Datagrams one batch reads, each into a slot of its own: one `recvmmsg` takes them all.
const SLOTS: usize = 32;

/// Bytes per slot: the buffer shared evenly, 2 KiB, room for a 1500-byte packet with its
/// message around it (under 200 bytes of headers and attributes).
const SLOT_LEN: usize = PACKET_BUF_LEN / SLOTS;
const_assert!(SLOT_LEN >= 1500 + 200);
const_assert!(SLOTS <= MAX_SLOTS);

/// Batches one wake-up reads at most before the loop looks at its signals again: the socket
/// is read until it is empty, but a flood that never lets it empty is still interrupted
/// every 16 × 32 packets (about 2 ms at 250,000 SYN/s).
const BATCHES_PER_PASS: usize = 16;

/// Reads after a batch in which a long message was cut (its packet queued again with
/// `NF_REPEAT`): long enough for those packets to come back, behind at most a full queue,
/// and be read one datagram per read, into the whole buffer, so that none is cut again.
const ONE_BY_ONE_READS: usize = QUEUE_MAX_LEN as usize + SLOTS;

/// Batches read at most when leaving: enough for twice a full queue.
const DRAIN_BATCHES: usize = 2 * QUEUE_MAX_LEN as usize / SLOTS + 1;

/// How long to wait for the kernel's answer to a configuration request.
const ACK_WAIT: Duration = Duration::from_secs(2);

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
    ) -> SysResult<Option<i32>> {
        self.seq = seq;
        self.answer = None;
        self.socket.send(msg)?;
        // The kernel handles the request inside our send and queues its answer at once
        // (netlink_rcv_skb, netlink_ack); packets queued before it come first.
        let deadline = Moment::now() + ACK_WAIT;
        loop {
            let read = self.batch(buf, handler)?;
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

    /// Reads one batch and sends its verdicts; returns how many datagrams it read (0 when the
    /// socket was empty or the read was interrupted).
    ///
    /// One `recvmmsg` reads up to [`SLOTS`] datagrams, datagram `k` into the buffer from slot
    /// `k` to its end: a message longer than its slot runs on into the slots after it, where
    /// the next datagram overwrites it, so only the last message of a read can be long and
    /// whole. The packet of a cut one gets `NF_REPEAT` (it is queued again) instead of passing
    /// unclamped, and the reads after it take one datagram at a time, into the whole buffer,
    /// until it is back ([`ONE_BY_ONE_READS`]).
    fn batch(&mut self, buf: &mut [u8], handler: &mut Handler) -> SysResult<usize> {
        let wanted = if self.one_by_one > 0 { 1 } else { SLOTS };
        let mut received = [Received::NONE; SLOTS];
        let out = received.get_mut(..wanted).unwrap_or_default();
        let count = match self.socket.recv_slots(buf, SLOT_LEN, out) {
            Ok(count) => count,
            Err(error) if error.raw_os_error() == Some(libc::EAGAIN) => 0,
            // NETLINK_NO_ENOBUFS is set; should the kernel still report lost messages, their
            // packets were accepted by fail-open. The next read goes on.
            Err(error) if error.raw_os_error() == Some(libc::ENOBUFS) => {
                handler.count(Event::RecvError);
                0
            }
            Err(error) if error.raw_os_error() == Some(libc::EINTR) => 0,
            Err(error) => return Err(error),
        };
        let mut batch = Batch::new();
        let mut cut_any = false;
        for (k, datagram) in received.iter().take(count).enumerate() {
            if !datagram.from_kernel {
                // Only the kernel may hand us packets; anything else is dropped unread.
                handler.count(Event::MalformedMessage);
                continue;
            }
            let start = k * SLOT_LEN;
            // A later datagram of this read overwrote what ran past the slot. A datagram that
            // the kernel itself cut (longer than the room it had) cannot be read whole by
            // reading it again, so its packet passes as it is instead (`truncated-copy`).
            let overwritten = datagram.len > SLOT_LEN && k + 1 < count;
            let cut = overwritten && datagram.len <= PACKET_BUF_LEN;
            cut_any |= cut;
            let len = if overwritten { SLOT_LEN } else { datagram.len };
            self.read_datagram(buf, start..start + len, cut, &mut batch, handler);
        }
        self.one_by_one = self.one_by_one.saturating_sub(count);
        if cut_any {
            self.one_by_one = ONE_BY_ONE_READS;
        }
        self.send_verdicts(buf, &batch, handler);
        Ok(count)
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
                        let error = Errno(errno);
                        limited_warn!(handler;
                            "NFQUEUE ",
                            self.number,
                            ": the kernel refused a verdict: ",
                            error
                        );
                    }
                }
                Item::Other => {}
                Item::Malformed(why) => {
                    handler.count(Event::MalformedMessage);
                    limited_warn!(handler;
                        "NFQUEUE ",
                        self.number,
                        ": unreadable message from the kernel: ",
                        why.name()
                    );
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
        match send_retrying(|| self.socket.send_vectored(&parts)) {
            Ok(_) => self.owed = None,
            Err(error) => {
                handler.count(Event::SendError);
                limited_warn!(handler;
                    "NFQUEUE ",
                    self.number,
                    ": sending verdicts: ",
                    error
                );
                // The packets stay queued: the next batch verdict accepts them (clamped ones
                // unclamped, which is better than held).
                self.owed = batch.max_id.or(max_id);
            }
        }
    }
}

impl Backend for Queue {
    const PORT_NAME: &'static str = "NFQUEUE";

    fn open(
        config: &Config,
        _link: Option<u32>,
        buf: &mut [u8],
        handler: &mut Handler,
    ) -> Result<Queue, Fatal> {
        let port = config.port;
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
            None => Err(fatal!(EX_UNAVAILABLE;
                "NFQUEUE ",
                port,
                ": no answer from the kernel to the bind request"
            )),
            // nfq.c answers EPERM both without CAP_NET_ADMIN and for a queue another socket
            // has bound; the capability tells which.
            Some(libc::EPERM) if privilege::has_net_admin().unwrap_or(false) => {
                Err(fatal!(EX_UNAVAILABLE; "NFQUEUE ", port, ": queue in use by another process"))
            }
            Some(libc::EPERM) => Err(fatal!(EX_NOPERM;
                "NFQUEUE ",
                port,
                ": not permitted to bind the queue: \
                 run as root or with CAP_NET_ADMIN"
            )),
            Some(errno) => Err(Fatal::os(
                EX_UNAVAILABLE,
                "can't bind the NFQUEUE queue (is nfnetlink_queue available?)",
                &Errno(errno),
            )),
        }
    }

    fn fds(&self) -> Fds<'_> {
        Fds::from_iter([self.socket.as_fd()])
    }

    fn pass(&mut self, buf: &mut [u8], handler: &mut Handler) -> SysResult<()> {
        // Until the socket is empty (a read returns fewer datagrams than asked for): each
        // wake-up then costs one ppoll for as many packets as arrived meanwhile.
        for _ in 0..BATCHES_PER_PASS {
            let wanted = if self.one_by_one > 0 { 1 } else { SLOTS };
            if self.batch(buf, handler)? < wanted {
                break;
            }
        }
        Ok(())
    }

    fn backlog(&self) -> bool {
        self.owed.is_some()
    }

    fn shut_down(mut self, buf: &mut [u8], handler: &mut Handler) -> SysResult<()> {
        // An unbind drops every packet still queued (nfq.c instance_destroy), so first stop
        // new ones: with fail-open, a maximum length of 0 makes the kernel accept them itself.
        let number = self.number;
        let close_door = nfqueue::config_max_len(number, 0, 2);
        match self.request(&close_door, 2, buf, handler)? {
            Some(0) => {}
            Some(errno) => warning!(handler.log();
                "NFQUEUE ",
                number,
                ": can't stop new packets before leaving: ",
                Errno(errno)
            ),
            None => warning!(handler.log();
                "NFQUEUE ",
                number,
                ": no answer to the request to stop new packets"
            ),
        }
        // Every packet queued before the door closed already sits in our socket (nfq.c sends
        // the message while it queues the packet): drain them all.
        // Bounded, should the door have stayed open under a flood.
        for _ in 0..DRAIN_BATCHES {
            if self.batch(buf, handler)? == 0 {
                break;
            }
        }
        let unbind = nfqueue::config_unbind(number, 3);
        if let Some(errno) = self.request(&unbind, 3, buf, handler)?.filter(|&e| e != 0) {
            warning!(handler.log();
                "NFQUEUE ",
                number,
                ": unbinding: ",
                Errno(errno)
            );
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

    // The kernel itself: bind an unused queue (no rule points at 4242, so no packet is ever
    // held), check the acknowledgement, bind again (EBUSY), unbind. Needs CAP_NET_ADMIN.
    #[test]
    fn kernel_binds_and_unbinds_unused_queue() {
        use crate::sys::linux::netlink::Socket;
        use tcpmssd_wire::nfqueue::{
            ack, config_bind, config_unbind, messages, put_accept, Item, VERDICT_LEN,
        };
        let only = |buf: &[u8]| {
            let mut it = messages(buf);
            let item = it.next().unwrap();
            assert_eq!(it.next(), None);
            item
        };
        const QUEUE: u16 = 4242;
        let sock = match Socket::open(libc::NETLINK_NETFILTER) {
            Ok(sock) => sock,
            Err(e) => {
                eprintln!("skipped: no NETLINK_NETFILTER socket ({e})");
                return;
            }
        };
        sock.bind(0).unwrap();
        sock.set_no_enobufs().unwrap();
        sock.set_receive_buffer(1 << 20).unwrap();
        let mut buf = [0u8; 4096];
        sock.send(&config_bind(QUEUE, 64, 1)).unwrap();
        let got = sock.recv(&mut buf, false).unwrap();
        assert!(got.from_kernel && !got.truncated);
        match ack(&buf[..got.len], 1).unwrap() {
            Ok(()) => {}
            Err(e) if e.raw_os_error() == Some(libc::EPERM) => {
                eprintln!("skipped: binding an NFQUEUE needs CAP_NET_ADMIN (kernel said EPERM)");
                return;
            }
            Err(e) => panic!("bind queue {QUEUE}: {e}"),
        }
        sock.send(&config_bind(QUEUE, 64, 2)).unwrap();
        let got = sock.recv(&mut buf, false).unwrap();
        let again = ack(&buf[..got.len], 2).unwrap().unwrap_err();
        assert_eq!(again.raw_os_error(), Some(libc::EBUSY));
        // A verdict for an id never queued: ENOENT, sent unasked with seq 0.
        let mut out = [0u8; VERDICT_LEN];
        put_accept(&mut out, 0, QUEUE, 1).unwrap();
        sock.send(&out).unwrap();
        let got = sock.recv(&mut buf, false).unwrap();
        assert_eq!(
            only(&buf[..got.len]),
            Item::Error {
                errno: libc::ENOENT,
                seq: 0
            }
        );
        sock.send(&config_unbind(QUEUE, 3)).unwrap();
        let got = sock.recv(&mut buf, false).unwrap();
        ack(&buf[..got.len], 3).unwrap().unwrap();
    }
}
