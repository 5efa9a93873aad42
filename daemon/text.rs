//! Text without the heap: a bounded line buffer that cuts rather than fails, values shown
//! with their odd bytes escaped, and the one reader of decimal numbers.

use core::fmt::{self, Write as _};
use std::ffi::OsStr;
use std::os::unix::ffi::OsStrExt;

/// Longest log line in bytes. syslogd(8) on FreeBSD keeps 480 bytes of message per line and
/// RFC 5424 receivers must accept 480 octets; 256 holds every line the daemon builds.
pub const LINE_LEN: usize = 256;

/// A line of at most `N` bytes, written through [`core::fmt::Write`].
///
/// Text past `N` bytes is dropped at a character boundary and the last bytes become `...`, so
/// a cut line says it was cut. Writing never fails.
pub struct Line<const N: usize> {
    /// UTF-8 text in `bytes[..len]`: only whole `str`s, or their prefixes ending on a character
    /// boundary, are appended.
    bytes: [u8; N],
    len: usize,
    truncated: bool,
}

/// Marker that replaces the end of a cut line.
const CUT: &[u8] = b"...";

impl<const N: usize> Line<N> {
    /// Returns an empty line.
    #[must_use]
    pub const fn new() -> Self {
        Line {
            bytes: [0; N],
            len: 0,
            truncated: false,
        }
    }

    /// Returns the text written so far.
    #[must_use]
    pub fn as_str(&self) -> &str {
        // Holds whole characters only (see `bytes`): the check cannot fail.
        core::str::from_utf8(&self.bytes[..self.len]).unwrap_or_default()
    }

    /// Returns true when text was dropped because the line was full.
    #[cfg(test)]
    #[must_use]
    pub const fn is_truncated(&self) -> bool {
        self.truncated
    }

    /// Empties the line for reuse.
    pub fn clear(&mut self) {
        self.len = 0;
        self.truncated = false;
    }
}

/// Appends `text` to the line in `bytes[..*len]`, cutting and marking it when it does not fit.
/// Not generic over the length, so that every `Line<N>` shares this one copy of the code.
fn append(bytes: &mut [u8], len: &mut usize, truncated: &mut bool, text: &str) {
    if *truncated {
        return;
    }
    let room = bytes.len() - *len;
    if text.len() <= room {
        bytes[*len..*len + text.len()].copy_from_slice(text.as_bytes());
        *len += text.len();
        return;
    }
    *truncated = true;
    // Below 3 bytes there is no room for the marker: the line just ends where it is full.
    let marker = if bytes.len() >= CUT.len() { CUT } else { b"" };
    let keep = bytes.len() - marker.len();
    // The text as it would be whole: the line so far, then `text`; longer than `keep`.
    let whole = |at: usize| {
        if at < *len {
            bytes[at]
        } else {
            text.as_bytes()[at - *len]
        }
    };
    let mut end = keep;
    // A UTF-8 continuation byte after the cut means the cut split a character: drop all of it.
    while end > 0 && whole(end) & 0xc0 == 0x80 {
        end -= 1;
    }
    if end > *len {
        bytes[*len..end].copy_from_slice(&text.as_bytes()[..end - *len]);
    }
    bytes[end..end + marker.len()].copy_from_slice(marker);
    *len = end + marker.len();
}

impl<const N: usize> Default for Line<N> {
    fn default() -> Self {
        Self::new()
    }
}

impl<const N: usize> fmt::Write for Line<N> {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        append(&mut self.bytes, &mut self.len, &mut self.truncated, s);
        Ok(())
    }
}

impl<const N: usize> fmt::Display for Line<N> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl<const N: usize> fmt::Debug for Line<N> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(self.as_str(), f)
    }
}

/// Shows a command-line value in a message: as typed when it is plain printable ASCII,
/// otherwise quoted with escapes, so empty, blank and non-UTF-8 values stay visible.
pub struct Shown<'a>(pub &'a OsStr);

impl<'a> Shown<'a> {
    /// Shows a path or name kept as raw bytes (the pidfile path), quoted as command-line
    /// values are.
    #[must_use]
    pub fn bytes(bytes: &'a [u8]) -> Shown<'a> {
        Shown(OsStr::from_bytes(bytes))
    }
}

impl fmt::Display for Shown<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let bytes = self.0.as_bytes();
        if !bytes.is_empty() && bytes.iter().all(u8::is_ascii_graphic) {
            // All ASCII, so valid UTF-8: the check cannot fail.
            return f.write_str(core::str::from_utf8(bytes).unwrap_or_default());
        }
        // Escaped byte by byte rather than shown with `Debug`, which prints printable non-ASCII
        // text as is (a terminal or log would render look-alikes) and needs Unicode tables.
        f.write_str("\"")?;
        for &byte in bytes {
            escape_byte(f, byte)?;
        }
        f.write_str("\"")
    }
}

/// Writes a byte as it would appear inside a Rust byte string literal.
fn escape_byte(f: &mut fmt::Formatter<'_>, byte: u8) -> fmt::Result {
    match byte {
        b'"' => f.write_str("\\\""),
        b'\\' => f.write_str("\\\\"),
        b'\0' => f.write_str("\\0"),
        b'\t' => f.write_str("\\t"),
        b'\n' => f.write_str("\\n"),
        b'\r' => f.write_str("\\r"),
        b' '..=b'~' => f.write_char(char::from(byte)),
        _ => write!(f, "\\x{byte:02X}"),
    }
}

/// Reads `bytes` as an unsigned decimal number: ASCII digits only, no sign, no blanks, no
/// prefix. `None` when it is not one; numbers past `u64::MAX` saturate (they are out of
/// every range anyway). Also reads the pid in a pidfile.
pub fn decimal(bytes: &[u8]) -> Option<u64> {
    if bytes.is_empty() || !bytes.iter().all(u8::is_ascii_digit) {
        return None;
    }
    Some(bytes.iter().fold(0u64, |n, digit| {
        n.saturating_mul(10).saturating_add(u64::from(digit - b'0'))
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn line_keeps_short_text() {
        let mut line = Line::<16>::new();
        write!(line, "mtu {}", 1500).unwrap();
        assert_eq!(line.as_str(), "mtu 1500");
        assert!(!line.is_truncated());
    }

    #[test]
    fn line_cuts_long_text_and_marks_it() {
        let mut line = Line::<10>::new();
        let middle = "ghijkl";
        write!(line, "abcdef{middle}mnop").unwrap();
        assert_eq!(line.as_str(), "abcdefg...");
        assert!(line.is_truncated());
        // Later writes are dropped, not appended after the marker.
        write!(line, "xyz").unwrap();
        assert_eq!(line.as_str(), "abcdefg...");
    }

    #[test]
    fn line_cuts_at_character_boundary() {
        // "é" is two bytes; 9 bytes of "ééééé" would split a character.
        let mut line = Line::<12>::new();
        write!(line, "ééééééé").unwrap();
        assert!(line.is_truncated());
        assert_eq!(line.as_str(), "éééé...");
    }

    #[test]
    fn line_cut_after_earlier_writes_filled_it() {
        let mut line = Line::<10>::new();
        write!(line, "123456789").unwrap();
        write!(line, "ab").unwrap();
        assert_eq!(line.as_str(), "1234567...");
        // The cut falls inside the first "é" of text written earlier: all of it goes.
        let mut line = Line::<6>::new();
        write!(line, "abéé").unwrap();
        write!(line, "z").unwrap();
        assert_eq!(line.as_str(), "ab...");
    }

    #[test]
    fn line_shorter_than_the_marker_just_ends() {
        let mut line = Line::<2>::new();
        write!(line, "abc").unwrap();
        assert_eq!(line.as_str(), "ab");
        let mut line = Line::<2>::new();
        write!(line, "é!").unwrap();
        assert_eq!(line.as_str(), "é");
    }

    #[test]
    fn line_clear_resets_truncation() {
        let mut line = Line::<4>::new();
        write!(line, "12345").unwrap();
        line.clear();
        write!(line, "ok").unwrap();
        assert_eq!(line.as_str(), "ok");
        assert!(!line.is_truncated());
    }

    #[test]
    fn shown_values_plain_or_quoted_with_escapes() {
        let cases: [(&[u8], &str); 6] = [
            (b"em0", "em0"),
            (b"", "\"\""),
            (b"a b", "\"a b\""),
            (b"q\"\\\0\t\n\r", "\"q\\\"\\\\\\0\\t\\n\\r\""),
            // Bytes past ASCII are escaped even when they are printable UTF-8 ("é").
            ("\u{e9}\u{7f}\u{1}".as_bytes(), "\"\\xC3\\xA9\\x7F\\x01\""),
            // Bytes that are no UTF-8.
            (b"a\xff\xc3", "\"a\\xFF\\xC3\""),
        ];
        for (bytes, expected) in cases {
            assert_eq!(Shown::bytes(bytes).to_string(), expected, "{bytes:?}");
        }
    }

    #[test]
    fn decimal_reads_digits_only_and_saturates() {
        assert_eq!(decimal(b"0"), Some(0));
        assert_eq!(decimal(b"00068"), Some(68));
        assert_eq!(decimal(b"18446744073709551615"), Some(u64::MAX));
        assert_eq!(decimal(b"99999999999999999999"), Some(u64::MAX));
        for bad in [
            &b""[..],
            b"-1",
            b"+1",
            b" 1",
            b"1 ",
            b"0x10",
            b"1e3",
            b"\xd9\xa3",
        ] {
            assert_eq!(decimal(bad), None, "{bad:?}");
        }
    }
}
