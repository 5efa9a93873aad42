//! The NFQUEUE verdict and config builders with arbitrary offsets, buffer sizes, ids and payload
//! lengths: no panic; a verdict is written whole or not at all, only inside
//! `buf[at..at + VERDICT_LEN]` (or `VERDICT_PAYLOAD_HEADER_LEN`), and reads back through the
//! netlink walk as one message of the length it claims.
#![no_main]

use libfuzzer_sys::fuzz_target;

use tcpmssd_wire::netlink::{Attrs, Frames};
use tcpmssd_wire::nfqueue::{
    config_bind, config_max_len, config_unbind, payload_padding, put_accept, put_accept_batch,
    put_accept_with_payload, MAX_PAYLOAD_LEN, VERDICT_LEN, VERDICT_PAYLOAD_HEADER_LEN,
};

/// Bytes the builders never write; anything else outside the claimed range is a stray write.
const UNTOUCHED: u8 = 0xa5;

/// Reads the input as the builders' arguments: a small buffer length, an offset that is usually
/// near the buffer and sometimes anywhere in `usize`, ids, and a payload length of either kind.
struct Input {
    which: u8,
    buf_len: usize,
    at: usize,
    queue: u16,
    id: u32,
    payload_len: usize,
}

fn input(bytes: &[u8]) -> Option<Input> {
    let (&[which, len_hi, len_lo], rest) = bytes.split_first_chunk::<3>()?;
    let (queue, rest) = rest.split_first_chunk::<2>()?;
    let (id, rest) = rest.split_first_chunk::<4>()?;
    let (at, rest) = rest.split_first_chunk::<8>()?;
    let (payload_len, _) = rest.split_first_chunk::<8>()?;
    let at = u64::from_le_bytes(*at);
    let payload_len = u64::from_le_bytes(*payload_len);
    Some(Input {
        which,
        buf_len: usize::from(u16::from_be_bytes([len_hi, len_lo]) % 512),
        // Bit 7 of `which` lets the offset and length take any value, not only small ones.
        at: if which & 0x80 != 0 {
            at as usize
        } else {
            (at % 600) as usize
        },
        queue: u16::from_be_bytes(*queue),
        id: u32::from_be_bytes(*id),
        payload_len: if which & 0x40 != 0 {
            payload_len as usize
        } else {
            (payload_len % 0x1_0010) as usize
        },
    })
}

fuzz_target!(|bytes: &[u8]| {
    let Some(input) = input(bytes) else {
        return;
    };
    let mut buf = vec![UNTOUCHED; input.buf_len];
    let (written, claimed_len) = match input.which % 3 {
        0 => (
            put_accept(&mut buf, input.at, input.queue, input.id),
            VERDICT_LEN,
        ),
        1 => (
            put_accept_batch(&mut buf, input.at, input.queue, input.id),
            VERDICT_LEN,
        ),
        _ => (
            put_accept_with_payload(&mut buf, input.at, input.queue, input.id, input.payload_len),
            VERDICT_PAYLOAD_HEADER_LEN,
        ),
    };
    let fits = input
        .at
        .checked_add(claimed_len)
        .is_some_and(|end| end <= buf.len());
    let with_payload = input.which % 3 == 2;
    let payload_ok = !with_payload || input.payload_len <= MAX_PAYLOAD_LEN;
    let Some(end) = written else {
        assert!(!(fits && payload_ok), "refused although it fits");
        assert!(
            buf.iter().all(|&b| b == UNTOUCHED),
            "written although refused"
        );
        return;
    };
    assert!(fits && payload_ok, "accepted although it does not fit");
    assert_eq!(end, input.at + claimed_len);
    assert!(
        buf[..input.at].iter().all(|&b| b == UNTOUCHED),
        "written before at"
    );
    assert!(
        buf[end..].iter().all(|&b| b == UNTOUCHED),
        "written after the end"
    );

    // Header, payload (zeros here) and padding read back as exactly one whole message.
    let mut wire = buf[input.at..end].to_vec();
    if with_payload {
        wire.resize(wire.len() + input.payload_len, 0);
        wire.extend_from_slice(payload_padding(input.payload_len));
        assert_eq!(wire.len() % 4, 0);
    }
    let mut frames = Frames::new(&wire);
    let frame = frames.next().expect("a message").expect("well-framed");
    assert!(!frame.cut);
    assert!(frames.next().is_none(), "more than one message");
    let attrs: Vec<_> = Attrs::new(&frame.body[4..], 20)
        .map(|attr| attr.expect("well-formed attributes"))
        .collect();
    assert_eq!(attrs.len(), if with_payload { 2 } else { 1 });
    assert_eq!(attrs[0].value[4..8], input.id.to_be_bytes());
    if with_payload {
        assert_eq!(attrs[1].value.len(), input.payload_len);
    }

    // The config builders take any values; each is one whole message.
    for msg in [
        &config_bind(input.queue, input.id, input.id)[..],
        &config_unbind(input.queue, input.id)[..],
        &config_max_len(input.queue, input.id, input.id)[..],
    ] {
        let mut frames = Frames::new(msg);
        let frame = frames.next().expect("a message").expect("well-framed");
        assert!(!frame.cut && frames.next().is_none());
        assert!(Attrs::new(&frame.body[4..], 20).all(|attr| attr.is_ok()));
    }
});
