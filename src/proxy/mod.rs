//! The userland port proxy: dockernet's `docker-proxy`.
//!
//! Docker runs one `docker-proxy` process per published port binding. It
//! listens on the host's port and relays to the container's IP and port, so
//! that traffic the NAT rules never see (the host's own connections to
//! 127.0.0.1, say) still reaches the container. When the binary is started
//! under the name `docker-proxy`, `main` hands its arguments to
//! [`proxy_main`].
//!
//! - TCP: one edge-triggered epoll loop (more on request); bulk data is
//!   relayed with `splice(2)` through a pipe (no copies to user space),
//!   reads under 8 KiB are copied (cheaper for request/response traffic),
//!   and a 256 KiB read/write buffer takes over where splice is refused.
//!   Half-closes are passed on with `shutdown(SHUT_WR)`.
//! - UDP: one socket per client flow, `connect()`ed to the container, idle
//!   flows forgotten after 90 s like docker-proxy's conntrack table.

mod args;
mod relay;
mod slab;
mod sys;
mod tcp;
mod udp;

#[cfg(test)]
mod test_util;
#[cfg(test)]
mod tests_main;
#[cfg(test)]
mod tests_tcp;
#[cfg(test)]
mod tests_udp;

use std::os::fd::{AsFd, BorrowedFd};

use nix::sys::signal::{SigSet, SigmaskHow, Signal};
use nix::sys::signalfd::{SfdFlags, SignalFd};

pub use args::{ArgError, Config, Proto, USAGE, parse_args};
pub use sys::{ReadyFd, bind_tcp, bind_udp};
pub use tcp::serve_tcp;
pub use udp::{UDP_IDLE_TIMEOUT, serve_udp};

/// Entry point of `docker-proxy` (`args` excludes argv\[0\]); returns the
/// exit code: 0 after SIGINT/SIGTERM, 1 when the port cannot be bound or the
/// loop fails, 2 for bad flags.
///
/// Call it before starting other threads: it blocks SIGINT and SIGTERM in
/// the calling thread (the loop threads it starts inherit that) and reads
/// them from a signalfd, so they end the loops cleanly instead of killing
/// the process mid-write.
pub fn proxy_main(args: &[String]) -> i32 {
    let cfg = match parse_args(args) {
        Ok(cfg) => cfg,
        Err(ArgError::Help) => {
            eprintln!("{USAGE}");
            return 0;
        }
        Err(ArgError::Bad(msg)) => {
            eprintln!("docker-proxy: {msg}");
            return 2;
        }
    };
    // Before anything writes: a parent that closed its end of the ready
    // pipe must cost us an EPIPE, not the process.
    sys::ignore_sigpipe();
    let ready = match cfg.ready_fd.map(ReadyFd::take).transpose() {
        Ok(r) => r,
        Err(msg) => {
            eprintln!("docker-proxy: {msg}");
            return 2;
        }
    };
    let mut sigs = SigSet::empty();
    sigs.add(Signal::SIGINT);
    sigs.add(Signal::SIGTERM);
    // Block before anything can fail so the signals stay queued for the
    // signalfd; the old mask is put back for callers that go on living.
    let old = match sigs.thread_swap_mask(SigmaskHow::SIG_BLOCK) {
        Ok(old) => old,
        Err(e) => return fail_early(ready, &format!("sigprocmask: {e}")),
    };
    let code = match SignalFd::with_flags(&sigs, SfdFlags::SFD_CLOEXEC | SfdFlags::SFD_NONBLOCK) {
        Ok(sfd) => {
            let code = run(&cfg, ready, sfd.as_fd());
            // Consume the signal that stopped us: left pending, it would be
            // delivered (and kill the process) once the mask is restored.
            while let Ok(Some(_)) = sfd.read_signal() {}
            code
        }
        Err(e) => fail_early(ready, &format!("signalfd: {e}")),
    };
    if let Err(e) = old.thread_set_mask() {
        eprintln!("docker-proxy: restoring signal mask: {e}");
    }
    code
}

fn fail_early(ready: Option<ReadyFd>, msg: &str) -> i32 {
    eprintln!("docker-proxy: {msg}");
    if let Some(r) = ready {
        r.fail(msg);
    }
    1
}

/// Binds `cfg.host`, reports on `ready`, then serves until `stop` becomes
/// readable; returns the exit code (0 stopped, 1 bind or loop failure).
pub fn run(cfg: &Config, ready: Option<ReadyFd>, stop: BorrowedFd<'_>) -> i32 {
    let served = match cfg.proto {
        Proto::Tcp => match bind_tcp(cfg.host) {
            Ok(l) => {
                report_ready(ready);
                serve_tcp(l, cfg.container, stop)
            }
            Err(msg) => return fail_early(ready, &msg),
        },
        Proto::Udp => match bind_udp(cfg.host) {
            Ok(s) => {
                report_ready(ready);
                serve_udp(s, cfg.container, UDP_IDLE_TIMEOUT, stop)
            }
            Err(msg) => return fail_early(ready, &msg),
        },
    };
    match served {
        Ok(()) => 0,
        Err(e) => {
            eprintln!(
                "docker-proxy: {} {} -> {}: {e}",
                cfg.proto, cfg.host, cfg.container
            );
            1
        }
    }
}

fn report_ready(ready: Option<ReadyFd>) {
    if let Some(r) = ready {
        r.ready();
    }
}
