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
//!
//! The eBPF mode allows `bpf(2)` too, but only for the map commands it uses: the command is
//! the call's first argument (`args[0]` at offset 16; its low 32 bits, which the kernel's
//! `int cmd` reads, at 16 on little-endian CPUs and 20 on big-endian ones):
//! ```text
//!   jeq SYS_bpf, 0, kill   ; after the list
//!   ld  [16 or 20]         ; cmd
//!   jeq cmd_1, allow, 0
//!   ...
//!   jeq cmd_k, allow, 0
//! ```

/// Builds the filter for this architecture, allowing `bpf(2)` for `bpf_commands` only
/// (none: not at all); `None` where its system calls are not listed.
#[cfg(any(
    target_arch = "x86_64",
    target_arch = "aarch64",
    target_arch = "arm",
    target_arch = "mips"
))]
pub fn filter(bpf_commands: &[u32]) -> Option<heapless::Vec<libc::sock_filter, MAX_LEN>> {
    listed::filter(bpf_commands)
}

/// Builds the filter for this architecture; `None` where its system calls are not listed.
#[cfg(not(any(
    target_arch = "x86_64",
    target_arch = "aarch64",
    target_arch = "arm",
    target_arch = "mips"
)))]
pub fn filter(_bpf_commands: &[u32]) -> Option<heapless::Vec<libc::sock_filter, MAX_LEN>> {
    None
}

/// Longest program: four fixed instructions, one per allowed call and the `bpf(2)` block,
/// well under BPF_MAXINSNS (4096) and under 256 so every jump offset fits in a byte.
pub const MAX_LEN: usize = 72;

/// The time64 numbers, for the test that makes each call (sys/linux/privilege.rs).
#[cfg(all(test, any(target_arch = "arm", target_arch = "mips")))]
pub(crate) use listed::time64;

/// The architectures with a list: x86_64, aarch64, 32-bit ARM (EABI: armv7 musl and glibc)
/// and 32-bit MIPS (o32: mipsel and big-endian mips), the CPUs the daemon is built and tested
/// for (dist/Routers.md).
#[cfg(any(
    target_arch = "x86_64",
    target_arch = "aarch64",
    target_arch = "arm",
    target_arch = "mips"
))]
mod listed {
    use super::MAX_LEN;

    /// `AUDIT_ARCH_*` of the build target (linux/audit.h: the ELF machine, `__AUDIT_ARCH_64BIT`
    /// 0x80000000 and `__AUDIT_ARCH_LE` 0x40000000).
    #[cfg(target_arch = "x86_64")]
    pub(super) const AUDIT_ARCH: u32 = 0xc000_003e; // EM_X86_64 62
    #[cfg(target_arch = "aarch64")]
    pub(super) const AUDIT_ARCH: u32 = 0xc000_00b7; // EM_AARCH64 183
    #[cfg(all(target_arch = "arm", target_endian = "little"))]
    pub(super) const AUDIT_ARCH: u32 = 0x4000_0028; // AUDIT_ARCH_ARM: EM_ARM 40
    #[cfg(all(target_arch = "arm", target_endian = "big"))]
    pub(super) const AUDIT_ARCH: u32 = 0x0000_0028; // AUDIT_ARCH_ARMEB
    #[cfg(all(target_arch = "mips", target_endian = "little"))]
    pub(super) const AUDIT_ARCH: u32 = 0x4000_0008; // AUDIT_ARCH_MIPSEL: EM_MIPS 8
    #[cfg(all(target_arch = "mips", target_endian = "big"))]
    pub(super) const AUDIT_ARCH: u32 = 0x0000_0008; // AUDIT_ARCH_MIPS

    /// The calls with a 64-bit time that Linux 5.1 added to every 32-bit ABI, which libc 0.2
    /// does not name for musl. They have one number on every 32-bit architecture
    /// (include/uapi/asm-generic/unistd.h, arch/arm/tools/syscall.tbl), offset by 4000 on MIPS
    /// o32 as all its calls are (arch/mips/kernel/syscalls/syscall_o32.tbl).
    #[cfg(any(target_arch = "arm", target_arch = "mips"))]
    pub(crate) mod time64 {
        use libc::c_long;

        const BASE: c_long = if cfg!(target_arch = "mips") { 4000 } else { 0 };
        pub const SYS_CLOCK_GETTIME64: c_long = BASE + 403;
        pub const SYS_PPOLL_TIME64: c_long = BASE + 414;
        pub const SYS_RECVMMSG_TIME64: c_long = BASE + 417;
        pub const SYS_FUTEX_TIME64: c_long = BASE + 422;
    }
    #[cfg(any(target_arch = "arm", target_arch = "mips"))]
    use time64::*;

    /// The system calls allowed after start-up, each with who needs it: one list for every
    /// architecture, the numbers libc's for the build target.
    ///
    /// On the 32-bit CPUs musl 1.2 (and glibc 2.34) move to the calls with a 64-bit time
    /// (`*_time64`, Linux 5.1) and keep the old ones as the fallback where those answer ENOSYS,
    /// on older kernels: both are listed. Where a 64-bit ABI has one call, they also name the
    /// large-file variant (`fcntl64`, `ftruncate64`, `mmap2`), which musl's syscall.h
    /// (src/internal/syscall.h) substitutes for every use. What strace saw the armv7 and mipsel
    /// builds make after this point, on Debian's 6.1 kernels under qemu (2026-12-07), is the
    /// test `calls_seen_on_32_bit_kernels_are_allowed`.
    pub(super) const ALLOWED: &[libc::c_long] = &[
        // The loop: sleep, read packets (a batch at a time) and link changes, send verdicts.
        libc::SYS_ppoll,
        libc::SYS_recvfrom,
        libc::SYS_recvmmsg,
        libc::SYS_sendmsg,
        libc::SYS_sendto,
        // glibc's send(3) on ARM makes send, not sendto (sysdeps/unix/sysv/linux/arm/
        // kernel-features.h: __ASSUME_SEND_SYSCALL): the queue's messages and syslog's lines
        // in the armv7-unknown-linux-gnueabihf build. musl's send calls sendto.
        #[cfg(target_arch = "arm")]
        libc::SYS_send,
        // musl's recvmmsg tries recvmmsg_time64 first (src/network/recvmmsg.c); its ppoll only
        // for a timeout past 2^31 s (src/select/ppoll.c), glibc's always.
        #[cfg(any(target_arch = "arm", target_arch = "mips"))]
        SYS_RECVMMSG_TIME64,
        #[cfg(any(target_arch = "arm", target_arch = "mips"))]
        SYS_PPOLL_TIME64,
        // Log lines on stderr; syslog(3) reconnecting to /dev/log after syslogd restarted, and
        // the interface look-ups on SIGHUP and link changes (SIOCGIFMTU, if_nametoindex).
        libc::SYS_write,
        libc::SYS_writev,
        libc::SYS_socket,
        libc::SYS_connect,
        libc::SYS_ioctl,
        libc::SYS_close,
        // std checks a descriptor with F_GETFD before closing it (debug builds).
        #[cfg(any(target_arch = "x86_64", target_arch = "aarch64"))]
        libc::SYS_fcntl,
        #[cfg(any(target_arch = "arm", target_arch = "mips"))]
        libc::SYS_fcntl64,
        libc::SYS_getpid,
        // glibc's syslog(3) builds each line with open_memstream, which allocates.
        libc::SYS_brk,
        #[cfg(any(target_arch = "x86_64", target_arch = "aarch64"))]
        libc::SYS_mmap,
        #[cfg(any(target_arch = "arm", target_arch = "mips"))]
        libc::SYS_mmap2,
        libc::SYS_munmap,
        libc::SYS_mremap,
        // Time for rate limits and syslog stamps, when the vDSO falls back to the kernel
        // (on 32-bit CPUs musl's clock_gettime tries clock_gettime64 first: src/time/clock_gettime.c).
        libc::SYS_clock_gettime,
        #[cfg(any(target_arch = "arm", target_arch = "mips"))]
        SYS_CLOCK_GETTIME64,
        libc::SYS_gettimeofday,
        // Locks (uncontended in one thread, but a libc may still wake) and signal delivery.
        libc::SYS_futex,
        #[cfg(any(target_arch = "arm", target_arch = "mips"))]
        SYS_FUTEX_TIME64,
        libc::SYS_rt_sigreturn,
        // 32-bit CPUs return from a handler installed without SA_SIGINFO, as the daemon's are,
        // through sigreturn (musl's sigaction picks `__restore`; the MIPS kernel's own
        // trampoline does the same); rt_sigreturn above is then for std's SA_SIGINFO handler
        // of a stack overflow, so that it still ends in SIGSEGV.
        #[cfg(any(target_arch = "arm", target_arch = "mips"))]
        libc::SYS_sigreturn,
        libc::SYS_rt_sigprocmask,
        // Signals pending while packets keep the socket readable are taken with these.
        libc::SYS_rt_sigpending,
        libc::SYS_rt_sigsuspend,
        libc::SYS_restart_syscall,
        // Leaving: the pidfile goes (or is emptied when -u made /var/run read-only to us).
        // unlink(3) makes unlink where the ABI has it (musl src/unistd/unlink.c).
        #[cfg(not(target_arch = "aarch64"))]
        libc::SYS_unlink,
        libc::SYS_unlinkat,
        #[cfg(any(target_arch = "x86_64", target_arch = "aarch64"))]
        libc::SYS_ftruncate,
        #[cfg(any(target_arch = "arm", target_arch = "mips"))]
        libc::SYS_ftruncate64,
        // std's runtime takes down the main thread's signal stack on the way out.
        libc::SYS_sigaltstack,
        libc::SYS_exit,
        libc::SYS_exit_group,
        // Waiting for the kernel's answer when unbinding (poll(2) is ppoll on aarch64, which
        // alone has no poll call).
        #[cfg(not(target_arch = "aarch64"))]
        libc::SYS_poll,
    ];

    // Classic BPF opcodes (linux/bpf_common.h), as u16 for `sock_filter::code`.
    pub(super) const LD_W_ABS: u16 = 0x20; // BPF_LD | BPF_W | BPF_ABS
    pub(super) const JMP_JEQ_K: u16 = 0x15; // BPF_JMP | BPF_JEQ | BPF_K
    pub(super) const RET_K: u16 = 0x06; // BPF_RET | BPF_K

    /// Offsets in `struct seccomp_data`.
    pub(super) const DATA_NR: u32 = 0;
    pub(super) const DATA_ARCH: u32 = 4;
    /// The low 32 bits of `args[0]` (a `__u64` at offset 16).
    pub(super) const DATA_ARG0_LOW: u32 = if cfg!(target_endian = "little") {
        16
    } else {
        20
    };

    /// SECCOMP_RET_KILL_PROCESS (Linux 4.14; older kernels treat it as kill-thread).
    pub(super) const RET_KILL_PROCESS: u32 = 0x8000_0000;
    /// SECCOMP_RET_ALLOW.
    pub(super) const RET_ALLOW: u32 = 0x7fff_0000;

    /// One BPF instruction.
    fn insn(code: u16, jt: u8, jf: u8, k: u32) -> libc::sock_filter {
        libc::sock_filter { code, jt, jf, k }
    }

    /// Builds the filter for this architecture, `bpf(2)` allowed for `bpf_commands` only.
    pub(super) fn filter(
        bpf_commands: &[u32],
    ) -> Option<heapless::Vec<libc::sock_filter, MAX_LEN>> {
        let count = ALLOWED.len();
        let commands = bpf_commands.len();
        // The bpf block: jeq SYS_bpf, ld arg0, one jeq per command; nothing without commands.
        let block = if commands == 0 { 0 } else { commands + 2 };
        // Instructions: ld arch, jeq arch, ld nr, one jeq per call, the block, ret kill, ret
        // allow.
        let mut program = heapless::Vec::new();
        let kill_from_arch_check = u8::try_from(count + block + 1).ok()?;
        program.push(insn(LD_W_ABS, 0, 0, DATA_ARCH)).ok()?;
        program
            .push(insn(JMP_JEQ_K, 0, kill_from_arch_check, AUDIT_ARCH))
            .ok()?;
        program.push(insn(LD_W_ABS, 0, 0, DATA_NR)).ok()?;
        for (position, &nr) in ALLOWED.iter().enumerate() {
            // From the jeq at `position`, skip the rest of the list, the block and the kill
            // to reach allow.
            let to_allow = u8::try_from(count - position + block).ok()?;
            let nr = u32::try_from(nr).ok()?;
            program.push(insn(JMP_JEQ_K, to_allow, 0, nr)).ok()?;
        }
        if commands > 0 {
            let to_kill = u8::try_from(commands + 1).ok()?;
            let bpf = u32::try_from(libc::SYS_bpf).ok()?;
            program.push(insn(JMP_JEQ_K, 0, to_kill, bpf)).ok()?;
            program.push(insn(LD_W_ABS, 0, 0, DATA_ARG0_LOW)).ok()?;
            for (position, &command) in bpf_commands.iter().enumerate() {
                let to_allow = u8::try_from(commands - position).ok()?;
                program.push(insn(JMP_JEQ_K, to_allow, 0, command)).ok()?;
            }
        }
        program.push(insn(RET_K, 0, 0, RET_KILL_PROCESS)).ok()?;
        program.push(insn(RET_K, 0, 0, RET_ALLOW)).ok()?;
        Some(program)
    }
}

#[cfg(all(
    test,
    any(
        target_arch = "x86_64",
        target_arch = "aarch64",
        target_arch = "arm",
        target_arch = "mips"
    )
))]
mod tests {
    #[cfg(any(target_arch = "arm", target_arch = "mips"))]
    use super::listed::time64::*;
    use super::listed::*;

    /// Runs the subset of classic BPF the filter uses, as the kernel would (seccomp_run_filters);
    /// any other instruction fails the test.
    fn run(program: &[libc::sock_filter], nr: libc::c_long, arch: u32) -> u32 {
        run_with_arg(program, nr, arch, 0)
    }

    /// [`run`] for a call whose first argument is `arg0`.
    fn run_with_arg(program: &[libc::sock_filter], nr: libc::c_long, arch: u32, arg0: u64) -> u32 {
        let mut accumulator = 0u32;
        let mut pc = 0usize;
        for _ in 0..program.len() {
            let i = program[pc];
            match i.code {
                LD_W_ABS => {
                    accumulator = match i.k {
                        // seccomp_data.nr is an int: the number's low 32 bits.
                        DATA_NR => nr as u32,
                        DATA_ARCH => arch,
                        DATA_ARG0_LOW => arg0 as u32,
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
        let program = filter(&[]).unwrap();
        assert_eq!(program.len(), ALLOWED.len() + 5);
        for &nr in ALLOWED {
            assert_eq!(run(&program, nr, AUDIT_ARCH), RET_ALLOW, "{nr}");
        }
    }

    /// The eBPF mode's filter: bpf(2) for the map commands given, nothing else of it; the
    /// rest of the list as without them.
    #[test]
    fn bpf_is_allowed_for_the_given_commands_only() {
        assert_eq!(
            run(&filter(&[]).unwrap(), libc::SYS_bpf, AUDIT_ARCH),
            RET_KILL_PROCESS
        );
        let lookup_update = [1, 2];
        let program = filter(&lookup_update).unwrap();
        assert_eq!(program.len(), ALLOWED.len() + 5 + 4);
        for command in lookup_update {
            let verdict = run_with_arg(&program, libc::SYS_bpf, AUDIT_ARCH, command.into());
            assert_eq!(verdict, RET_ALLOW, "command {command}");
        }
        // MAP_CREATE, PROG_LOAD, OBJ_GET, PROG_ATTACH, LINK_CREATE, and MAP_CREATE with bits
        // in the high half: the filter reads the low 32 bits, as the kernel's `int cmd` does.
        for command in [0u64, 5, 7, 8, 28, 1 << 32] {
            let verdict = run_with_arg(&program, libc::SYS_bpf, AUDIT_ARCH, command);
            assert_eq!(verdict, RET_KILL_PROCESS, "command {command:#x}");
        }
        // The same: MAP_LOOKUP_ELEM to the kernel.
        let high_and_lookup = 1 << 32 | 1;
        assert_eq!(
            run_with_arg(&program, libc::SYS_bpf, AUDIT_ARCH, high_and_lookup),
            RET_ALLOW
        );
        for &nr in ALLOWED {
            assert_eq!(run(&program, nr, AUDIT_ARCH), RET_ALLOW, "{nr}");
        }
        for nr in [libc::SYS_execve, libc::SYS_openat, -1] {
            assert_eq!(run(&program, nr, AUDIT_ARCH), RET_KILL_PROCESS, "{nr}");
        }
        assert_eq!(
            run_with_arg(&program, libc::SYS_bpf, AUDIT_ARCH ^ 0x4000_0000, 1),
            RET_KILL_PROCESS
        );
    }

    #[test]
    fn other_calls_and_other_architectures_are_killed() {
        let program = filter(&[]).unwrap();
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
            assert_eq!(run(&program, nr, AUDIT_ARCH), RET_KILL_PROCESS, "{nr}");
        }
        // The same number under another ABI is refused: i386 (0x40000003) for every list, and
        // the other byte order of the same machine (bit 30: __AUDIT_ARCH_LE).
        for arch in [0x4000_0003, AUDIT_ARCH ^ 0x4000_0000] {
            assert_eq!(
                run(&program, libc::SYS_write, arch),
                RET_KILL_PROCESS,
                "arch {arch:#x}"
            );
        }
        // x32 calls carry __X32_SYSCALL_BIT.
        #[cfg(target_arch = "x86_64")]
        assert_eq!(
            run(&program, libc::SYS_write | 0x4000_0000, AUDIT_ARCH),
            RET_KILL_PROCESS
        );
        assert_eq!(run(&program, -1, AUDIT_ARCH), RET_KILL_PROCESS);
    }

    /// What strace showed the static armv7 and mipsel builds make after the confinement point,
    /// on Debian's 6.1 armhf and mipsel kernels under qemu (2026-12-07): in the foreground
    /// (`-v -m 1400`), and detached (`-i IF -P pidfile -u nobody`) through USR1, HUP, an MTU
    /// change, a syslogd restart and TERM.
    #[cfg(any(target_arch = "arm", target_arch = "mips"))]
    #[test]
    fn calls_seen_on_32_bit_kernels_are_allowed() {
        let program = filter(&[]).unwrap();
        let seen = [
            ("close", libc::SYS_close),
            ("exit_group", libc::SYS_exit_group),
            ("ppoll", libc::SYS_ppoll),
            ("recvmmsg_time64", SYS_RECVMMSG_TIME64),
            ("rt_sigpending", libc::SYS_rt_sigpending),
            ("sendmsg", libc::SYS_sendmsg),
            ("sendto", libc::SYS_sendto),
            ("sigreturn", libc::SYS_sigreturn),
            ("write", libc::SYS_write),
            ("connect", libc::SYS_connect),
            ("ftruncate64", libc::SYS_ftruncate64),
            ("getpid", libc::SYS_getpid),
            ("ioctl", libc::SYS_ioctl),
            ("recvfrom", libc::SYS_recvfrom),
            ("socket", libc::SYS_socket),
            ("unlink", libc::SYS_unlink),
        ];
        for (name, nr) in seen {
            assert_eq!(run(&program, nr, AUDIT_ARCH), RET_ALLOW, "{name}");
        }
    }

    /// The daemon's send(3) (netlink messages, syslog lines) is the send call in glibc's ARM
    /// build (__ASSUME_SEND_SYSCALL), sendto in every other libc and ABI.
    #[cfg(target_arch = "arm")]
    #[test]
    fn glibc_send_on_arm_is_allowed() {
        let program = filter(&[]).unwrap();
        assert_eq!(run(&program, libc::SYS_send, AUDIT_ARCH), RET_ALLOW);
        assert_eq!(run(&program, libc::SYS_sendto, AUDIT_ARCH), RET_ALLOW);
    }

    /// The old calls musl and glibc fall back to where a kernel before 5.1 answers ENOSYS to
    /// the time64 ones, and the time64 ones themselves.
    #[cfg(any(target_arch = "arm", target_arch = "mips"))]
    #[test]
    fn time64_calls_and_their_fallbacks_are_allowed() {
        let program = filter(&[]).unwrap();
        let pairs = [
            (SYS_PPOLL_TIME64, libc::SYS_ppoll),
            (SYS_RECVMMSG_TIME64, libc::SYS_recvmmsg),
            (SYS_CLOCK_GETTIME64, libc::SYS_clock_gettime),
            (SYS_FUTEX_TIME64, libc::SYS_futex),
        ];
        for (time64, old) in pairs {
            assert_ne!(time64, old);
            assert_eq!(run(&program, time64, AUDIT_ARCH), RET_ALLOW, "{time64}");
            assert_eq!(run(&program, old, AUDIT_ARCH), RET_ALLOW, "{old}");
        }
    }

    /// The 32-bit calls that are not the ones the list names: the 32-bit uid calls musl makes
    /// on ARM (setuid32), MIPS's multiplexer socketcall (musl calls socket and friends
    /// directly there), the 64-bit ABIs' fcntl, ftruncate and mmap without the large-file
    /// variant, and a time64 call not used (clock_nanosleep_time64, 407).
    #[cfg(any(target_arch = "arm", target_arch = "mips"))]
    #[test]
    fn other_32_bit_calls_are_killed() {
        let program = filter(&[]).unwrap();
        let base = if cfg!(target_arch = "mips") { 4000 } else { 0 };
        let mut others = vec![
            libc::SYS_fcntl,
            libc::SYS_ftruncate,
            libc::SYS_setuid,
            base + 407,
        ];
        #[cfg(target_arch = "arm")]
        others.push(libc::SYS_setuid32);
        #[cfg(target_arch = "mips")]
        others.extend([libc::SYS_socketcall, libc::SYS_mmap]);
        for nr in others {
            assert_eq!(run(&program, nr, AUDIT_ARCH), RET_KILL_PROCESS, "{nr}");
        }
    }
}
