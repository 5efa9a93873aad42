//! The NFQUEUE receive path over arbitrary bytes: `nfqueue::messages` and `nfqueue::message_at`
//! never panic; every packet's payload lies inside its own message, inside the buffer; the
//! offsets `message_at` returns strictly increase and stay within the buffer; both walks yield
//! the same items; a framing error ends the walk.
#![no_main]

use libfuzzer_sys::fuzz_target;

use tcpmssd_wire::nfqueue::{message_at, messages, Item, Malformed};

/// Bytes before an NFQUEUE message's attributes: the netlink header and nfgenmsg.
const ATTRS_OFFSET: usize = 20;

fuzz_target!(|buf: &[u8]| {
    let walked: Vec<Item> = messages(buf).collect();
    // Each message but a cut last one takes at least a netlink header.
    assert!(walked.len() <= buf.len() / 16 + 1, "{} items", walked.len());

    let mut stepped = Vec::new();
    let mut at = 0;
    while let Some((item, next)) = message_at(buf, at) {
        assert!(
            at < next && next <= buf.len(),
            "{at} -> {next} of {}",
            buf.len()
        );
        if let Item::Packet(packet) = &item {
            let payload = &packet.payload;
            // The payload is inside this message's attributes (an empty one sits at their start).
            assert!(
                at + ATTRS_OFFSET <= payload.start && payload.start <= payload.end,
                "payload {payload:?} of the message at {at}"
            );
            assert!(
                payload.end <= next,
                "payload {payload:?} past the message end {next}"
            );
        }
        stepped.push(item);
        at = next;
    }
    assert_eq!(stepped, walked);

    // A broken frame is the last thing read: nothing after it can be located.
    if let Some(position) = walked.iter().position(|item| {
        matches!(
            item,
            Item::Malformed(Malformed::TruncatedMessage | Malformed::BadMessageLength)
        )
    }) {
        assert_eq!(position + 1, walked.len(), "items after a framing error");
    }
});
