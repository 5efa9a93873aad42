//! syslog(3): one connection to syslogd, each line passed through `"%s"`.

use std::ffi::CStr;

use libc::c_int;

/// Opens the connection to syslogd; `ident` must outlive every later `syslog` call, hence
/// `'static`.
pub fn openlog(ident: &'static CStr, option: c_int, facility: c_int) {
    // SAFETY: `ident` is NUL-terminated and lives for the rest of the program, as openlog
    // keeps the pointer.
    unsafe { libc::openlog(ident.as_ptr(), option, facility) }
}

/// Sends one line to syslogd; the line is passed through `"%s"`, never as the format.
pub fn syslog(priority: c_int, line: &CStr) {
    // SAFETY: the format is a literal consuming exactly one C string argument, and `line` is
    // NUL-terminated.
    unsafe { libc::syslog(priority, c"%s".as_ptr(), line.as_ptr()) }
}

/// Closes the connection to syslogd.
pub fn closelog() {
    // SAFETY: no arguments; harmless when syslog was never opened.
    unsafe { libc::closelog() }
}
