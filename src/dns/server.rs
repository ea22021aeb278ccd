//! The embedded DNS server: one process per lab (as dockerd is one process), living in
//! the lab host's namespace. For every container on a user-defined network it holds a
//! UDP socket and a TCP listener on 127.0.0.11 *inside that container's namespace*
//! (bound by a short-lived thread that entered the namespace: a socket stays in the
//! namespace it was created in). Which socket a query arrives on says who asks, so
//! scoping needs no address lookup. One thread serves everything with epoll; UDP is
//! read and answered in batches (`recvmmsg` / `sendmmsg`).
//!
//! Queries it cannot answer go to the lab's upstream (the lab host's resolv.conf, the
//! internet DNS at 203.0.113.53) from the host's namespace, as Docker forwards
//! host-file servers from the host's.

use super::answer::{self, Outcome, Transport};
use super::control::{Moved, Reply, Request};
use super::index::{Index, NetInfo};
use super::udp::{Batch, recv_batch, send_batch};

mod forward;
mod tcp;
use crate::lab::{ContainerRecord, DnsPorts, Lab, Store};
use nix::sys::epoll::{Epoll, EpollCreateFlags, EpollEvent, EpollFlags};
use std::collections::HashMap;
use std::io::{BufRead, BufReader, Write};
use std::net::{Ipv4Addr, SocketAddr, TcpListener, TcpStream, UdpSocket};
use std::os::fd::{AsFd, AsRawFd, FromRawFd};
use std::os::unix::net::UnixListener;
use std::time::{Duration, Instant};

/// Docker's `extIOTimeout`: how long a forwarded query may wait for the upstream.
const FORWARD_TIMEOUT: Duration = Duration::from_secs(4);
/// Docker's `maxConcurrent`: forwarded queries in flight; beyond it, REFUSED.
const MAX_FORWARDED: usize = 1024;
/// A TCP client that sends nothing for this long is closed.
const TCP_IDLE: Duration = Duration::from_secs(10);
/// The address every container's resolver answers on.
pub const RESOLVER_IP: Ipv4Addr = Ipv4Addr::new(127, 0, 0, 11);

const K_CONTROL: u64 = 0;
const K_UDP: u64 = 1;
const K_TCP_LISTEN: u64 = 2;
const K_TCP_CONN: u64 = 3;
const K_UPSTREAM: u64 = 4;

fn token(kind: u64, key: usize) -> u64 {
    (kind << 32) | key as u64
}

/// The sockets it holds inside one container's namespace.
struct Listener {
    container: String,
    udp: UdpSocket,
    tcp: TcpListener,
    ports: DnsPorts,
}

/// One TCP client connection.
struct Conn {
    container: String,
    stream: TcpStream,
    buf: Vec<u8>,
    last: Instant,
}

/// Where the answer to a forwarded query goes.
enum Client {
    Udp { listener: usize, addr: SocketAddr },
    Tcp { conn: usize },
}

struct Forwarded {
    client: Client,
    id: u16,
    query: Vec<u8>,
    at: Instant,
}

/// A slab: stable keys for epoll tokens, reused after removal.
struct Slab<T>(Vec<Option<T>>);

impl<T> Slab<T> {
    fn insert(&mut self, v: T) -> usize {
        if let Some(i) = self.0.iter().position(Option::is_none) {
            self.0[i] = Some(v);
            i
        } else {
            self.0.push(Some(v));
            self.0.len() - 1
        }
    }
    fn get(&self, k: usize) -> Option<&T> {
        self.0.get(k).and_then(Option::as_ref)
    }
    fn get_mut(&mut self, k: usize) -> Option<&mut T> {
        self.0.get_mut(k).and_then(Option::as_mut)
    }
    fn remove(&mut self, k: usize) -> Option<T> {
        self.0.get_mut(k).and_then(Option::take)
    }
    fn count(&self) -> usize {
        self.0.iter().filter(|v| v.is_some()).count()
    }
}

struct Server {
    store: Store,
    epoll: Epoll,
    control: UnixListener,
    index: Index,
    nets: HashMap<String, Option<NetInfo>>,
    listeners: Slab<Listener>,
    by_container: HashMap<String, usize>,
    conns: Slab<Conn>,
    upstream: Option<(UdpSocket, SocketAddr)>,
    pending: HashMap<u16, Forwarded>,
    next_id: u16,
    moved: Vec<Moved>,
    batch: Option<Batch>,
}

/// A container of another host as this host's resolver indexes it: only its overlay
/// endpoints (the networks the hosts share), no resolver or links of its own here.
fn as_remote(mut rec: crate::lab::ContainerRecord) -> crate::lab::ContainerRecord {
    rec.endpoints
        .retain(crate::driver::overlay::is_overlay_endpoint);
    rec.dns = None;
    rec.links.clear();
    rec
}

/// Entry point of `dockernet-dns --lab NAME --control-fd N`.
pub fn main(args: &[String]) -> i32 {
    let mut lab = None;
    let mut host = None;
    let mut fd = None;
    let mut it = args.iter();
    while let Some(a) = it.next() {
        match a.as_str() {
            "--lab" => lab = it.next().cloned(),
            "--host" => host = it.next().cloned(),
            "--control-fd" => fd = it.next().and_then(|v| v.parse::<i32>().ok()),
            _ => {}
        }
    }
    let (Some(lab), Some(fd)) = (lab, fd) else {
        eprintln!("usage: dockernet-dns --lab NAME [--host NAME] --control-fd FD");
        return 2;
    };
    let host = host.unwrap_or_else(|| crate::lab::FIRST_HOST.to_string());
    let lab = match Lab::new(&lab).and_then(|l| l.on_host(&host)) {
        Ok(l) => l,
        Err(e) => {
            eprintln!("dockernet-dns: {e}");
            return 1;
        }
    };
    // SAFETY: the parent bound this Unix listener and left it open for us alone.
    let control = unsafe { UnixListener::from_raw_fd(fd) };
    match Server::new(&lab, control).and_then(|mut s| s.run()) {
        Ok(()) => 0,
        Err(e) => {
            eprintln!("dockernet-dns: {e}");
            1
        }
    }
}

/// The first usable nameserver of a resolv.conf.
pub fn upstream_of(resolv_conf: &str) -> Option<Ipv4Addr> {
    resolv_conf.lines().find_map(|l| {
        let ns = l.trim().strip_prefix("nameserver")?.trim();
        let ip: Ipv4Addr = ns.parse().ok()?;
        (!ip.is_loopback()).then_some(ip)
    })
}

/// Bind 127.0.0.11 UDP and TCP inside a namespace, on `ports` (0: any), from a thread
/// of its own: `setns` changes only the calling thread, and the sockets stay in the
/// namespace they were created in.
fn bind_in(netns: &std::path::Path, ports: DnsPorts) -> std::io::Result<(UdpSocket, TcpListener)> {
    let path = netns.to_owned();
    std::thread::spawn(move || -> std::io::Result<(UdpSocket, TcpListener)> {
        let ns = std::fs::File::open(&path)?;
        nix::sched::setns(ns.as_fd(), nix::sched::CloneFlags::CLONE_NEWNET)
            .map_err(std::io::Error::from)?;
        let udp = UdpSocket::bind((RESOLVER_IP, ports.udp))?;
        let tcp = TcpListener::bind((RESOLVER_IP, ports.tcp))?;
        Ok((udp, tcp))
    })
    .join()
    .unwrap_or_else(|_| Err(std::io::Error::other("the binding thread panicked")))
}

fn io_err(e: nix::Error) -> String {
    std::io::Error::from(e).to_string()
}

impl Server {
    fn new(lab: &Lab, control: UnixListener) -> Result<Server, String> {
        let epoll = Epoll::new(EpollCreateFlags::EPOLL_CLOEXEC).map_err(io_err)?;
        control.set_nonblocking(true).map_err(|e| e.to_string())?;
        epoll
            .add(
                &control,
                EpollEvent::new(EpollFlags::EPOLLIN, token(K_CONTROL, 0)),
            )
            .map_err(io_err)?;
        let resolv = std::fs::read_to_string(lab.host_resolv_conf()).unwrap_or_default();
        let upstream = match upstream_of(&resolv) {
            Some(ip) => {
                let s = UdpSocket::bind((Ipv4Addr::UNSPECIFIED, 0)).map_err(|e| e.to_string())?;
                s.set_nonblocking(true).map_err(|e| e.to_string())?;
                epoll
                    .add(
                        &s,
                        EpollEvent::new(EpollFlags::EPOLLIN, token(K_UPSTREAM, 0)),
                    )
                    .map_err(io_err)?;
                Some((s, SocketAddr::from((ip, 53))))
            }
            None => None,
        };
        let mut s = Server {
            store: lab.store(),
            epoll,
            control,
            index: Index::default(),
            nets: HashMap::new(),
            listeners: Slab(Vec::new()),
            by_container: HashMap::new(),
            conns: Slab(Vec::new()),
            upstream,
            pending: HashMap::new(),
            next_id: 1,
            moved: Vec::new(),
            batch: Some(Batch::new()),
        };
        s.reload_all();
        eprintln!(
            "dockernet-dns: serving {}, upstream {}",
            if s.index.is_empty() {
                "no container yet".to_string()
            } else {
                format!("{} containers", s.index.len())
            },
            s.upstream
                .as_ref()
                .map(|u| u.1.to_string())
                .unwrap_or_else(|| "none".into())
        );
        Ok(s)
    }

    /// After a restart: listen again in every container that had a resolver, on the
    /// ports its redirect rules name when they are still free.
    fn reload_all(&mut self) {
        for id in self.store.container_ids() {
            let Ok(Some(rec)) = self.store.container(&id) else {
                continue;
            };
            if let Some(ports) = rec.dns {
                match self.listen(&rec, ports) {
                    Ok(now) if now != ports => self.moved.push(Moved {
                        id: id.clone(),
                        ports: now,
                    }),
                    Ok(_) => {}
                    Err(e) => eprintln!("dockernet-dns: {}: {e}", rec.name),
                }
            }
            self.index_record(&rec);
        }
        // The other hosts' containers on overlays this host has.
        let me = self.store.lab_ref().clone();
        for there in crate::lab::hosts::all(&me) {
            if there.host == me.host {
                continue;
            }
            let store = there.store();
            for id in store.container_ids() {
                if let Ok(Some(rec)) = store.container(&id) {
                    self.index_record(&as_remote(rec));
                }
            }
        }
    }

    fn net_info(&mut self, id: &str) -> Option<NetInfo> {
        if let Some(i) = self.nets.get(id) {
            return i.clone();
        }
        let info = self.store.network(id).ok().flatten().map(|n| NetInfo {
            name: n.name.clone(),
            internal: n.internal,
            // Docker's gateway endpoints (`gateway_<id>` on docker_gwbridge) register no
            // names: the overlay answers for the container.
            user_defined: !n.predefined && n.name != crate::overlay::GWBRIDGE,
        });
        self.nets.insert(id.to_string(), info.clone());
        info
    }

    fn index_record(&mut self, rec: &ContainerRecord) {
        let infos: HashMap<String, Option<NetInfo>> = rec
            .endpoints
            .iter()
            .map(|e| (e.network_id.clone(), self.net_info(&e.network_id)))
            .collect();
        self.index
            .update(rec, |id| infos.get(id).cloned().flatten());
    }

    /// Open (or keep) the container's sockets; returns the ports they are on.
    fn listen(&mut self, rec: &ContainerRecord, want: DnsPorts) -> Result<DnsPorts, String> {
        if let Some(l) = self
            .by_container
            .get(&rec.id)
            .and_then(|k| self.listeners.get(*k))
        {
            return Ok(l.ports);
        }
        let path = crate::netns::path(&rec.netns);
        let (udp, tcp) = bind_in(&path, want)
            .or_else(|_| bind_in(&path, DnsPorts { udp: 0, tcp: 0 }))
            .map_err(|e| format!("listening in {}: {e}", rec.netns))?;
        let ports = DnsPorts {
            udp: udp.local_addr().map_err(|e| e.to_string())?.port(),
            tcp: tcp.local_addr().map_err(|e| e.to_string())?.port(),
        };
        udp.set_nonblocking(true).map_err(|e| e.to_string())?;
        tcp.set_nonblocking(true).map_err(|e| e.to_string())?;
        let key = self.listeners.insert(Listener {
            container: rec.id.clone(),
            udp,
            tcp,
            ports,
        });
        let l = self.listeners.get(key).expect("just inserted");
        self.epoll
            .add(
                &l.udp,
                EpollEvent::new(EpollFlags::EPOLLIN, token(K_UDP, key)),
            )
            .map_err(io_err)?;
        self.epoll
            .add(
                &l.tcp,
                EpollEvent::new(EpollFlags::EPOLLIN, token(K_TCP_LISTEN, key)),
            )
            .map_err(io_err)?;
        self.by_container.insert(rec.id.clone(), key);
        eprintln!(
            "dockernet-dns: {} ({}): 127.0.0.11:{}/udp :{}/tcp",
            rec.name, rec.netns, ports.udp, ports.tcp
        );
        Ok(ports)
    }

    fn forget(&mut self, id: &str) {
        self.index.remove(id);
        if let Some(key) = self.by_container.remove(id)
            && let Some(l) = self.listeners.remove(key)
        {
            let _ = self.epoll.delete(&l.udp);
            let _ = self.epoll.delete(&l.tcp);
        }
        let stale: Vec<usize> = (0..self.conns.0.len())
            .filter(|k| self.conns.get(*k).is_some_and(|c| c.container == id))
            .collect();
        for k in stale {
            self.close_conn(k);
        }
        self.moved.retain(|m| m.id != id);
    }

    fn handle_request(&mut self, req: Request) -> Reply {
        match req {
            Request::Attach { id } => {
                let rec = match self.store.container(&id) {
                    Ok(Some(r)) => r,
                    Ok(None) => return Reply::fail(format!("no container {id}")),
                    Err(e) => return Reply::fail(e.to_string()),
                };
                let want = rec.dns.unwrap_or(DnsPorts { udp: 0, tcp: 0 });
                match self.listen(&rec, want) {
                    Ok(ports) => {
                        self.index_record(&rec);
                        Reply {
                            ports: Some(ports),
                            ..Reply::ok()
                        }
                    }
                    Err(e) => Reply::fail(e),
                }
            }
            Request::Sync { id } => {
                match self.store.container(&id) {
                    Ok(Some(rec)) => self.index_record(&rec),
                    Ok(None) => self.forget(&id),
                    Err(e) => return Reply::fail(e.to_string()),
                }
                Reply::ok()
            }
            Request::Remote { host, id } => {
                let Ok(there) = self.store.lab_ref().on_host(&host) else {
                    return Reply::fail(format!("no host {host}"));
                };
                match there.store().container(&id) {
                    Ok(Some(rec)) => self.index_record(&as_remote(rec)),
                    Ok(None) => self.forget(&id),
                    Err(e) => return Reply::fail(e.to_string()),
                }
                Reply::ok()
            }
            Request::Forget { id } => {
                self.forget(&id);
                Reply::ok()
            }
            Request::Names { id } => Reply {
                names: self.index.names_in_scope(&id),
                ..Reply::ok()
            },
            Request::Status => Reply {
                containers: self.index.len(),
                listeners: self.listeners.count(),
                moved: self.moved.clone(),
                upstream: self.upstream.as_ref().map(|u| u.1.ip().to_string()),
                ..Reply::ok()
            },
        }
    }

    fn on_control(&mut self) {
        while let Ok((stream, _)) = self.control.accept() {
            let _ = stream.set_nonblocking(false);
            let _ = stream.set_read_timeout(Some(Duration::from_secs(2)));
            let mut line = String::new();
            let mut reader = BufReader::new(&stream);
            if reader.read_line(&mut line).is_err() {
                continue;
            }
            let reply = match serde_json::from_str::<Request>(&line) {
                Ok(req) => self.handle_request(req),
                Err(e) => Reply::fail(format!("bad request: {e}")),
            };
            let mut out = serde_json::to_vec(&reply).unwrap_or_default();
            out.push(b'\n');
            let _ = (&stream).write_all(&out);
        }
    }

    fn run(&mut self) -> Result<(), String> {
        let mut events = vec![EpollEvent::empty(); 64];
        let mut last_sweep = Instant::now();
        loop {
            let n = match self.epoll.wait(&mut events, 250u16) {
                Ok(n) => n,
                Err(nix::errno::Errno::EINTR) => 0,
                Err(e) => return Err(io_err(e)),
            };
            for ev in &events[..n] {
                let t = ev.data();
                let key = (t & 0xffff_ffff) as usize;
                match t >> 32 {
                    K_CONTROL => self.on_control(),
                    K_UDP => self.on_udp(key),
                    K_TCP_LISTEN => self.on_accept(key),
                    K_TCP_CONN => self.on_conn(key),
                    K_UPSTREAM => self.on_upstream(),
                    _ => {}
                }
            }
            if last_sweep.elapsed() > Duration::from_millis(250) {
                self.sweep();
                last_sweep = Instant::now();
            }
        }
    }

    fn on_udp(&mut self, key: usize) {
        // The batch is taken out for the loop so that forwarding (which needs `self`)
        // can read the queries in place.
        let Some(mut batch) = self.batch.take() else {
            return;
        };
        let mut replies: Vec<(SocketAddr, Vec<u8>)> = Vec::with_capacity(batch.capacity());
        while let Some(l) = self.listeners.get(key) {
            let fd = l.udp.as_raw_fd();
            let asker = l.container.clone();
            let n = recv_batch(fd, &mut batch);
            if n == 0 {
                break;
            }
            replies.clear();
            for i in 0..n {
                let (addr, query) = batch.message(i);
                match answer::answer(&self.index, &asker, query, Transport::Udp) {
                    Outcome::Reply(b) => replies.push((addr, b)),
                    Outcome::Drop => {}
                    Outcome::Forward => {
                        let client = Client::Udp {
                            listener: key,
                            addr,
                        };
                        if let Some(b) = self.forward(&asker, query, client) {
                            replies.push((addr, b));
                        }
                    }
                }
            }
            send_batch(fd, &replies);
            if n < batch.capacity() {
                break;
            }
        }
        self.batch = Some(batch);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn upstream_is_the_first_non_loopback_nameserver() {
        assert_eq!(
            upstream_of("# x\nnameserver 127.0.0.53\nnameserver 203.0.113.53\n"),
            Some(Ipv4Addr::new(203, 0, 113, 53))
        );
        assert_eq!(upstream_of("search lab\n"), None);
    }
}
