//! The FreeBSD parsers over arbitrary bytes: `divert::direction` reads only a well-formed
//! AF_INET address and says outbound exactly for INADDR_ANY; `route::messages` never panics,
//! ends within one item per four bytes, gives only interface names that fit IFNAMSIZ, and
//! stops at a malformed message. Built and run on any OS: the parsers are plain Rust.
#![no_main]

use libfuzzer_sys::fuzz_target;

use tcpmssd_wire::divert::{direction, BadAddress, Direction};
use tcpmssd_wire::route::{messages, Item};

fuzz_target!(|buf: &[u8]| {
    match direction(buf) {
        Ok(found) => {
            assert!(buf.len() >= 16 && buf[0] == 16 && buf[1] == 2);
            let any = buf[4..8] == [0, 0, 0, 0];
            assert_eq!(found == Direction::Outbound, any);
        }
        Err(BadAddress::Truncated) => assert!(buf.len() < 16),
        Err(BadAddress::NotInet) => assert!(buf[0] != 16 || buf[1] != 2),
    }

    let items: Vec<Item> = messages(buf).collect();
    // Every message but a malformed last one takes at least its 4-byte common header.
    assert!(items.len() <= buf.len() / 4 + 1, "{} items", items.len());
    for (position, item) in items.iter().enumerate() {
        match item {
            Item::Arrival {
                name: Some(name), ..
            } => {
                assert!(name.len() <= 15 && !name.contains('\0'), "name {name:?}");
            }
            Item::Malformed => assert_eq!(position + 1, items.len(), "items after an error"),
            _ => {}
        }
    }
});
