//! dockernet's recorded steps (the `steps` undo logs of network.json and of each
//! endpoint in record.json), read as JSON, and replayed in-process with the same netlink
//! requests as src/link and the same `iptables-restore --noflush` batch: the kernel
//! work of a command alone, without its process start, lock and state files.
//!
//! The bench reads the records as plain JSON (the library keeps its modules private),
//! so only the fields used here have to stay as they are.

use crate::peers::Res;
use futures::TryStreamExt;
use rtnetlink::packet_route::link::{InfoData, InfoKind, InfoVeth};
use rtnetlink::{
    Handle, LinkBridge, LinkMessageBuilder, LinkUnspec, LinkVeth, RouteMessageBuilder,
};
use serde_json::Value;
use std::collections::HashMap;
use std::fs::File;
use std::io::Write;
use std::net::{IpAddr, Ipv4Addr};
use std::os::fd::{AsRawFd, FromRawFd, IntoRawFd};
use std::os::unix::process::CommandExt;
use std::process::{Child, Command, Stdio};
use std::time::Instant;

/// One recorded step the replay knows (the others are notes, or absent from the
/// commands measured here: an unknown one makes the replay fail loudly).
#[derive(Clone, Debug)]
pub enum St {
    BridgeAdd {
        ns: String,
        name: String,
        mac: String,
    },
    VethAdd {
        ns: String,
        name: String,
        master: Option<String>,
        peer: String,
        peer_ns: String,
        peer_mac: Option<String>,
    },
    AddrAdd {
        ns: String,
        dev: String,
        cidr: String,
    },
    LinkUp {
        ns: String,
        dev: String,
    },
    RouteDefault {
        ns: String,
        via: Ipv4Addr,
    },
    /// One batch: its `iptables-restore --noflush` input, and the input that undoes it.
    Firewall {
        ns: String,
        add: String,
        del: String,
    },
    Note,
}

fn s(v: &Value, k: &str) -> Res<String> {
    v.get(k)
        .and_then(Value::as_str)
        .map(String::from)
        .ok_or_else(|| format!("step field {k} missing in {v}"))
}

fn opt(v: &Value, k: &str) -> Option<String> {
    v.get(k).and_then(Value::as_str).map(String::from)
}

/// One batch operation as (table, restore line, inverse line if any).
fn op_lines(op: &Value) -> Res<(String, String, Option<String>)> {
    let (kind, body) = op
        .as_object()
        .and_then(|o| o.iter().next())
        .ok_or_else(|| format!("bad firewall op {op}"))?;
    let rule = |r: &Value| -> Res<(String, String, String)> {
        Ok((s(r, "table")?, s(r, "chain")?, s(r, "args")?))
    };
    Ok(match kind.as_str() {
        "NewChain" => (
            s(body, "table")?,
            format!(":{} - [0:0]", s(body, "chain")?),
            None,
        ),
        "Policy" => (
            s(body, "table")?,
            format!(":{} {} [0:0]", s(body, "chain")?, s(body, "policy")?),
            None,
        ),
        "Append" | "Insert" | "Delete" => {
            let (t, c, a) = rule(body)?;
            let flag = &kind[..1];
            let inv = (kind != "Delete").then(|| format!("-D {c} {a}"));
            (t, format!("-{flag} {c} {a}"), inv)
        }
        "InsertAt" => {
            let (t, c, a) = rule(body.get("rule").ok_or("InsertAt without rule")?)?;
            let pos = body
                .get("pos")
                .and_then(Value::as_u64)
                .ok_or("InsertAt without pos")?;
            (
                t.clone(),
                format!("-I {c} {pos} {a}"),
                Some(format!("-D {c} {a}")),
            )
        }
        other => return Err(format!("unknown firewall op {other}")),
    })
}

/// Restore text from (table, line) pairs: one block per table, tables in first-use order
/// (as dockernet's `Batch::restore_text`).
fn restore_text(lines: &[(String, String)]) -> String {
    let mut tables: Vec<&str> = Vec::new();
    for (t, _) in lines {
        if !tables.contains(&t.as_str()) {
            tables.push(t);
        }
    }
    let mut out = String::new();
    for t in tables {
        out.push_str(&format!("*{t}\n"));
        for (_, l) in lines.iter().filter(|(tt, _)| tt == t) {
            out.push_str(l);
            out.push('\n');
        }
        out.push_str("COMMIT\n");
    }
    out
}

/// Parse a `steps` array.
pub fn parse(steps: &Value) -> Res<Vec<St>> {
    let arr = steps.as_array().ok_or("steps is not an array")?;
    arr.iter()
        .map(|v| {
            Ok(match s(v, "op")?.as_str() {
                "note" => St::Note,
                "bridge_add" => St::BridgeAdd {
                    ns: s(v, "ns")?,
                    name: s(v, "name")?,
                    mac: s(v, "mac")?,
                },
                "veth_add" => St::VethAdd {
                    ns: s(v, "ns")?,
                    name: s(v, "name")?,
                    master: opt(v, "master"),
                    peer: s(v, "peer")?,
                    peer_ns: s(v, "peer_ns")?,
                    peer_mac: opt(v, "peer_mac"),
                },
                "addr_add" => St::AddrAdd {
                    ns: s(v, "ns")?,
                    dev: s(v, "dev")?,
                    cidr: s(v, "cidr")?,
                },
                "link_up" => St::LinkUp {
                    ns: s(v, "ns")?,
                    dev: s(v, "dev")?,
                },
                "route_default" => St::RouteDefault {
                    ns: s(v, "ns")?,
                    via: s(v, "via")?
                        .parse()
                        .map_err(|e| format!("route via: {e}"))?,
                },
                "firewall" => {
                    let ops = v
                        .pointer("/batch/ops")
                        .and_then(Value::as_array)
                        .ok_or("firewall step without batch.ops")?;
                    let mut add = Vec::new();
                    let mut del = Vec::new();
                    for op in ops {
                        let (t, line, inv) = op_lines(op)?;
                        if let Some(i) = inv {
                            del.push((t.clone(), i));
                        }
                        add.push((t, line));
                    }
                    del.reverse();
                    St::Firewall {
                        ns: s(v, "ns")?,
                        add: restore_text(&add),
                        del: restore_text(&del),
                    }
                }
                other => return Err(format!("step {other} is not replayed by the bench")),
            })
        })
        .collect()
}

fn parse_mac(m: &str) -> Res<Vec<u8>> {
    m.split(':')
        .map(|p| u8::from_str_radix(p, 16).map_err(|e| format!("mac {m}: {e}")))
        .collect()
}

/// Start `iptables-restore --noflush` inside `/run/netns/NS`, fed `text`.
pub fn start_restore(ns: &str, text: &str) -> Res<Child> {
    let fd = File::open(format!("/run/netns/{ns}")).map_err(|e| format!("netns {ns}: {e}"))?;
    let mut cmd = Command::new("iptables-restore");
    cmd.arg("--noflush");
    // SAFETY: setns(2) only, async-signal-safe, between fork and exec.
    unsafe {
        cmd.pre_exec(move || {
            if libc::setns(fd.as_raw_fd(), libc::CLONE_NEWNET) < 0 {
                return Err(std::io::Error::last_os_error());
            }
            Ok(())
        });
    }
    let mut child = cmd
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| format!("iptables-restore: {e}"))?;
    child
        .stdin
        .take()
        .expect("piped")
        .write_all(text.as_bytes())
        .map_err(|e| format!("iptables-restore stdin: {e}"))?;
    Ok(child)
}

/// Wait for a started `iptables-restore`.
pub fn wait_restore(child: Child) -> Res<()> {
    let out = child.wait_with_output().map_err(|e| e.to_string())?;
    if !out.status.success() {
        return Err(format!(
            "iptables-restore: {}",
            String::from_utf8_lossy(&out.stderr).trim()
        ));
    }
    Ok(())
}

/// Netlink connections, one per namespace, opened on first use as dockernet's
/// executor does (the socket is created by a thread inside the namespace).
struct Links {
    by_ns: HashMap<String, (Handle, tokio::task::JoinHandle<()>)>,
}

impl Links {
    fn get(&mut self, ns: &str) -> Res<Handle> {
        if let Some((h, _)) = self.by_ns.get(ns) {
            return Ok(h.clone());
        }
        let file =
            File::open(format!("/run/netns/{ns}")).map_err(|e| format!("netns {ns}: {e}"))?;
        let fd = std::thread::scope(|sc| {
            sc.spawn(|| -> Res<i32> {
                // SAFETY: setns(2) on this short-lived thread only.
                if unsafe { libc::setns(file.as_raw_fd(), libc::CLONE_NEWNET) } < 0 {
                    return Err(format!("setns {ns}: {}", std::io::Error::last_os_error()));
                }
                let sock = rtnetlink::sys::Socket::new(rtnetlink::sys::protocols::NETLINK_ROUTE)
                    .map_err(|e| format!("netlink socket: {e}"))?;
                Ok(sock.into_raw_fd())
            })
            .join()
            .map_err(|_| "netlink thread panicked".to_string())?
        })?;
        // SAFETY: the fd was just created and is owned by nobody else.
        let ts = unsafe { rtnetlink::sys::TokioSocket::from_raw_fd(fd) };
        let (conn, handle, _msgs) = rtnetlink::from_socket(ts);
        let task = tokio::spawn(conn);
        self.by_ns.insert(ns.to_string(), (handle.clone(), task));
        Ok(handle)
    }

    async fn close(self) {
        for (_, (h, task)) in self.by_ns {
            drop(h);
            task.abort();
            let _ = task.await;
        }
    }
}

async fn index_of(h: &Handle, name: &str) -> Res<Option<u32>> {
    let mut links = h.link().get().match_name(name.to_string()).execute();
    match links.try_next().await {
        Ok(Some(m)) => Ok(Some(m.header.index)),
        Ok(None) => Ok(None),
        Err(rtnetlink::Error::NetlinkError(e))
            if e.code.map(|c| c.get().abs()) == Some(libc::ENODEV) =>
        {
            Ok(None)
        }
        Err(e) => Err(format!("looking up {name}: {e}")),
    }
}

async fn require(h: &Handle, name: &str) -> Res<u32> {
    index_of(h, name)
        .await?
        .ok_or_else(|| format!("no link {name}"))
}

/// One netlink step, with the requests src/link sends for it.
async fn apply(l: &mut Links, st: &St) -> Res<()> {
    let e = |what: &str| {
        let w = what.to_string();
        move |err: rtnetlink::Error| format!("{w}: {err}")
    };
    match st {
        St::BridgeAdd { ns, name, mac } => {
            let h = l.get(ns)?;
            let msg = LinkBridge::new(name).up().address(parse_mac(mac)?).build();
            h.link().add(msg).execute().await.map_err(e("bridge add"))?;
            require(&h, name).await?;
        }
        St::VethAdd {
            ns,
            name,
            master,
            peer,
            peer_ns,
            peer_mac,
        } => {
            let h = l.get(ns)?;
            let m = match master {
                Some(m) => Some(require(&h, m).await?),
                None => None,
            };
            let ns_file = File::open(format!("/run/netns/{peer_ns}"))
                .map_err(|er| format!("netns {peer_ns}: {er}"))?;
            let mut p = LinkUnspec::new_with_name(peer).setns_by_fd(ns_file.as_raw_fd());
            if let Some(mac) = peer_mac {
                p = p.address(parse_mac(mac)?);
            }
            let mut msg = LinkMessageBuilder::<LinkVeth>::new_with_info_kind(InfoKind::Veth)
                .name(name.clone())
                .up()
                .set_info_data(InfoData::Veth(InfoVeth::Peer(p.build())));
            if let Some(m) = m {
                msg = msg.controller(m);
            }
            h.link()
                .add(msg.build())
                .execute()
                .await
                .map_err(e("veth add"))?;
            drop(ns_file);
        }
        St::AddrAdd { ns, dev, cidr } => {
            let h = l.get(ns)?;
            let (a, p) = cidr.split_once('/').ok_or("cidr without prefix")?;
            let addr: IpAddr = a.parse().map_err(|er| format!("{cidr}: {er}"))?;
            let plen: u8 = p.parse().map_err(|er| format!("{cidr}: {er}"))?;
            let i = require(&h, dev).await?;
            h.address()
                .add(i, addr, plen)
                .execute()
                .await
                .map_err(e("addr add"))?;
        }
        St::LinkUp { ns, dev } => {
            let h = l.get(ns)?;
            let i = require(&h, dev).await?;
            h.link()
                .set(LinkUnspec::new_with_index(i).up().build())
                .execute()
                .await
                .map_err(e("link up"))?;
        }
        St::RouteDefault { ns, via } => {
            let h = l.get(ns)?;
            let msg = RouteMessageBuilder::<Ipv4Addr>::new()
                .gateway(*via)
                .protocol(rtnetlink::packet_route::route::RouteProtocol::Boot)
                .build();
            h.route().add(msg).execute().await.map_err(e("route add"))?;
        }
        St::Firewall { .. } | St::Note => {}
    }
    Ok(())
}

/// Undo one step: links deleted (their addresses and routes go with them), batches
/// reversed.
async fn undo(l: &mut Links, st: &St) -> Res<()> {
    match st {
        St::BridgeAdd { ns, name, .. } | St::VethAdd { ns, name, .. } => {
            let h = l.get(ns)?;
            if let Some(i) = index_of(&h, name).await? {
                h.link()
                    .del(i)
                    .execute()
                    .await
                    .map_err(|er| format!("link del {name}: {er}"))?;
            }
        }
        St::Firewall { ns, del, .. } => wait_restore(start_restore(ns, del)?)?,
        _ => {}
    }
    Ok(())
}

/// Times of one [`replay`], ms.
#[derive(Clone, Copy, Debug, Default)]
pub struct Replayed {
    /// Building the steps.
    pub up: f64,
    /// Undoing them.
    pub down: f64,
    /// The part of `down` spent in rule batches (`iptables-restore` with `-D` lines).
    pub down_rules: f64,
}

/// Build the steps as dockernet's `run_all` does (the first rule batch started before
/// the netlink steps, waited for at the end), then undo them in reverse order.
pub fn replay(rt: &tokio::runtime::Runtime, steps: &[St]) -> Res<Replayed> {
    rt.block_on(async {
        let mut l = Links {
            by_ns: HashMap::new(),
        };
        let t = Instant::now();
        let mut pending = Vec::new();
        let mut r = Ok(());
        for st in steps {
            if let St::Firewall { ns, add, .. } = st {
                match start_restore(ns, add) {
                    Ok(c) => pending.push(c),
                    Err(er) => r = Err(er),
                }
            }
        }
        if r.is_ok() {
            for st in steps {
                if let Err(er) = apply(&mut l, st).await {
                    r = Err(er);
                    break;
                }
            }
        }
        for c in pending {
            if let Err(er) = wait_restore(c) {
                r = r.and(Err(er));
            }
        }
        let up = t.elapsed().as_secs_f64() * 1e3;
        let t = Instant::now();
        let mut u = Ok(());
        let mut down_rules = 0.0;
        for st in steps.iter().rev() {
            let t1 = Instant::now();
            if let Err(er) = undo(&mut l, st).await {
                u = u.and(Err(er));
            }
            if matches!(st, St::Firewall { .. }) {
                down_rules += t1.elapsed().as_secs_f64() * 1e3;
            }
        }
        let down = t.elapsed().as_secs_f64() * 1e3;
        l.close().await;
        r.map_err(|er| format!("replaying steps: {er}"))?;
        u.map_err(|er| format!("undoing replayed steps: {er}"))?;
        Ok(Replayed {
            up,
            down,
            down_rules,
        })
    })
}
