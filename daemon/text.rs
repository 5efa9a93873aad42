//! Text without the heap and without `core::fmt`: a bounded line buffer that cuts rather than
//! fails, the pieces a line is built from (text, decimal numbers, values shown with their odd
//! bytes escaped), and the one reader of decimal numbers.
//!
//! Lines are built with [`put!`] (and the macros over it: `log::info!`, `exit::fatal!`, …)
//! instead of `format_args!`: each piece becomes one direct call at the call site, with no
//! formatting machinery, no `Display` impls and no table of arguments behind it (issue 24:
//! 3,200 bytes of the firmware build, 59,056 → 55,856, 2026-12-07; a first version that
//! passed `&[&dyn Piece]` as `fmt::Arguments` passes its arguments was 4 KB larger than
//! `core::fmt`, each literal a promoted `&str` with a relocation).
//!
//! What is left of `core::fmt` in the binary is lexopt's own (`Parser::format_last_option`
//! names an option with `format!`): about 1.5 KB of symbols (`String::write_fmt`, `char`'s
//! `Display`, the function), out of the daemon's reach.

use std::ffi::OsStr;
use std::os::unix::ffi::OsStrExt;

/// Longest log line in bytes. syslogd(8) on FreeBSD keeps 480 bytes of message per line and
/// RFC 5424 receivers must accept 480 octets; 256 holds every line the daemon builds.
pub const LINE_LEN: usize = 256;

/// A line of at most [`LINE_LEN`] bytes, built from [`Piece`]s with [`put!`].
///
/// Text past the end is dropped at a character boundary and the last bytes become `...`, so
/// a cut line says it was cut. Appending never fails. One length for every line: a piece is
/// then appended through a thin pointer, one argument fewer at each of some 300 call sites
/// than a slice of any length would take.
pub struct Line {
    /// UTF-8 text in `bytes[..len]`: only whole `str`s, or their prefixes ending on a character
    /// boundary, are appended.
    bytes: [u8; LINE_LEN],
    len: usize,
    truncated: bool,
}

/// Marker that replaces the end of a cut line.
const CUT: &[u8] = b"...";

/// Something a line can show: a piece of [`put!`].
pub trait Piece {
    /// Appends the piece's text to `line`.
    fn put(&self, line: &mut Line);
}

/// Appends pieces to a line in order: `put!(&mut line; "MSS ", from, " -> ", to)` reads as
/// `write!(line, "MSS {from} -> {to}")` did. Each piece is borrowed and shown through its
/// [`Piece`] impl, statically: a string literal costs one call of [`Line::push_str`] at the
/// call site, a number one of [`Line::push_decimal`], and no formatting machinery is linked.
macro_rules! put {
    ($line:expr; $($piece:expr),* $(,)?) => {{
        let line: &mut $crate::text::Line = $line;
        $($crate::text::Piece::put(&$piece, line);)*
    }};
}
pub(crate) use put;

/// Returns the text of pieces as a `String`, for tests of what they show.
#[cfg(test)]
macro_rules! shown {
    ($($piece:expr),* $(,)?) => {{
        let mut line = $crate::text::Line::new();
        $crate::text::put!(&mut line; $($piece),*);
        line.as_str().to_owned()
    }};
}
#[cfg(test)]
pub(crate) use shown;

impl Line {
    /// Returns an empty line.
    #[must_use]
    pub const fn new() -> Self {
        Line {
            bytes: [0; LINE_LEN],
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

    /// Appends `text`, cutting the line and marking it when it does not fit.
    // Out of line: a call with the line and the text is the whole cost of a literal piece.
    #[inline(never)]
    pub fn push_str(&mut self, text: &str) {
        self.push_bytes(text.as_bytes());
    }

    /// Appends the decimal digits of `value`.
    ///
    /// Written here rather than taken from `core::fmt`, whose integer `Display` brings the
    /// formatter with it (padding, flags, the two-digit table): `u64`'s `Display` through a
    /// `fmt::Write` adapter in its place made the firmware build 928 bytes larger (55,344
    /// against 54,416, 2026-12-07).
    ///
    /// Divided in 16-bit steps rather than as a `u64`: on the 32-bit router CPUs a `u64`
    /// division is a call into compiler_builtins' `u64_div_rem`, which this was the only user
    /// of (2026-12-07: mipsel firmware 61,304 -> 60,632 bytes; x86_64 tiny 54,384 -> 54,464,
    /// where the u64 division was a multiplication).
    pub fn push_decimal(&mut self, value: u64) {
        // Four 16-bit limbs, most significant first: each step of the long division by 10
        // fits a u32.
        let mut limbs = [48, 32, 16, 0].map(|shift| (value >> shift) as u32 & 0xffff);
        let mut digits = [0u8; 20];
        let mut start = digits.len();
        loop {
            let mut remainder = 0;
            for limb in &mut limbs {
                let part = remainder << 16 | *limb;
                *limb = part / 10;
                remainder = part % 10;
            }
            start -= 1;
            // A remainder of division by 10 fits a u8.
            digits[start] = b'0' + remainder as u8;
            if limbs == [0; 4] {
                break;
            }
        }
        self.push_bytes(&digits[start..]);
    }

    /// Appends UTF-8 `text`.
    fn push_bytes(&mut self, text: &[u8]) {
        append(&mut self.bytes, &mut self.len, &mut self.truncated, text);
    }
}

// Tests show lines in their assertion messages; the daemon never formats one.
#[cfg(test)]
impl core::fmt::Display for Line {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
impl core::fmt::Debug for Line {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        core::fmt::Debug::fmt(self.as_str(), f)
    }
}

impl Default for Line {
    fn default() -> Self {
        Self::new()
    }
}

/// Appends UTF-8 `text` to the line in `bytes[..*len]`, cutting and marking it when it does
/// not fit. Over a slice, so that the tests can cut lines shorter than [`LINE_LEN`].
fn append(bytes: &mut [u8], len: &mut usize, truncated: &mut bool, text: &[u8]) {
    if *truncated {
        return;
    }
    let room = bytes.len() - *len;
    if text.len() <= room {
        bytes[*len..*len + text.len()].copy_from_slice(text);
        *len += text.len();
        return;
    }
    *truncated = true;
    // Below 3 bytes there is no room for the marker: the line just ends where it is full.
    let marker = if bytes.len() >= CUT.len() { CUT } else { b"" };
    let keep = bytes.len() - marker.len();
    // The text as it would be whole: the line so far, then `text`; longer than `keep`.
    let whole = |bytes: &[u8], at: usize| {
        if at < *len {
            bytes[at]
        } else {
            text[at - *len]
        }
    };
    let mut end = keep;
    // A UTF-8 continuation byte after the cut means the cut split a character: drop all of it.
    while end > 0 && whole(bytes, end) & 0xc0 == 0x80 {
        end -= 1;
    }
    if end > *len {
        bytes[*len..end].copy_from_slice(&text[..end - *len]);
    }
    bytes[end..end + marker.len()].copy_from_slice(marker);
    *len = end + marker.len();
}

impl Piece for str {
    fn put(&self, line: &mut Line) {
        line.push_str(self);
    }
}

// A borrowed piece shows as the piece: takes `&name`, whatever `name` is.
impl<T: Piece + ?Sized> Piece for &T {
    fn put(&self, line: &mut Line) {
        (**self).put(line);
    }
}

impl Piece for char {
    fn put(&self, line: &mut Line) {
        line.push_str(self.encode_utf8(&mut [0; 4]));
    }
}

impl Piece for Line {
    fn put(&self, line: &mut Line) {
        line.push_str(self.as_str());
    }
}

impl<const N: usize> Piece for heapless::String<N> {
    fn put(&self, line: &mut Line) {
        line.push_str(self);
    }
}

// Every unsigned width shares `push_decimal`.
macro_rules! unsigned_piece {
    ($($t:ty)*) => ($(impl Piece for $t {
        fn put(&self, line: &mut Line) {
            line.push_decimal(u64::from(*self));
        }
    })*)
}
unsigned_piece! { u8 u16 u32 u64 }

impl Piece for usize {
    fn put(&self, line: &mut Line) {
        // usize is at most 64 bits on every target the daemon builds for.
        line.push_decimal(*self as u64);
    }
}

impl Piece for i32 {
    fn put(&self, line: &mut Line) {
        if *self < 0 {
            line.push_str("-");
        }
        line.push_decimal(u64::from(self.unsigned_abs()));
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

impl Piece for Shown<'_> {
    fn put(&self, line: &mut Line) {
        let bytes = self.0.as_bytes();
        if !bytes.is_empty() && bytes.iter().all(u8::is_ascii_graphic) {
            // All ASCII, so valid UTF-8.
            line.push_bytes(bytes);
            return;
        }
        // Escaped byte by byte rather than shown with `Debug`, which prints printable non-ASCII
        // text as is (a terminal or log would render look-alikes) and needs Unicode tables.
        line.push_str("\"");
        for &byte in bytes {
            put_escaped(line, byte);
        }
        line.push_str("\"");
    }
}

/// Appends a byte as it would appear inside a Rust byte string literal.
fn put_escaped(line: &mut Line, byte: u8) {
    const HEX: &[u8; 16] = b"0123456789ABCDEF";
    match byte {
        b'"' => line.push_str("\\\""),
        b'\\' => line.push_str("\\\\"),
        b'\0' => line.push_str("\\0"),
        b'\t' => line.push_str("\\t"),
        b'\n' => line.push_str("\\n"),
        b'\r' => line.push_str("\\r"),
        b' '..=b'~' => line.push_bytes(&[byte]),
        _ => line.push_bytes(&[
            b'\\',
            b'x',
            HEX[usize::from(byte >> 4)],
            HEX[usize::from(byte & 0xf)],
        ]),
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

    /// A line of `N` bytes cut as a [`Line`] is, to see cuts near every edge.
    struct Short<const N: usize> {
        bytes: [u8; N],
        len: usize,
        truncated: bool,
    }

    impl<const N: usize> Short<N> {
        fn new() -> Self {
            Short {
                bytes: [0; N],
                len: 0,
                truncated: false,
            }
        }
        fn push_str(&mut self, text: &str) {
            append(
                &mut self.bytes,
                &mut self.len,
                &mut self.truncated,
                text.as_bytes(),
            );
        }
        fn as_str(&self) -> &str {
            core::str::from_utf8(&self.bytes[..self.len]).unwrap()
        }
    }

    #[test]
    fn line_keeps_short_text() {
        let mut line = Line::new();
        put!(&mut line; "mtu ", 1500u16);
        assert_eq!(line.as_str(), "mtu 1500");
        assert!(!line.is_truncated());
    }

    #[test]
    fn line_cuts_long_text_and_marks_it() {
        let mut line = Short::<10>::new();
        for part in ["abcdef", "ghijkl", "mnop"] {
            line.push_str(part);
        }
        assert_eq!(line.as_str(), "abcdefg...");
        assert!(line.truncated);
        // Later writes are dropped, not appended after the marker.
        line.push_str("xyz");
        assert_eq!(line.as_str(), "abcdefg...");
    }

    #[test]
    fn line_cuts_at_character_boundary() {
        // "é" is two bytes; 9 bytes of "ééééé" would split a character.
        let mut line = Short::<12>::new();
        line.push_str("ééééééé");
        assert!(line.truncated);
        assert_eq!(line.as_str(), "éééé...");
    }

    #[test]
    fn line_cut_after_earlier_writes_filled_it() {
        let mut line = Short::<10>::new();
        line.push_str("123456789");
        line.push_str("ab");
        assert_eq!(line.as_str(), "1234567...");
        // The cut falls inside the first "é" of text written earlier: all of it goes.
        let mut line = Short::<6>::new();
        line.push_str("abéé");
        line.push_str("z");
        assert_eq!(line.as_str(), "ab...");
    }

    #[test]
    fn line_shorter_than_the_marker_just_ends() {
        let mut line = Short::<2>::new();
        line.push_str("abc");
        assert_eq!(line.as_str(), "ab");
        let mut line = Short::<2>::new();
        line.push_str("é!");
        assert_eq!(line.as_str(), "é");
    }

    #[test]
    fn line_clear_resets_truncation() {
        let mut line = Line::new();
        line.push_str(&"x".repeat(LINE_LEN + 1));
        assert!(line.is_truncated());
        line.clear();
        line.push_str("ok");
        assert_eq!(line.as_str(), "ok");
        assert!(!line.is_truncated());
    }

    #[test]
    fn line_cuts_at_its_length_also_inside_a_number() {
        let filler = "x".repeat(LINE_LEN - 12);
        let mut line = Line::new();
        put!(&mut line; filler.as_str(), "pid ", u64::MAX);
        assert!(line.is_truncated());
        assert_eq!(line.as_str().len(), LINE_LEN);
        assert_eq!(line.as_str(), format!("{filler}pid 18446..."));
        // Exactly full is not cut.
        let mut line = Line::new();
        put!(&mut line; filler.as_str(), "pid ", 12_345_678u32);
        assert!(!line.is_truncated());
        assert_eq!(line.as_str(), format!("{filler}pid 12345678"));
    }

    #[test]
    fn integers_read_as_std_shows_them() {
        let cases: [(&dyn Piece, String); 12] = [
            (&0u8, 0u8.to_string()),
            (&u8::MAX, u8::MAX.to_string()),
            (&0u16, 0u16.to_string()),
            (&u16::MAX, u16::MAX.to_string()),
            (&10u32, 10u32.to_string()),
            (&u32::MAX, u32::MAX.to_string()),
            (&0u64, 0u64.to_string()),
            (&u64::MAX, u64::MAX.to_string()),
            (&usize::MAX, usize::MAX.to_string()),
            (&0i32, 0i32.to_string()),
            (&i32::MAX, i32::MAX.to_string()),
            (&i32::MIN, i32::MIN.to_string()),
        ];
        for (piece, expected) in cases {
            assert_eq!(shown!(piece), expected);
        }
        assert_eq!(shown!(-1i32, ' ', 'é'), "-1 é");
    }

    #[test]
    fn decimals_around_every_power_of_ten_and_spread_over_u64_read_as_std_shows_them() {
        let mut values = vec![0, 1, 9, u64::MAX, u64::MAX - 1];
        for power in (0..20).map(|exponent| 10u64.pow(exponent)) {
            values.extend([power - 1, power, power + 1, power.saturating_mul(7)]);
        }
        // A fixed 64-bit LCG (Knuth's MMIX constants) for values of every length.
        let mut state = 1u64;
        for _ in 0..10_000 {
            state = state
                .wrapping_mul(6_364_136_223_846_793_005)
                .wrapping_add(1_442_695_040_888_963_407);
            values.push(state >> (state % 64));
        }
        for value in values {
            assert_eq!(shown!(value), value.to_string());
        }
    }

    #[test]
    fn lines_and_strings_are_pieces() {
        let mut inner = Line::new();
        inner.push_str("em0");
        let name = heapless::String::<4>::try_from("wg0").unwrap();
        assert_eq!(shown!(inner, ": ", name), "em0: wg0");
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
            assert_eq!(shown!(Shown::bytes(bytes)), expected, "{bytes:?}");
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
