//! One connection from a to b, captured at both ends: the SYN as b received it and the SYN-ACK
//! as a received it.

use super::capture::{Capture, Segment};
use super::netns::{Family, Topology, A_IF, B_IF};
use super::transfer::{connect, listen};

/// b's listening port for handshakes.
pub const PORT: u16 = 8080;

/// The one segment of `segments`, or a panic that lists them.
pub fn only<'a>(segments: &'a [Segment], what: &str) -> &'a Segment {
    match segments {
        [segment] => segment,
        _ => panic!(
            "expected one {what}, captured {}:\n{}",
            segments.len(),
            segments
                .iter()
                .map(|s| format!("  {s}\n"))
                .collect::<String>()
        ),
    }
}

/// What a connection from a to b looked like: the SYN as b received it and the SYN-ACK as a
/// received it.
pub struct Handshake {
    pub syn: Segment,
    pub syn_ack: Segment,
}

/// Connects a to b once and captures the handshake at both ends.
pub fn handshake(topology: &Topology, family: Family) -> Handshake {
    let _listener = listen(&topology.b, family.b_port(PORT));
    let at_b = Capture::open(&topology.b, B_IF);
    let at_a = Capture::open(&topology.a, A_IF);
    let stream = connect(&topology.a, family.b_port(PORT))
        .unwrap_or_else(|e| panic!("{family:?} connect a -> b: {e}"));
    // connect() returned, so the SYN reached b and the SYN-ACK reached a: both were handed to
    // the capture sockets before the stacks saw them.
    let handshake = Handshake {
        syn: only(&at_b.received_syns(), "SYN at b").clone(),
        syn_ack: only(&at_a.received_syn_acks(), "SYN-ACK at a").clone(),
    };
    // The SYN is a's, not something else's.
    assert_eq!(handshake.syn.src, family.a(), "{}", handshake.syn);
    assert_eq!(
        handshake.syn.src_port(),
        stream.local_addr().unwrap().port()
    );
    handshake
}
