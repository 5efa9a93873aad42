//! Traffic-control messages over rtnetlink that put tcpmssd's eBPF classifier on an
//! interface and take it off: the `clsact` qdisc, the `bpf` filter in direct-action mode on
//! its egress or ingress hook, the filter's deletion, and the question which program a
//! filter runs. Safe code over `&[u8]`, tested with byte fixtures.
//!
//! Layouts: `struct tcmsg` and the TCA_* attributes of `include/uapi/linux/rtnetlink.h`,
//! `pkt_sched.h` (handles) and `pkt_cls.h` (TCA_BPF_*), all in host byte order except the
//! filter's protocol, which `tcm_info` carries in network byte order (`TC_H_MAKE(prio << 16,
//! htons(ETH_P_ALL))`, as tc(8) builds it). Behaviour from `net/sched/cls_api.c`
//! (`tc_new_tfilter`, `tc_del_tfilter`), `cls_bpf.c` and `sch_ingress.c` (clsact).
//!
//! The filter has a fixed place, [`FILTER_PRIORITY`] and [`FILTER_HANDLE`], so that a new
//! daemon replaces the program an earlier one left (`NLM_F_REPLACE` swaps the program of the
//! filter at that place in one step) and never stacks a second one.

use static_assertions::const_assert_eq;

use crate::netlink::{
    error, put_nlattr, put_nlmsghdr, Attrs, Frame, Frames, Malformed, NLA_HDR_LEN, NLMSG_ERROR,
    NLMSG_HDR_LEN, NLM_F_ACK, NLM_F_REQUEST,
};

// struct tcmsg (rtnetlink.h), host byte order:
//  0        1     2       4               8        12       16
// +--------+-----+-------+---------------+--------+--------+--------+
// | family | pad | pad   | ifindex (i32) | handle | parent | info   |
// +--------+-----+-------+---------------+--------+--------+--------+
mod tcmsg {
    use core::ops::Range;
    pub const INDEX: Range<usize> = 4..8;
    pub const HANDLE: Range<usize> = 8..12;
    pub const PARENT: Range<usize> = 12..16;
    pub const INFO: Range<usize> = 16..20;
}
const TCMSG_LEN: usize = tcmsg::INFO.end;
const_assert_eq!(TCMSG_LEN, 20);

const RTM_NEWQDISC: u16 = 36;
const RTM_NEWTFILTER: u16 = 44;
const RTM_DELTFILTER: u16 = 45;
const RTM_GETTFILTER: u16 = 46;
/// rtnetlink.h TCA_KIND: the qdisc's or classifier's name, NUL-terminated.
const TCA_KIND: u16 = 1;
/// rtnetlink.h TCA_OPTIONS: the classifier's own attributes, nested.
const TCA_OPTIONS: u16 = 2;
/// pkt_cls.h TCA_BPF_FD: the program's descriptor (u32).
const TCA_BPF_FD: u16 = 6;
/// pkt_cls.h TCA_BPF_NAME: the name `tc filter show` prints.
const TCA_BPF_NAME: u16 = 7;
/// pkt_cls.h TCA_BPF_FLAGS (u32).
const TCA_BPF_FLAGS: u16 = 8;
/// pkt_cls.h TCA_BPF_ID: the program's id, in the kernel's answers (u32).
const TCA_BPF_ID: u16 = 11;
/// pkt_cls.h TCA_BPF_FLAG_ACT_DIRECT: the program's return value is the verdict; no
/// action list follows it.
const TCA_BPF_FLAG_ACT_DIRECT: u32 = 1;
/// netlink.h NLA_F_NESTED.
const NLA_F_NESTED: u16 = 0x8000;
/// netlink.h NLM_F_REPLACE, NLM_F_EXCL, NLM_F_CREATE.
const NLM_F_REPLACE: u16 = 0x100;
const NLM_F_EXCL: u16 = 0x200;
const NLM_F_CREATE: u16 = 0x400;

/// pkt_sched.h TC_H_CLSACT (= TC_H_INGRESS): the clsact qdisc's parent.
const TC_H_CLSACT: u32 = 0xffff_fff1;
/// The clsact qdisc's own handle, `ffff:` (TC_H_MAKE(TC_H_CLSACT, 0)).
const CLSACT_HANDLE: u32 = 0xffff_0000;
/// pkt_sched.h TC_H_MIN_INGRESS and TC_H_MIN_EGRESS: the minor numbers of clsact's hooks.
const TC_H_MIN_INGRESS: u32 = 0xfff2;
const TC_H_MIN_EGRESS: u32 = 0xfff3;
/// if_ether.h ETH_P_ALL: the filter sees every protocol; the program sorts them.
const ETH_P_ALL: u16 = 0x0003;

/// The filter's priority (`tc filter ... pref 1729`): one no tc default uses (those count
/// down from 49152), so that the filter of the same kind at this place is tcpmssd's own.
pub const FILTER_PRIORITY: u16 = 1729;
/// The filter's handle within its priority (`handle 0x1`).
pub const FILTER_HANDLE: u32 = 1;
/// The filter's name, shown by `tc filter show dev IFACE egress`.
const FILTER_NAME: &[u8; 8] = b"tcpmssd\0";

#[cfg(target_os = "linux")]
mod values_match_libc {
    use static_assertions::const_assert_eq;
    const_assert_eq!(super::RTM_NEWQDISC, libc::RTM_NEWQDISC);
    const_assert_eq!(super::RTM_NEWTFILTER, libc::RTM_NEWTFILTER);
    const_assert_eq!(super::RTM_DELTFILTER, libc::RTM_DELTFILTER);
    const_assert_eq!(super::RTM_GETTFILTER, libc::RTM_GETTFILTER);
    const_assert_eq!(super::NLA_F_NESTED as i32, libc::NLA_F_NESTED);
    const_assert_eq!(super::NLM_F_REPLACE as i32, libc::NLM_F_REPLACE);
    const_assert_eq!(super::NLM_F_EXCL as i32, libc::NLM_F_EXCL);
    const_assert_eq!(super::NLM_F_CREATE as i32, libc::NLM_F_CREATE);
    const_assert_eq!(super::ETH_P_ALL as i32, libc::ETH_P_ALL);
}

/// Which of clsact's two hooks.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Hook {
    /// Packets leaving through the interface.
    Egress,
    /// Packets arriving on it.
    Ingress,
}

impl Hook {
    /// The filter's parent: `ffff:fff3` (egress) or `ffff:fff2` (ingress).
    fn parent(self) -> u32 {
        let minor = match self {
            Hook::Egress => TC_H_MIN_EGRESS,
            Hook::Ingress => TC_H_MIN_INGRESS,
        };
        (TC_H_CLSACT & 0xffff_0000) | minor
    }
}

/// Writes the netlink header and the tcmsg at the start of `msg`.
fn put_head(msg: &mut [u8], kind: u16, flags: u16, seq: u32, tc: [u32; 4]) {
    let len = u32::try_from(msg.len()).unwrap_or(u32::MAX);
    let Some((header, rest)) = msg.split_first_chunk_mut::<NLMSG_HDR_LEN>() else {
        return;
    };
    put_nlmsghdr(header, len, kind, flags, seq);
    let Some(info) = rest.first_chunk_mut::<TCMSG_LEN>() else {
        return;
    };
    let [index, handle, parent, tcm_info] = tc;
    info[tcmsg::INDEX].copy_from_slice(&index.to_ne_bytes());
    info[tcmsg::HANDLE].copy_from_slice(&handle.to_ne_bytes());
    info[tcmsg::PARENT].copy_from_slice(&parent.to_ne_bytes());
    info[tcmsg::INFO].copy_from_slice(&tcm_info.to_ne_bytes());
}

/// Writes an attribute of `kind` whose value (`value_len` bytes) the caller writes after it;
/// returns the offset past the header.
fn put_attr(msg: &mut [u8], at: usize, kind: u16, value_len: usize) -> usize {
    let len = u16::try_from(NLA_HDR_LEN.saturating_add(value_len)).unwrap_or(u16::MAX);
    if let Some(header) = msg
        .get_mut(at..)
        .and_then(|rest| rest.first_chunk_mut::<NLA_HDR_LEN>())
    {
        put_nlattr(header, len, kind);
    }
    at.saturating_add(NLA_HDR_LEN)
}

/// Writes `value` at `at`; returns the offset past it.
fn put_bytes(msg: &mut [u8], at: usize, value: &[u8]) -> usize {
    let end = at.saturating_add(value.len());
    if let Some(slot) = msg.get_mut(at..end) {
        slot.copy_from_slice(value);
    }
    end
}

/// The filter's `tcm_info`: priority and protocol (network byte order in the low half).
fn filter_info() -> u32 {
    u32::from(FILTER_PRIORITY) << 16 | u32::from(u16::from_ne_bytes(ETH_P_ALL.to_be_bytes()))
}

/// Length of the message [`add_clsact`] builds: header, tcmsg, TCA_KIND "clsact" (padded).
pub const ADD_CLSACT_LEN: usize = NLMSG_HDR_LEN + TCMSG_LEN + NLA_HDR_LEN + 8;
const_assert_eq!(ADD_CLSACT_LEN, 48);

/// Builds the request that adds the `clsact` qdisc to interface `index`, with `NLM_F_ACK`.
/// `EEXIST` answers it when the interface has one (or an `ingress` qdisc, which then refuses
/// the egress filter).
pub fn add_clsact(index: u32, seq: u32) -> [u8; ADD_CLSACT_LEN] {
    let mut msg = [0u8; ADD_CLSACT_LEN];
    let flags = NLM_F_REQUEST | NLM_F_ACK | NLM_F_CREATE | NLM_F_EXCL;
    put_head(
        &mut msg,
        RTM_NEWQDISC,
        flags,
        seq,
        [index, CLSACT_HANDLE, TC_H_CLSACT, 0],
    );
    let at = put_attr(&mut msg, NLMSG_HDR_LEN + TCMSG_LEN, TCA_KIND, 7);
    put_bytes(&mut msg, at, b"clsact\0");
    msg
}

/// Length of the message [`attach`] builds: header, tcmsg, TCA_KIND "bpf", TCA_OPTIONS with
/// TCA_BPF_FD, TCA_BPF_NAME and TCA_BPF_FLAGS.
pub const ATTACH_LEN: usize = NLMSG_HDR_LEN + TCMSG_LEN + 8 + NLA_HDR_LEN + 8 + 12 + 8;
const_assert_eq!(ATTACH_LEN, 76);

/// Builds the request that puts program `program_fd` on `hook` of interface `index` as a
/// direct-action `bpf` filter at tcpmssd's place, replacing the program already there, with
/// `NLM_F_ACK`. Needs CAP_NET_ADMIN, not CAP_BPF: the program is loaded already.
pub fn attach(index: u32, hook: Hook, program_fd: u32, seq: u32) -> [u8; ATTACH_LEN] {
    let mut msg = [0u8; ATTACH_LEN];
    let flags = NLM_F_REQUEST | NLM_F_ACK | NLM_F_CREATE | NLM_F_REPLACE;
    put_filter_head(&mut msg, RTM_NEWTFILTER, flags, seq, index, hook);
    let options = NLMSG_HDR_LEN + TCMSG_LEN + 8;
    let at = put_attr(&mut msg, options, TCA_OPTIONS | NLA_F_NESTED, 8 + 12 + 8);
    let at = put_attr(&mut msg, at, TCA_BPF_FD, 4);
    let at = put_bytes(&mut msg, at, &program_fd.to_ne_bytes());
    let at = put_attr(&mut msg, at, TCA_BPF_NAME, FILTER_NAME.len());
    let at = put_bytes(&mut msg, at, FILTER_NAME);
    let at = put_attr(&mut msg, at, TCA_BPF_FLAGS, 4);
    put_bytes(&mut msg, at, &TCA_BPF_FLAG_ACT_DIRECT.to_ne_bytes());
    msg
}

/// Length of the messages [`detach`] and [`get_filter`] build: header, tcmsg, TCA_KIND.
pub const FILTER_REQUEST_LEN: usize = NLMSG_HDR_LEN + TCMSG_LEN + 8;
const_assert_eq!(FILTER_REQUEST_LEN, 44);

/// Builds the request that deletes the filter at tcpmssd's place on `hook` of interface
/// `index`, with `NLM_F_ACK`; `ENOENT` answers it when there is none.
pub fn detach(index: u32, hook: Hook, seq: u32) -> [u8; FILTER_REQUEST_LEN] {
    let mut msg = [0u8; FILTER_REQUEST_LEN];
    put_filter_head(
        &mut msg,
        RTM_DELTFILTER,
        NLM_F_REQUEST | NLM_F_ACK,
        seq,
        index,
        hook,
    );
    msg
}

/// Builds the request for the filter at tcpmssd's place on `hook` of interface `index`, with
/// `NLM_F_ACK`: the kernel answers with an RTM_NEWTFILTER ([`program_id`] reads it), then
/// the acknowledgement; or with `ENOENT` alone.
pub fn get_filter(index: u32, hook: Hook, seq: u32) -> [u8; FILTER_REQUEST_LEN] {
    let mut msg = [0u8; FILTER_REQUEST_LEN];
    put_filter_head(
        &mut msg,
        RTM_GETTFILTER,
        NLM_F_REQUEST | NLM_F_ACK,
        seq,
        index,
        hook,
    );
    msg
}

/// Writes header, tcmsg and TCA_KIND "bpf" of a filter message.
fn put_filter_head(msg: &mut [u8], kind: u16, flags: u16, seq: u32, index: u32, hook: Hook) {
    let tc = [index, FILTER_HANDLE, hook.parent(), filter_info()];
    put_head(msg, kind, flags, seq, tc);
    let at = put_attr(msg, NLMSG_HDR_LEN + TCMSG_LEN, TCA_KIND, 4);
    put_bytes(msg, at, b"bpf\0");
}

/// One message from the socket the requests above went to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Item {
    /// An RTM_NEWTFILTER of a `bpf` filter: the id of the program it runs, if it says.
    Filter {
        /// TCA_BPF_ID.
        program_id: Option<u32>,
    },
    /// An NLMSG_ERROR: errno 0 acknowledges request `seq`, else the positive errno it failed
    /// with.
    Error {
        /// 0 or a positive errno.
        errno: i32,
        /// The sequence number of the request it answers.
        seq: u32,
    },
    /// Any other message.
    Other,
    /// A message that could not be read.
    Malformed(Malformed),
}

/// Returns the messages in `buf` (what one read of the socket wrote).
pub fn messages(buf: &[u8]) -> impl Iterator<Item = Item> + '_ {
    Frames::new(buf).map(|frame| match frame {
        Ok(frame) => read(&frame),
        Err(why) => Item::Malformed(why),
    })
}

/// Reads one message the framing walk found.
fn read(frame: &Frame<'_>) -> Item {
    match frame.kind {
        NLMSG_ERROR => match error(frame) {
            Ok((errno, seq)) => Item::Error { errno, seq },
            Err(why) => Item::Malformed(why),
        },
        RTM_NEWTFILTER if frame.cut => Item::Malformed(Malformed::TruncatedMessage),
        RTM_NEWTFILTER => match program_id(frame) {
            Ok(program_id) => Item::Filter { program_id },
            Err(why) => Item::Malformed(why),
        },
        _ => Item::Other,
    }
}

/// Reads TCA_OPTIONS' TCA_BPF_ID from a filter message.
fn program_id(frame: &Frame<'_>) -> Result<Option<u32>, Malformed> {
    let Some(attrs) = frame.body.get(TCMSG_LEN..) else {
        return Err(Malformed::TruncatedBody);
    };
    let start = frame.body_start.wrapping_add(TCMSG_LEN);
    for attr in Attrs::new(attrs, start) {
        let attr = attr?;
        if attr.kind != TCA_OPTIONS {
            continue;
        }
        for option in Attrs::new(attr.value, attr.value_start) {
            let option = option?;
            if option.kind == TCA_BPF_ID {
                let id = option
                    .value
                    .first_chunk::<4>()
                    .ok_or(Malformed::TruncatedAttribute)?;
                return Ok(Some(u32::from_ne_bytes(*id)));
            }
        }
    }
    Ok(None)
}

#[cfg(test)]
#[allow(clippy::indexing_slicing, clippy::unwrap_used, clippy::panic)]
mod tests {
    use super::*;
    use crate::fixture::{cat, nla};

    // The request for `tc filter add dev <index 3> egress pref 1729 handle 1 bpf
    // direct-action fd 7 name tcpmssd`, field by field from the uapi headers; that the kernel
    // takes it is the root tests' part (daemon/linux/ebpf/tests.rs, tests/e2e.rs). Host-order
    // fields built with to_ne_bytes, so that the test also holds on a big-endian CPU.
    #[rustfmt::skip]
    const ATTACH_D0_EGRESS_FD7: [u8; ATTACH_LEN] = cat(&[
        &76u32.to_ne_bytes(),                      // nlmsg_len
        &44u16.to_ne_bytes(),                      // RTM_NEWTFILTER
        &0x0505u16.to_ne_bytes(),                  // REQUEST | ACK | CREATE | REPLACE
        &9u32.to_ne_bytes(),                       // seq
        &0u32.to_ne_bytes(),                       // pid
        &[0, 0, 0, 0],                             // family AF_UNSPEC, padding
        &3i32.to_ne_bytes(),                       // ifindex
        &1u32.to_ne_bytes(),                       // handle 0x1
        &0xffff_fff3u32.to_ne_bytes(),             // parent ffff:fff3 (egress)
        &(1729u32 << 16 | u16::from_ne_bytes([0x00, 0x03]) as u32).to_ne_bytes(),
        &nla(8, 1), b"bpf\0",                      // TCA_KIND
        &nla(32, 2 | 0x8000),                      // TCA_OPTIONS, nested
        &nla(8, 6), &7u32.to_ne_bytes(),           //   TCA_BPF_FD
        &nla(12, 7), b"tcpmssd\0",                 //   TCA_BPF_NAME
        &nla(8, 8), &1u32.to_ne_bytes(),           //   TCA_BPF_FLAGS: direct action
    ]);

    #[test]
    fn attach_is_the_filter_tc_adds() {
        assert_eq!(attach(3, Hook::Egress, 7, 9), ATTACH_D0_EGRESS_FD7);
        // The protocol, the low half of tcm_info, is ETH_P_ALL in network byte order whatever
        // the CPU: first in memory on a little-endian one, last on a big-endian one.
        let protocol = if cfg!(target_endian = "little") {
            32
        } else {
            34
        };
        assert_eq!(ATTACH_D0_EGRESS_FD7[protocol..protocol + 2], [0x00, 0x03]);
        let ingress = attach(3, Hook::Ingress, 7, 9);
        assert_eq!(ingress[28..32], 0xffff_fff2u32.to_ne_bytes());
        assert_eq!(ingress[..28], ATTACH_D0_EGRESS_FD7[..28]);
        assert_eq!(ingress[32..], ATTACH_D0_EGRESS_FD7[32..]);
    }

    #[test]
    fn clsact_detach_and_get_requests() {
        #[rustfmt::skip]
        let clsact: [u8; ADD_CLSACT_LEN] = cat(&[
            &48u32.to_ne_bytes(), &36u16.to_ne_bytes(),
            &0x0605u16.to_ne_bytes(),              // REQUEST | ACK | CREATE | EXCL
            &1u32.to_ne_bytes(), &0u32.to_ne_bytes(),
            &[0, 0, 0, 0], &3i32.to_ne_bytes(),
            &0xffff_0000u32.to_ne_bytes(),         // handle ffff:
            &0xffff_fff1u32.to_ne_bytes(),         // parent clsact
            &0u32.to_ne_bytes(),
            &nla(11, 1), b"clsact\0", &[0],        // TCA_KIND, padded
        ]);
        assert_eq!(add_clsact(3, 1), clsact);
        let detach = detach(3, Hook::Egress, 2);
        assert_eq!(detach[..4], 44u32.to_ne_bytes());
        assert_eq!(detach[4..6], 45u16.to_ne_bytes());
        assert_eq!(detach[6..8], 0x0005u16.to_ne_bytes());
        assert_eq!(detach[16..], ATTACH_D0_EGRESS_FD7[16..44]);
        let get = get_filter(3, Hook::Egress, 2);
        assert_eq!(get[4..6], 46u16.to_ne_bytes());
        assert_eq!(get[8..], detach[8..]);
    }

    // The kernel's answer to `get_filter`: cls_bpf_dump writes TCA_KIND, then TCA_OPTIONS with
    // TCA_BPF_ID, TCA_BPF_TAG and the rest (cls_bpf.c cls_bpf_dump_ebpf_info); the tag and
    // flags here stand for what precedes and follows the id.
    #[rustfmt::skip]
    const FILTER_ID_42: [u8; 76] = cat(&[
        &76u32.to_ne_bytes(), &44u16.to_ne_bytes(), &0u16.to_ne_bytes(),
        &2u32.to_ne_bytes(), &0u32.to_ne_bytes(),
        &[0, 0, 0, 0], &3i32.to_ne_bytes(), &1u32.to_ne_bytes(),
        &0xffff_fff3u32.to_ne_bytes(), &0u32.to_ne_bytes(),
        &nla(8, 1), b"bpf\0",
        &nla(32, 2 | 0x8000),
        &nla(12, 12), &[0xa1, 0xa2, 0xa3, 0xa4, 0xa5, 0xa6, 0xa7, 0xa8], // TCA_BPF_TAG
        &nla(8, 11), &42u32.to_ne_bytes(),          // TCA_BPF_ID
        &nla(8, 8), &1u32.to_ne_bytes(),
    ]);

    #[test]
    fn the_program_id_of_a_filter() {
        let mut items = messages(&FILTER_ID_42);
        assert_eq!(
            items.next(),
            Some(Item::Filter {
                program_id: Some(42)
            })
        );
        assert_eq!(items.next(), None);
        // Without TCA_OPTIONS: a filter, no id.
        let mut bare = FILTER_ID_42[..44].to_vec();
        bare[..4].copy_from_slice(&44u32.to_ne_bytes());
        assert_eq!(
            messages(&bare).next(),
            Some(Item::Filter { program_id: None })
        );
        // An id cut short, and a message cut by the buffer, are not read.
        let mut short = FILTER_ID_42.to_vec();
        short[60..62].copy_from_slice(&7u16.to_ne_bytes());
        assert!(matches!(messages(&short).next(), Some(Item::Malformed(_))));
        assert_eq!(
            messages(&FILTER_ID_42[..60]).next(),
            Some(Item::Malformed(Malformed::TruncatedMessage))
        );
    }

    #[test]
    fn acknowledgements_and_errors() {
        #[rustfmt::skip]
        let enoent: [u8; 36] = cat(&[
            &36u32.to_ne_bytes(), &2u16.to_ne_bytes(), &0u16.to_ne_bytes(),
            &5u32.to_ne_bytes(), &0u32.to_ne_bytes(),
            &(-libc_enoent()).to_ne_bytes(),
            &[0; 16],                              // the request's header
        ]);
        assert_eq!(
            messages(&enoent).next(),
            Some(Item::Error {
                errno: libc_enoent(),
                seq: 5
            })
        );
    }

    /// ENOENT, the same number on Linux and FreeBSD, where this crate's tests also run.
    fn libc_enoent() -> i32 {
        2
    }
}
