//! The rtnetlink receive path over arbitrary bytes: `rtnetlink::messages` never panics, ends, gives
//! only interface names that fit IFNAMSIZ (at most 15 bytes, no NUL), and stops at a framing
//! error.
#![no_main]

use libfuzzer_sys::fuzz_target;

use tcpmssd_wire::netlink::Malformed;
use tcpmssd_wire::rtnetlink::{messages, Item};

fuzz_target!(|buf: &[u8]| {
    let items: Vec<Item> = messages(buf).collect();
    // Each message but a cut last one takes at least a netlink header.
    assert!(items.len() <= buf.len() / 16 + 1, "{} items", items.len());
    for (position, item) in items.iter().enumerate() {
        match item {
            Item::Link(event) => {
                if let Some(name) = &event.name {
                    assert!(name.len() <= 15, "name {name:?}");
                    assert!(!name.contains('\0'), "name {name:?}");
                }
            }
            Item::Malformed(Malformed::TruncatedMessage | Malformed::BadMessageLength) => {
                assert_eq!(position + 1, items.len(), "items after a framing error");
            }
            Item::Malformed(_) | Item::Error { .. } | Item::Other => {}
        }
    }
});
