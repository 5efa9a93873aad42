//! The seccomp filter of the Linux daemon: once the queue is bound, only the system calls the
//! loop (and the libc calls it makes: syslog, the interface ioctls) needs are allowed; any
//! other kills the process (SECCOMP_RET_KILL_PROCESS). A safe builder of the classic BPF
//! program, tested with an interpreter below; `sys::privilege` installs it.
//!
//! Program layout (seccomp(2), `struct seccomp_data` in linux/seccomp.h: `nr` at offset 0,
//! `arch` at offset 4):
//! ```text
//!   ld  [4]                ; arch
//!   jeq AUDIT_ARCH, 0, kill
//!   ld  [0]                ; system call number
//!   jeq nr_1, allow, 0
//!   ...
//!   jeq nr_n, allow, 0
//! kill:  ret KILL_PROCESS
//! allow: ret ALLOW
//! ```
//! x32 system calls on x86_64 carry `__X32_SYSCALL_BIT` in `nr`, so they match no entry and
//! are killed as well.

/// `AUDIT_ARCH_*` of the build target (linux/audit.h: the ELF machine, `__AUDIT_ARCH_64BIT`
/// 0x80000000 and `__AUDIT_ARCH_LE` 0x40000000).
#[cfg(target_arch = "x86_64")]
const AUDIT_ARCH: u32 = 0xc000_003e; // EM_X86_64 62
#[cfg(target_arch = "aarch64")]
const AUDIT_ARCH: u32 = 0xc000_00b7; // EM_AARCH64 183

/// The system calls allowed after start-up, each with who needs it.
#[cfg(any(target_arch = "x86_64", target_arch = "aarch64"))]
const ALLOWED: &[libc::c_long] = &[
    // The loop: sleep, read packets (a batch at a time) and link changes, send verdicts.
    libc::SYS_ppoll,
    libc::SYS_recvfrom,
    libc::SYS_recvmmsg,
    libc::SYS_sendmsg,
    libc::SYS_sendto,
    // Log lines on stderr; syslog(3) reconnecting to /dev/log after syslogd restarted, and
    // the interface look-ups on SIGHUP and link changes (SIOCGIFMTU, if_nametoindex).
    libc::SYS_write,
    libc::SYS_writev,
    libc::SYS_socket,
    libc::SYS_connect,
    libc::SYS_ioctl,
    libc::SYS_close,
    // std checks a descriptor with F_GETFD before closing it (debug builds).
    libc::SYS_fcntl,
    libc::SYS_getpid,
    // glibc's syslog(3) builds each line with open_memstream, which allocates.
    libc::SYS_brk,
    libc::SYS_mmap,
    libc::SYS_munmap,
    libc::SYS_mremap,
    // Time for rate limits and syslog stamps, when the vDSO falls back to the kernel.
    libc::SYS_clock_gettime,
    libc::SYS_gettimeofday,
    // Locks (uncontended in one thread, but a libc may still wake) and signal delivery.
    libc::SYS_futex,
    libc::SYS_rt_sigreturn,
    libc::SYS_rt_sigprocmask,
    // Signals pending while packets keep the socket readable are taken with these.
    libc::SYS_rt_sigpending,
    libc::SYS_rt_sigsuspend,
    libc::SYS_restart_syscall,
    // Leaving: the pidfile goes (or is emptied when -u made /var/run read-only to us).
    #[cfg(target_arch = "x86_64")]
    libc::SYS_unlink,
    libc::SYS_unlinkat,
    libc::SYS_ftruncate,
    // std's runtime takes down the main thread's signal stack on the way out.
    libc::SYS_sigaltstack,
    libc::SYS_exit,
    libc::SYS_exit_group,
    // Waiting for the kernel's answer when unbinding (poll(2) is ppoll on aarch64).
    #[cfg(target_arch = "x86_64")]
    libc::SYS_poll,
];

// The program's parts exist only where ALLOWED does: elsewhere (32-bit ARM, MIPS) `filter`
// returns None and the daemon says at start that system calls are not restricted.

// Classic BPF opcodes (linux/bpf_common.h), as u16 for `sock_filter::code`.
#[cfg(any(target_arch = "x86_64", target_arch = "aarch64"))]
const LD_W_ABS: u16 = 0x20; // BPF_LD | BPF_W | BPF_ABS
#[cfg(any(target_arch = "x86_64", target_arch = "aarch64"))]
const JMP_JEQ_K: u16 = 0x15; // BPF_JMP | BPF_JEQ | BPF_K
#[cfg(any(target_arch = "x86_64", target_arch = "aarch64"))]
const RET_K: u16 = 0x06; // BPF_RET | BPF_K

/// Offsets in `struct seccomp_data`.
#[cfg(any(target_arch = "x86_64", target_arch = "aarch64"))]
const DATA_NR: u32 = 0;
#[cfg(any(target_arch = "x86_64", target_arch = "aarch64"))]
const DATA_ARCH: u32 = 4;

/// SECCOMP_RET_KILL_PROCESS (Linux 4.14; older kernels treat it as kill-thread).
#[cfg(any(target_arch = "x86_64", target_arch = "aarch64"))]
const RET_KILL_PROCESS: u32 = 0x8000_0000;
/// SECCOMP_RET_ALLOW.
#[cfg(any(target_arch = "x86_64", target_arch = "aarch64"))]
const RET_ALLOW: u32 = 0x7fff_0000;

/// Longest program: four fixed instructions and one per allowed call, well under BPF_MAXINSNS
/// (4096) and under 256 so every jump offset fits in a byte.
pub const MAX_LEN: usize = 64;

/// One BPF instruction.
#[cfg(any(target_arch = "x86_64", target_arch = "aarch64"))]
fn insn(code: u16, jt: u8, jf: u8, k: u32) -> libc::sock_filter {
    libc::sock_filter { code, jt, jf, k }
}

/// Builds the filter for this architecture; `None` where its system calls are not listed.
#[cfg(any(target_arch = "x86_64", target_arch = "aarch64"))]
pub fn filter() -> Option<heapless::Vec<libc::sock_filter, MAX_LEN>> {
    let count = ALLOWED.len();
    // Instructions: ld arch, jeq arch, ld nr, one jeq per call, ret kill, ret allow.
    let mut program = heapless::Vec::new();
    let kill_from_arch_check = u8::try_from(count + 1).ok()?;
    program.push(insn(LD_W_ABS, 0, 0, DATA_ARCH)).ok()?;
    program
        .push(insn(JMP_JEQ_K, 0, kill_from_arch_check, AUDIT_ARCH))
        .ok()?;
    program.push(insn(LD_W_ABS, 0, 0, DATA_NR)).ok()?;
    for (position, &nr) in ALLOWED.iter().enumerate() {
        // From the jeq at `position`, skip the rest of the list and the kill to reach allow.
        let to_allow = u8::try_from(count - position).ok()?;
        let nr = u32::try_from(nr).ok()?;
        program.push(insn(JMP_JEQ_K, to_allow, 0, nr)).ok()?;
    }
    program.push(insn(RET_K, 0, 0, RET_KILL_PROCESS)).ok()?;
    program.push(insn(RET_K, 0, 0, RET_ALLOW)).ok()?;
    Some(program)
}

/// Builds the filter for this architecture; `None` where its system calls are not listed.
#[cfg(not(any(target_arch = "x86_64", target_arch = "aarch64")))]
pub fn filter() -> Option<heapless::Vec<libc::sock_filter, MAX_LEN>> {
    None
}

#[cfg(all(test, any(target_arch = "x86_64", target_arch = "aarch64")))]
mod tests {
    use super::*;

    /// Runs the subset of classic BPF the filter uses, as the kernel would (seccomp_run_filters);
    /// any other instruction fails the test.
    fn run(program: &[libc::sock_filter], nr: i32, arch: u32) -> u32 {
        let mut accumulator = 0u32;
        let mut pc = 0usize;
        for _ in 0..program.len() {
            let i = program[pc];
            match i.code {
                LD_W_ABS => {
                    accumulator = match i.k {
                        DATA_NR => nr as u32,
                        DATA_ARCH => arch,
                        other => panic!("load from offset {other}"),
                    };
                    pc += 1;
                }
                JMP_JEQ_K => {
                    let offset = if accumulator == i.k { i.jt } else { i.jf };
                    pc += 1 + usize::from(offset);
                }
                RET_K => return i.k,
                other => panic!("opcode {other:#x}"),
            }
        }
        panic!("ran off the end of the program");
    }

    #[test]
    fn every_listed_call_is_allowed() {
        let program = filter().unwrap();
        assert_eq!(program.len(), ALLOWED.len() + 5);
        for &nr in ALLOWED {
            assert_eq!(run(&program, nr as i32, AUDIT_ARCH), RET_ALLOW, "{nr}");
        }
    }

    #[test]
    fn other_calls_and_other_architectures_are_killed() {
        let program = filter().unwrap();
        for nr in [
            libc::SYS_execve,
            libc::SYS_openat,
            libc::SYS_ptrace,
            libc::SYS_clone,
            libc::SYS_setuid,
            libc::SYS_getppid,
            libc::SYS_prctl,
            libc::SYS_bind,
        ] {
            assert_eq!(
                run(&program, nr as i32, AUDIT_ARCH),
                RET_KILL_PROCESS,
                "{nr}"
            );
        }
        // The same number under another ABI (i386 is 0x40000003) or x32 is refused.
        assert_eq!(
            run(&program, libc::SYS_write as i32, 0x4000_0003),
            RET_KILL_PROCESS
        );
        assert_eq!(
            run(&program, libc::SYS_write as i32 | 0x4000_0000, AUDIT_ARCH),
            RET_KILL_PROCESS
        );
        assert_eq!(run(&program, -1, AUDIT_ARCH), RET_KILL_PROCESS);
    }
}
