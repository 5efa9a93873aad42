//! rtnetlink link messages (filled in the next commits).
