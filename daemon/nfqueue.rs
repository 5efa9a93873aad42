//! NFQUEUE messages (filled in the next commits).
