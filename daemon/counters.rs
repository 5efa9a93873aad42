//! Counters: one per `Reason` the core can return, plus what the daemon itself sees.
//!
//! Counting is an array increment, so it runs per packet; the summary is logged on SIGUSR1
//! (SIGINFO on FreeBSD) and at exit.

use core::fmt::Write as _;

use tcpmssd_core::{Outcome, Reason};

use crate::log::Log;
use crate::text::{Line, LINE_LEN};

/// Something the daemon counts that happens outside the core.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Event {
    /// A packet not handed to the core: inbound, and `-b` was not given.
    SkippedInbound,
    /// A netlink or divert message the backend could not parse; its packet, if any, is
    /// passed unchanged.
    MalformedMessage,
    /// The kernel copied less than the whole packet (NFQUEUE copy range, or a divert read
    /// that filled the buffer), so it was passed unchanged.
    TruncatedCopy,
    /// A verdict or reinjection failed.
    SendError,
    /// Reading from the packet socket failed.
    RecvError,
    /// A packet whose message could not be read whole was handed back to be queued again
    /// (NFQUEUE `NF_REPEAT`), rather than passed unclamped.
    Repeated,
}

impl Event {
    /// Every event, in declaration order; `ALL[e.index()] == e`.
    pub const ALL: [Event; 6] = [
        Event::SkippedInbound,
        Event::MalformedMessage,
        Event::TruncatedCopy,
        Event::SendError,
        Event::RecvError,
        Event::Repeated,
    ];

    /// Returns the short name used in the summary line.
    #[must_use]
    pub const fn name(self) -> &'static str {
        match self {
            Event::SkippedInbound => "skipped-inbound",
            Event::MalformedMessage => "malformed-message",
            Event::TruncatedCopy => "truncated-copy",
            Event::SendError => "send-error",
            Event::RecvError => "recv-error",
            Event::Repeated => "repeated",
        }
    }

    /// Returns the position of this event in [`Event::ALL`].
    #[must_use]
    pub const fn index(self) -> usize {
        self as usize
    }
}

/// Packet and event counts since start.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Counters {
    packets: u64,
    clamped: u64,
    unchanged: [u64; Reason::ALL.len()],
    events: [u64; Event::ALL.len()],
}

impl Counters {
    /// Returns all counters at zero.
    #[must_use]
    pub const fn new() -> Counters {
        Counters {
            packets: 0,
            clamped: 0,
            unchanged: [0; Reason::ALL.len()],
            events: [0; Event::ALL.len()],
        }
    }

    /// Counts one packet the core looked at, by what it did.
    pub fn record(&mut self, outcome: Outcome) {
        self.packets = self.packets.saturating_add(1);
        let slot = match outcome {
            Outcome::Clamped { .. } => &mut self.clamped,
            Outcome::Unchanged(reason) => &mut self.unchanged[reason.index()],
        };
        *slot = slot.saturating_add(1);
    }

    /// Counts one daemon-side event (not a packet the core saw).
    pub fn count(&mut self, event: Event) {
        let slot = &mut self.events[event.index()];
        *slot = slot.saturating_add(1);
    }

    /// Returns how many packets went through the core ([`Counters::record`]).
    #[cfg(test)]
    #[must_use]
    pub const fn packets(&self) -> u64 {
        self.packets
    }

    /// Returns how many packets were clamped.
    #[cfg(test)]
    #[must_use]
    pub const fn clamped(&self) -> u64 {
        self.clamped
    }

    /// Returns how many packets were left unchanged for `reason`.
    #[must_use]
    pub const fn unchanged(&self, reason: Reason) -> u64 {
        self.unchanged[reason.index()]
    }

    /// Returns how often `event` happened.
    #[must_use]
    pub const fn events(&self, event: Event) -> u64 {
        self.events[event.index()]
    }

    /// Logs the counters: `packets N` always, then every non-zero counter, e.g.
    /// `packets 1234, clamped 17, not-syn 1200, mss-ok 17`. More than one line when they do
    /// not fit in one.
    pub fn log_to(&self, log: &mut Log) {
        self.for_each_line(|line| log.info(format_args!("{line}")));
    }

    /// Builds the summary lines and hands each to `emit`.
    fn for_each_line(&self, mut emit: impl FnMut(&str)) {
        let mut line = Line::<LINE_LEN>::new();
        let _ = write!(line, "packets {}", self.packets);
        let mut add = |name: &str, value: u64| {
            if value == 0 {
                return;
            }
            // Longest item: ", " + 17-byte name + " " + 20 digits = 40 bytes.
            let mut item = Line::<48>::new();
            let _ = write!(item, ", {name} {value}");
            if line.as_str().len() + item.as_str().len() > LINE_LEN {
                emit(line.as_str());
                line.clear();
                // Syslog may interleave other lines: say this one continues the summary.
                let _ = write!(line, "counters (cont.): {name} {value}");
            } else {
                let _ = line.write_str(item.as_str());
            }
        };
        add("clamped", self.clamped);
        for reason in Reason::ALL {
            add(reason.name(), self.unchanged(reason));
        }
        for event in Event::ALL {
            add(event.name(), self.events(event));
        }
        emit(line.as_str());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lines(counters: &Counters) -> Vec<String> {
        let mut out = Vec::new();
        counters.for_each_line(|line| out.push(line.to_owned()));
        out
    }

    #[test]
    fn fresh_counters_log_packets_zero() {
        assert_eq!(lines(&Counters::new()), ["packets 0"]);
    }

    #[test]
    fn record_counts_by_outcome() {
        let mut counters = Counters::new();
        counters.record(Outcome::Clamped {
            from: 1460,
            to: 1360,
        });
        counters.record(Outcome::Unchanged(Reason::NotSyn));
        counters.record(Outcome::Unchanged(Reason::NotSyn));
        counters.record(Outcome::Unchanged(Reason::MssOk));
        assert_eq!(counters.packets(), 4);
        assert_eq!(counters.clamped(), 1);
        assert_eq!(counters.unchanged(Reason::NotSyn), 2);
        assert_eq!(counters.unchanged(Reason::MssOk), 1);
        assert_eq!(counters.unchanged(Reason::NoMss), 0);
        assert_eq!(
            lines(&counters),
            ["packets 4, clamped 1, not-syn 2, mss-ok 1"]
        );
    }

    #[test]
    fn events_are_not_packets() {
        let mut counters = Counters::new();
        counters.count(Event::SkippedInbound);
        counters.count(Event::RecvError);
        counters.count(Event::RecvError);
        assert_eq!(counters.packets(), 0);
        assert_eq!(counters.events(Event::RecvError), 2);
        assert_eq!(
            lines(&counters),
            ["packets 0, skipped-inbound 1, recv-error 2"]
        );
    }

    #[test]
    fn every_reason_and_event_has_its_own_slot() {
        let mut counters = Counters::new();
        for (n, reason) in Reason::ALL.iter().enumerate() {
            for _ in 0..=n {
                counters.record(Outcome::Unchanged(*reason));
            }
        }
        for reason in Reason::ALL {
            assert_eq!(counters.unchanged(reason), reason.index() as u64 + 1);
        }
        for event in Event::ALL {
            assert_eq!(Event::ALL[event.index()], event);
        }
    }

    #[test]
    fn counters_saturate_instead_of_wrapping() {
        let mut counters = Counters::new();
        counters.clamped = u64::MAX;
        counters.record(Outcome::Clamped {
            from: 9000,
            to: 1460,
        });
        assert_eq!(counters.clamped(), u64::MAX);
    }

    #[test]
    fn huge_counters_split_into_lines_without_loss() {
        let mut counters = Counters::new();
        counters.packets = u64::MAX;
        counters.clamped = u64::MAX;
        counters.unchanged = [u64::MAX; Reason::ALL.len()];
        counters.events = [u64::MAX; Event::ALL.len()];
        let out = lines(&counters);
        assert!(out.len() > 1, "{out:?}");
        for line in &out {
            assert!(line.len() <= LINE_LEN, "{line}");
            assert!(!line.ends_with("..."), "cut: {line}");
        }
        let all = out.join(", ");
        for name in Reason::ALL
            .iter()
            .map(|r| r.name())
            .chain(Event::ALL.iter().map(|e| e.name()))
        {
            assert!(all.contains(&format!("{name} {}", u64::MAX)), "{name}");
        }
        assert!(out[1].starts_with("counters (cont.): "));
    }
}
