//! What a child process does between fork and exec to enter a lab's namespaces. Only
//! plain system calls may run there (the parent may be multi-threaded, so nothing that
//! allocates or locks), which is why the set-up is data interpreted by one function
//! instead of a closure written anew at every spawn.

use std::os::fd::RawFd;
use std::os::unix::process::CommandExt;
use std::process::Command;

/// The steps, applied in this order: join a network namespace, join a UTS namespace,
/// join a mount namespace, unshare namespaces, remount /sys privately, start a new session, move a file
/// descriptor to a fixed number.
#[derive(Debug, Clone, Copy, Default)]
pub struct ChildSetup {
    /// Network namespace to join (an open fd the caller keeps until spawn returns).
    pub net: Option<RawFd>,
    /// UTS namespace to join.
    pub uts: Option<RawFd>,
    /// Mount namespace to join (the lab host's, with its /proc and /sys).
    pub mnt: Option<RawFd>,
    /// `CLONE_NEW*` flags to unshare (0: none). With `new_uts_unless_joined`,
    /// `CLONE_NEWUTS` is added when no UTS namespace is joined.
    pub unshare: libc::c_int,
    /// Add `CLONE_NEWUTS` to `unshare` when `uts` is None (a container's own hostname).
    pub new_uts_unless_joined: bool,
    /// A private mount namespace with a fresh /sys, so /sys/class/net shows the joined
    /// network namespace's interfaces (what `ip netns exec` does). Best effort.
    pub fresh_sys: bool,
    /// With `fresh_sys`: bind this file on /etc/resolv.conf in that private mount
    /// namespace (the lab host's resolver for `dockernet host`). Only if the namespace
    /// was made: never in the machine's own. Best effort.
    pub resolv_conf: Option<&'static std::ffi::CStr>,
    /// `setsid()`: a new session (detached processes).
    pub setsid: bool,
    /// `dup2(from, to)`: hand a pipe end to the child at a known number.
    pub dup: Option<(RawFd, RawFd)>,
    /// SIGKILL the child when its parent dies (`PR_SET_PDEATHSIG`). For short helpers
    /// like iptables-restore: if dockernet is killed mid-command, a batch still pending
    /// must not be committed after the next command has rolled the change back.
    pub die_with_parent: bool,
}

fn check(r: libc::c_int) -> std::io::Result<()> {
    if r < 0 {
        Err(std::io::Error::last_os_error())
    } else {
        Ok(())
    }
}

impl ChildSetup {
    /// Enter only a network namespace (tools such as iptables-restore).
    pub fn net(fd: RawFd) -> ChildSetup {
        ChildSetup {
            net: Some(fd),
            ..Default::default()
        }
    }

    /// Install the set-up on a command. `keep` are the files behind the fds: the
    /// command holds them until it is dropped, so the fds are valid at spawn time.
    pub fn install(self, cmd: &mut Command, keep: Vec<std::fs::File>) {
        let parent = std::process::id() as libc::pid_t;
        // SAFETY: `run` makes only async-signal-safe system calls on fds kept open by
        // `keep` (moved into the closure), and static C strings.
        unsafe {
            cmd.pre_exec(move || {
                let _held = &keep;
                self.run(parent)
            });
        }
    }

    fn run(&self, parent: libc::pid_t) -> std::io::Result<()> {
        // SAFETY (whole body): plain system calls with valid fds and static strings.
        unsafe {
            if self.die_with_parent {
                check(libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL))?;
                // The parent may have died before the prctl: then nothing kills us.
                if libc::getppid() != parent {
                    return Err(std::io::Error::from_raw_os_error(libc::ESRCH));
                }
            }
            if let Some(fd) = self.net {
                check(libc::setns(fd, libc::CLONE_NEWNET))?;
            }
            if let Some(fd) = self.uts {
                check(libc::setns(fd, libc::CLONE_NEWUTS))?;
            }
            if let Some(fd) = self.mnt {
                check(libc::setns(fd, libc::CLONE_NEWNS))?;
            }
            let mut flags = self.unshare;
            if self.new_uts_unless_joined && self.uts.is_none() {
                flags |= libc::CLONE_NEWUTS;
            }
            if flags != 0 {
                check(libc::unshare(flags))?;
            }
            if self.fresh_sys && libc::unshare(libc::CLONE_NEWNS) == 0 {
                libc::mount(
                    std::ptr::null(),
                    c"/".as_ptr(),
                    std::ptr::null(),
                    libc::MS_REC | libc::MS_SLAVE,
                    std::ptr::null(),
                );
                if libc::umount2(c"/sys".as_ptr(), libc::MNT_DETACH) == 0 {
                    libc::mount(
                        c"sysfs".as_ptr(),
                        c"/sys".as_ptr(),
                        c"sysfs".as_ptr(),
                        0,
                        std::ptr::null(),
                    );
                }
                if let Some(src) = self.resolv_conf {
                    libc::mount(
                        src.as_ptr(),
                        c"/etc/resolv.conf".as_ptr(),
                        std::ptr::null(),
                        libc::MS_BIND,
                        std::ptr::null(),
                    );
                }
            }
            if self.setsid {
                check(libc::setsid())?;
            }
            if let Some((from, to)) = self.dup {
                // dup2 clears close-on-exec on the copy, so the program inherits it.
                check(libc::dup2(from, to))?;
            }
        }
        Ok(())
    }
}
