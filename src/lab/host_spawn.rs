//! The lab host's process spawner: the host's init (PID 1 of the lab host's PID
//! namespace, see [`super::hostinit`]) forks the lab's long-lived processes — container
//! shims, docker-proxies, the embedded DNS server — on request, as containerd starts
//! shims on a Docker host.
//!
//! Why not fork them from the CLI, inside the host's PID namespace (`setns` on a
//! thread, then fork)? Two reasons, both measured:
//!
//! * A process that joins a PID namespace by `setns` + fork keeps its parent *outside*
//!   the namespace; when that parent (the CLI) exits, the kernel hands the orphan to the
//!   machine's init, not to the namespace's. `ps -ef` in the lab host then shows PPID 0,
//!   and when the lab host's init dies the kernel waits until the machine's init has
//!   reaped every such zombie (`zap_pid_ns_processes`) — on a classroom VM whose init
//!   reaps about once a second, `lab down` waited 1.5 s for nothing.
//! * Forking the CLI (a multi-threaded process with a runtime) and exec'ing the 9 MB
//!   binary again costs ~2 ms per container; the host's init is small and
//!   single-threaded, so its fork is cheap and a shim can run straight from the fork,
//!   without an exec, when the init runs the very binary the CLI runs.
//!
//! The protocol: one `SOCK_SEQPACKET` connection to `<lab dir>/host.sock` per process,
//! one message (a JSON [`Request`] plus the descriptors it names, `SCM_RIGHTS`), one
//! answer (`ok` with the child's PID as `SCM_CREDENTIALS`, which the kernel translates
//! into the CLI's PID namespace; or `error …`).

use crate::util::ProcRef;
use nix::sys::socket::{
    AddressFamily, ControlMessage, ControlMessageOwned, MsgFlags, SockFlag, SockType, UnixAddr,
    UnixCredentials, recvmsg, sendmsg, sockopt,
};
use std::io::{IoSlice, IoSliceMut};
use std::os::fd::{AsRawFd, BorrowedFd, FromRawFd, OwnedFd, RawFd};
use std::path::{Path, PathBuf};

/// The socket's file name in the lab directory.
pub const SOCKET: &str = "host.sock";
/// Most descriptors one request passes.
const MAX_FDS: usize = 8;
/// Largest request (JSON).
const MAX_REQUEST: usize = 64 * 1024;

/// What to start and how, as the host's init receives it.
#[derive(Debug, Clone, Default, serde::Serialize, serde::Deserialize)]
pub struct Request {
    /// The program to exec; `None`: run a container shim straight from the fork (only
    /// asked when the init runs the same binary as the CLI).
    pub exe: Option<String>,
    /// The command line, `argv[0]` included.
    pub argv: Vec<String>,
    /// The whole environment (`K=V`).
    pub env: Vec<String>,
    /// Where each passed descriptor goes: (index in the passed list, fd number).
    pub place: Vec<(usize, i32)>,
    /// Index of the network namespace to enter.
    pub net: Option<usize>,
    /// Index of the UTS namespace to enter.
    pub uts: Option<usize>,
    /// `CLONE_NEW*` flags to unshare (PID, IPC, ...).
    pub unshare: i32,
    /// Unshare a UTS namespace too when none is entered (a container's own hostname).
    pub new_uts_unless_joined: bool,
    /// A new session (`setsid`).
    pub setsid: bool,
    /// A process group of its own (when not in a new session).
    pub process_group: bool,
}

/// The path of a lab's spawner socket.
pub fn socket_path(lab_dir: &Path) -> PathBuf {
    lab_dir.join(SOCKET)
}

/// True when the host's init runs the very binary this process runs (same file), so a
/// shim can run from its fork without an exec.
pub fn same_binary(init: &ProcRef) -> bool {
    use std::os::unix::fs::MetadataExt;
    let id = |p: &str| std::fs::metadata(p).ok().map(|m| (m.dev(), m.ino()));
    let theirs = id(&format!("/proc/{}/exe", init.pid));
    theirs.is_some() && theirs == id("/proc/self/exe")
}

/// Ask the lab host's init to start a process. `Ok(None)`: this lab's init has no
/// spawner (started by an older dockernet, or gone) — the caller starts the process
/// itself. The PID returned is the root PID namespace's.
pub fn spawn(
    lab_dir: &Path,
    req: &Request,
    fds: &[BorrowedFd<'_>],
) -> std::io::Result<Option<ProcRef>> {
    let path = socket_path(lab_dir);
    if !path.exists() {
        return Ok(None);
    }
    let sock = seqpacket_socket()?;
    let addr = UnixAddr::new(&path)?;
    if let Err(e) = nix::sys::socket::connect(sock.as_raw_fd(), &addr) {
        // A socket file without a listener: the init is gone (the lab is rebuilt).
        return match e {
            nix::errno::Errno::ECONNREFUSED | nix::errno::Errno::ENOENT => Ok(None),
            e => Err(e.into()),
        };
    }
    nix::sys::socket::setsockopt(&sock, sockopt::PassCred, &true)?;
    let body = serde_json::to_vec(req).map_err(std::io::Error::other)?;
    let raw: Vec<RawFd> = fds.iter().map(|f| f.as_raw_fd()).collect();
    let cmsg = [ControlMessage::ScmRights(&raw)];
    sendmsg::<()>(
        sock.as_raw_fd(),
        &[IoSlice::new(&body)],
        if raw.is_empty() { &[] } else { &cmsg },
        MsgFlags::empty(),
        None,
    )?;
    let mut buf = [0u8; 512];
    let mut space = nix::cmsg_space!(libc::ucred);
    let mut iov = [IoSliceMut::new(&mut buf)];
    let msg = recvmsg::<()>(
        sock.as_raw_fd(),
        &mut iov,
        Some(&mut space),
        MsgFlags::empty(),
    )?;
    let mut pid = None;
    for c in msg.cmsgs()? {
        if let ControlMessageOwned::ScmCredentials(cred) = c {
            pid = Some(cred.pid());
        }
    }
    let n = msg.bytes;
    let answer = String::from_utf8_lossy(&buf[..n]).to_string();
    if let Some(why) = answer.strip_prefix("error ") {
        return Err(std::io::Error::other(why.to_string()));
    }
    match pid {
        // Gone already (a program that failed at once): a PID no process holds.
        Some(p) => Ok(Some(ProcRef::of(p).unwrap_or(ProcRef {
            pid: p,
            start_time: 0,
        }))),
        None => Err(std::io::Error::other(
            "the lab host's init did not say which process it started",
        )),
    }
}

/// A close-on-exec unix `SOCK_SEQPACKET` socket: one message per request, with its
/// descriptors, and the end of a connection seen as such.
fn seqpacket_socket() -> nix::Result<OwnedFd> {
    nix::sys::socket::socket(
        AddressFamily::Unix,
        SockType::SeqPacket,
        SockFlag::SOCK_CLOEXEC,
        None,
    )
}

/// Create the listening socket (in the init's parent, before it forks PID 1, so that
/// the socket exists when the CLI learns the init's PID).
pub fn listen(lab_dir: &Path) -> std::io::Result<OwnedFd> {
    let path = socket_path(lab_dir);
    let _ = std::fs::remove_file(&path);
    let sock = seqpacket_socket()?;
    nix::sys::socket::bind(sock.as_raw_fd(), &UnixAddr::new(&path)?)?;
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(
        &path,
        std::fs::Permissions::from_mode(crate::util::PRIVATE_FILE_MODE),
    )?;
    nix::sys::socket::listen(&sock, nix::sys::socket::Backlog::new(64)?)?;
    Ok(sock)
}

/// Serve one connection (in the init, single-threaded): read the request, fork the
/// process, answer. A malformed request gets an error answer; nothing here may end
/// the init.
pub fn serve_one(listener: &OwnedFd) {
    let Ok(conn) = nix::sys::socket::accept(listener.as_raw_fd()) else {
        return;
    };
    // SAFETY: accept returned a new descriptor that we own.
    let conn = unsafe { OwnedFd::from_raw_fd(conn) };
    // A client that connects and says nothing must not stall the lab's init.
    let _ = nix::sys::socket::setsockopt(
        &conn,
        sockopt::ReceiveTimeout,
        &nix::sys::time::TimeVal::new(2, 0),
    );
    let answer = match receive(&conn) {
        Ok((req, fds)) => start(&req, &fds, listener, &conn),
        Err(e) => Err(e),
    };
    match answer {
        Ok(pid) => {
            let cred = UnixCredentials::from(libc::ucred {
                pid,
                uid: 0,
                gid: 0,
            });
            let cmsg = [ControlMessage::ScmCredentials(&cred)];
            let _ = sendmsg::<()>(
                conn.as_raw_fd(),
                &[IoSlice::new(b"ok")],
                &cmsg,
                MsgFlags::empty(),
                None,
            );
        }
        Err(e) => {
            let text = format!("error {e}");
            let _ = sendmsg::<()>(
                conn.as_raw_fd(),
                &[IoSlice::new(text.as_bytes())],
                &[],
                MsgFlags::empty(),
                None,
            );
        }
    }
}

fn receive(conn: &OwnedFd) -> Result<(Request, Vec<OwnedFd>), String> {
    let mut buf = vec![0u8; MAX_REQUEST];
    let mut space = nix::cmsg_space!([RawFd; MAX_FDS]);
    let mut iov = [IoSliceMut::new(&mut buf)];
    let msg = recvmsg::<()>(
        conn.as_raw_fd(),
        &mut iov,
        Some(&mut space),
        MsgFlags::MSG_CMSG_CLOEXEC,
    )
    .map_err(|e| format!("reading the request: {e}"))?;
    let mut fds = Vec::new();
    for c in msg.cmsgs().map_err(|e| e.to_string())? {
        if let ControlMessageOwned::ScmRights(v) = c {
            // SAFETY: descriptors just received are ours to own.
            fds.extend(v.into_iter().map(|fd| unsafe { OwnedFd::from_raw_fd(fd) }));
        }
    }
    let n = msg.bytes;
    let req: Request =
        serde_json::from_slice(&buf[..n]).map_err(|e| format!("a malformed request: {e}"))?;
    Ok((req, fds))
}

/// Fork the process; the parent returns its PID.
fn start(
    req: &Request,
    fds: &[OwnedFd],
    listener: &OwnedFd,
    conn: &OwnedFd,
) -> Result<i32, String> {
    let index_ok = |i: &usize| *i < fds.len();
    if !req.place.iter().all(|(i, _)| index_ok(i))
        || !req.net.iter().chain(req.uts.iter()).all(index_ok)
    {
        return Err("a request names a descriptor it did not pass".into());
    }
    // SAFETY: the init is single-threaded; the child only sets itself up and execs or
    // runs the shim, which itself runs single-threaded.
    match unsafe { nix::unistd::fork() } {
        Ok(nix::unistd::ForkResult::Parent { child }) => Ok(child.as_raw()),
        Ok(nix::unistd::ForkResult::Child) => {
            let _ = nix::unistd::close(listener.as_raw_fd());
            let _ = nix::unistd::close(conn.as_raw_fd());
            let why = super::host_child::become_it(req, fds);
            // Nobody reads our stderr but the process's log: say it there.
            eprintln!("dockernet: starting {:?}: {why}", req.argv.first());
            // SAFETY: leaving the forked child without running the init's destructors.
            unsafe { libc::_exit(127) }
        }
        Err(e) => Err(format!("fork: {e}")),
    }
}
