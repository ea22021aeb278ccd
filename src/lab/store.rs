//! Where the records live: one small JSON file per object under /run/dockernet/<lab>/,
//! so that a command reads and writes only the objects it touches, whatever the size
//! of the lab.
//!
//! ```text
//! lab.json                         the lab and its daemon (LabRecord)
//! networks/<id>/network.json       a network (NetworkRecord)
//! networks/<id>/members/<ctr id>   one attached container (Member), for inspect
//! networks/<id>/ips/<a.b.c.d>      an allocated address (IPAM), holding the container id
//! netnames/<name>                  network name -> id
//! containers/<id>/record.json      a container (ContainerRecord), beside its /etc files
//! names/<name>                     container name -> id
//! pending/<id>                     a creation in progress (rolled back if its process died)
//! exited/<id>                      written by a container's shim when its process ends
//! ```
//!
//! Every file is replaced atomically (write, rename), so readers need no lock; every
//! write goes through the [`Executor`], which drops it under `--dry-run`.

use super::Lab;
use super::state::{ContainerRecord, LabRecord, Member, NetworkRecord, SCHEMA};
use crate::error::{Context, Error, Result};
use crate::step::Executor;
use crate::util::ProcRef;
use serde::de::DeserializeOwned;
use std::net::Ipv4Addr;
use std::path::{Path, PathBuf};

/// What a `pending/<id>` entry is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PendingKind {
    /// A container being created or started.
    Container,
    /// A network being created.
    Network,
    /// A container being connected to a network (`id` is the container's).
    Connect,
    /// Containers being removed (`rm`, `id` and `batch`): the next command finishes the
    /// removal if the process doing it died.
    Remove,
}

/// A creation in progress.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Pending {
    /// The object's id.
    pub id: String,
    /// What it is.
    pub kind: PendingKind,
    /// The process doing it.
    pub creator: Option<ProcRef>,
    /// For a connect: the network's id.
    #[serde(default)]
    pub network: Option<String>,
    /// For a removal of several containers: the others (one entry journals the batch).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub batch: Vec<String>,
}

impl Pending {
    /// Every object the entry is about: `id`, then `batch`.
    pub fn ids(&self) -> impl Iterator<Item = &str> {
        std::iter::once(self.id.as_str()).chain(self.batch.iter().map(String::as_str))
    }
}

/// The files of one lab.
#[derive(Debug, Clone)]
pub struct Store {
    lab: Lab,
}

fn parse_json<T: DeserializeOwned>(
    path: &Path,
    read: std::io::Result<Vec<u8>>,
) -> Result<Option<T>> {
    match read {
        Ok(bytes) => serde_json::from_slice(&bytes).map(Some).map_err(|e| {
            Error::msg(crate::ui::tr(
                format!("{} is damaged ({e})", path.display()),
                format!("{} 已损坏（{e}）", path.display()),
            ))
        }),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(e).with_ctx(|| format!("reading {}", path.display())),
    }
}

/// Longest container name kept as it is in the name index; longer ones keep a head.
const NAME_INDEX_MAX: usize = 200;
const NAME_INDEX_HEAD: usize = 100;

/// 64-bit FNV-1a: stable across Rust releases (std's hash is not), as files outlive binaries.
fn fnv1a(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325, |h, &b| {
        (h ^ u64::from(b)).wrapping_mul(0x0000_0100_0000_01b3)
    })
}

fn encode<T: serde::Serialize>(v: &T) -> Result<Vec<u8>> {
    serde_json::to_vec(v).map_err(|e| Error::msg(format!("encoding state: {e}")))
}

fn not_found_network(key: &str) -> Error {
    Error::msg(format!(
        "Error response from daemon: network {key} not found"
    ))
}

impl Store {
    /// The store of a lab.
    pub fn new(lab: &Lab) -> Store {
        Store { lab: lab.clone() }
    }

    fn read_json<T: DeserializeOwned>(&self, path: &Path) -> Result<Option<T>> {
        // Whichever record is damaged, the way out is the same: name it.
        parse_json(path, self.read(path))
            .map_err(|e| Error::msg(format!("{e}; {}", self.way_out())))
    }

    /// The hint of every damaged-state error: `lab down` removes a lab by name.
    fn way_out(&self) -> String {
        crate::ui::tr(
            format!(
                "run `dockernet --lab {} lab down` to remove the lab",
                self.lab.name
            ),
            format!(
                "请运行 `dockernet --lab {} lab down` 删除这个实验环境",
                self.lab.name
            ),
        )
    }

    /// The lab these files belong to.
    pub fn lab_ref(&self) -> &Lab {
        &self.lab
    }

    fn dir(&self) -> PathBuf {
        self.lab.dir()
    }

    fn lab_path(&self) -> PathBuf {
        self.dir().join("lab.json")
    }

    /// The lab record; `None` if the lab was never built. A damaged file or one of
    /// another layout version is an error whose hint names the way out.
    pub fn lab(&self) -> Result<Option<LabRecord>> {
        let hint = || self.way_out();
        let rec: Option<LabRecord> = self.read_json(&self.lab_path())?;
        if let Some(r) = &rec
            && r.schema != SCHEMA
        {
            return Err(Error::msg(crate::ui::tr(
                format!(
                    "lab {} was built by another version of dockernet (state layout {}, this one reads {SCHEMA}); {}",
                    self.lab.name,
                    r.schema,
                    hint()
                ),
                format!(
                    "实验环境 {} 由另一个版本的 dockernet 创建（状态格式 {}，本版本读取 {SCHEMA}）；{}",
                    self.lab.name,
                    r.schema,
                    hint()
                ),
            )));
        }
        if rec.is_none() && self.dir().join("state.json").exists() {
            return Err(Error::msg(crate::ui::tr(
                format!(
                    "lab {} was built by an older dockernet; {}",
                    self.lab.name,
                    hint()
                ),
                format!(
                    "实验环境 {} 由旧版 dockernet 创建；{}",
                    self.lab.name,
                    hint()
                ),
            )));
        }
        // Records without lab.json: the lab's state was lost (deleted, or a `lab down`
        // killed half-way), not a lab never built; building a new one over them would
        // drop its containers and networks silently.
        if rec.is_none()
            && ["networks", "containers"]
                .iter()
                .any(|d| self.dir().join(d).exists())
        {
            return Err(Error::msg(crate::ui::tr(
                format!(
                    "{} is missing while the lab's other records remain; {}",
                    self.lab_path().display(),
                    hint()
                ),
                format!(
                    "{} 已丢失，但实验环境的其他记录还在；{}",
                    self.lab_path().display(),
                    hint()
                ),
            )));
        }
        Ok(rec)
    }

    /// Save the lab record.
    pub fn save_lab(&self, ex: &Executor, r: &LabRecord) -> Result<()> {
        self.put(ex, &self.lab_path(), encode(r)?)
    }

    // ----- containers -------------------------------------------------------------

    /// A container's directory (record, /etc files, log).
    pub fn container_dir(&self, id: &str) -> PathBuf {
        self.lab.container_dir(id)
    }

    /// Ids of every container (a directory listing: no record is read).
    pub fn container_ids(&self) -> Vec<String> {
        self.list(&self.dir().join("containers"))
            .into_iter()
            .filter(|id| id.len() == 64)
            .collect()
    }

    /// One container by full id.
    pub fn container(&self, id: &str) -> Result<Option<ContainerRecord>> {
        self.read_json(&self.container_dir(id).join("record.json"))
    }

    /// Every container (for listings: `ps`, `lab down`).
    pub fn containers(&self) -> Result<Vec<ContainerRecord>> {
        let mut v = Vec::new();
        for id in self.container_ids() {
            if let Some(c) = self.container(&id)? {
                v.push(c);
            }
        }
        Ok(v)
    }

    /// The name index entry of a container name: `names/<name>`. Docker puts no limit
    /// on a name's length but a file name has one (NAME_MAX, 255 bytes, and the atomic
    /// write adds `.tmp<pid>`), so a name longer than [`NAME_INDEX_MAX`] is kept as its
    /// first characters, `~` (never in a container name) and a hash of the whole name.
    fn name_path(&self, name: &str) -> PathBuf {
        let names = self.dir().join("names");
        if name.len() <= NAME_INDEX_MAX {
            return names.join(name);
        }
        let head: String = name.chars().take(NAME_INDEX_HEAD).collect();
        names.join(format!("{head}~{:016x}", fnv1a(name.as_bytes())))
    }

    /// The id holding a container name, if any.
    pub fn container_by_name(&self, name: &str) -> Option<String> {
        let id = self
            .read_string(&self.name_path(name))
            .map(|s| s.trim().to_string())
            .filter(|id| self.exists(&self.container_dir(id).join("record.json")))?;
        // A hashed entry could (in theory) be another name's: its record says whose.
        if name.len() > NAME_INDEX_MAX
            && self
                .container(&id)
                .ok()
                .flatten()
                .is_none_or(|c| c.name != name)
        {
            return None;
        }
        Some(id)
    }

    /// Find a container by full id, name, or unique id prefix, as Docker does.
    pub fn find_container(&self, key: &str) -> Result<ContainerRecord> {
        let key = key.trim_start_matches('/');
        let found = if key.len() == 64 && self.exists(&self.container_dir(key)) {
            Some(key.to_string())
        } else if let Some(id) = self.container_by_name(key) {
            Some(id)
        } else {
            let matches: Vec<String> = self
                .container_ids()
                .into_iter()
                .filter(|id| !key.is_empty() && id.starts_with(key))
                .collect();
            match matches.len() {
                0 => None,
                1 => matches.into_iter().next(),
                n => {
                    return Err(Error::msg(format!(
                        "Error response from daemon: multiple IDs found with provided prefix: {key} ({n} matches)"
                    )));
                }
            }
        };
        // A record that exists but cannot be read is damage, not "no such container".
        let rec = match found {
            Some(id) => self.container(&id)?,
            None => None,
        };
        rec.ok_or_else(|| {
            Error::msg(format!(
                "Error response from daemon: No such container: {key}"
            ))
        })
    }

    /// Save a container record and its name index entry.
    pub fn save_container(&self, ex: &Executor, c: &ContainerRecord) -> Result<()> {
        let dir = self.container_dir(&c.id);
        self.put(ex, &dir.join("record.json"), encode(c)?)?;
        // The name index is written once: every rewrite would allocate an inode and free
        // one, and on a /run without tmpfs (ext4 without a journal, as on the classroom
        // VMs) recently freed inodes make the next file creations slower.
        if self.container_by_name(&c.name).as_deref() == Some(c.id.as_str()) {
            return Ok(());
        }
        self.put(ex, &self.name_path(&c.name), c.id.as_bytes().to_vec())
    }

    /// Remove a container's record, files and name.
    pub fn remove_container(&self, ex: &Executor, id: &str, name: &str) -> Result<()> {
        if self.container_by_name(name).as_deref() == Some(id) {
            self.del(ex, &self.name_path(name))?;
        }
        self.del(ex, &self.container_dir(id))
    }

    // ----- networks ---------------------------------------------------------------

    fn network_dir(&self, id: &str) -> PathBuf {
        self.dir().join("networks").join(id)
    }

    /// Every network, sorted by name.
    pub fn networks(&self) -> Result<Vec<NetworkRecord>> {
        let mut v = Vec::new();
        for id in self.list(&self.dir().join("networks")) {
            if let Some(n) =
                self.read_json::<NetworkRecord>(&self.network_dir(&id).join("network.json"))?
            {
                v.push(n);
            }
        }
        v.sort_by(|a, b| crate::docker::natural_cmp(&a.name, &b.name));
        Ok(v)
    }

    /// One network by full id.
    pub fn network(&self, id: &str) -> Result<Option<NetworkRecord>> {
        self.read_json(&self.network_dir(id).join("network.json"))
    }

    /// The network of a name, if any.
    pub fn network_by_name(&self, name: &str) -> Result<Option<NetworkRecord>> {
        match self.read_string(&self.dir().join("netnames").join(name)) {
            Some(id) => self.network(id.trim()),
            None => Ok(None),
        }
    }

    /// Find a network as Docker does: full id, exact name, then unique id prefix.
    pub fn find_network(&self, key: &str) -> Result<NetworkRecord> {
        if key.len() == 64
            && let Some(n) = self.network(key)?
        {
            return Ok(n);
        }
        if let Some(n) = self.network_by_name(key)? {
            return Ok(n);
        }
        let matches: Vec<String> = self
            .list(&self.dir().join("networks"))
            .into_iter()
            .filter(|id| !key.is_empty() && id.starts_with(key))
            .collect();
        match matches.len() {
            0 => Err(not_found_network(key)),
            1 => self
                .network(&matches[0])?
                .ok_or_else(|| not_found_network(key)),
            n => Err(Error::with_code(
                format!(
                    "Error response from daemon: network {key} is ambiguous ({n} matches found based on ID prefix)"
                ),
                1,
            )),
        }
    }

    /// Save a network record and its name.
    pub fn save_network(&self, ex: &Executor, n: &NetworkRecord) -> Result<()> {
        let dir = self.network_dir(&n.id);
        self.put(ex, &dir.join("network.json"), encode(n)?)?;
        let names = self.dir().join("netnames");
        let path = names.join(&n.name);
        if self.read_string(&path).is_some_and(|id| id.trim() == n.id) {
            return Ok(());
        }
        self.put(ex, &path, n.id.as_bytes().to_vec())
    }

    /// Remove a network's files and name.
    pub fn remove_network(&self, ex: &Executor, n: &NetworkRecord) -> Result<()> {
        let name = self.dir().join("netnames").join(&n.name);
        if self.read_string(&name).is_some_and(|id| id.trim() == n.id) {
            self.del(ex, &name)?;
        }
        self.del(ex, &self.network_dir(&n.id))
    }

    /// The containers attached to a network.
    pub fn members(&self, network_id: &str) -> Vec<Member> {
        let dir = self.network_dir(network_id).join("members");
        self.list(&dir)
            .into_iter()
            .filter_map(|f| self.read_json::<Member>(&dir.join(f)).ok().flatten())
            .collect()
    }

    /// Number of containers attached to a network.
    pub fn member_count(&self, network_id: &str) -> usize {
        self.list(&self.network_dir(network_id).join("members"))
            .len()
    }

    /// Record a container as attached.
    pub fn add_member(&self, ex: &Executor, network_id: &str, m: &Member) -> Result<()> {
        let dir = self.network_dir(network_id).join("members");
        self.put(ex, &dir.join(&m.container), encode(m)?)
    }

    /// Forget a container's attachment.
    pub fn remove_member(&self, ex: &Executor, network_id: &str, container: &str) -> Result<()> {
        self.del(
            ex,
            &self.network_dir(network_id).join("members").join(container),
        )
    }

    /// Addresses allocated on a network (a directory listing).
    pub fn ips_in_use(&self, network_id: &str) -> Vec<Ipv4Addr> {
        self.list(&self.network_dir(network_id).join("ips"))
            .into_iter()
            .filter_map(|f| f.parse().ok())
            .collect()
    }

    /// Allocated addresses of a network with the container holding each.
    pub fn ip_holders(&self, network_id: &str) -> Vec<(Ipv4Addr, String)> {
        let dir = self.network_dir(network_id).join("ips");
        self.list(&dir)
            .into_iter()
            .filter_map(|f| {
                let holder = self.read_string(&dir.join(&f))?;
                Some((f.parse().ok()?, holder))
            })
            .collect()
    }

    /// Record an allocated address (IPAM state).
    pub fn claim_ip(
        &self,
        ex: &Executor,
        network_id: &str,
        ip: Ipv4Addr,
        container: &str,
    ) -> Result<()> {
        let dir = self.network_dir(network_id).join("ips");
        self.put(ex, &dir.join(ip.to_string()), container.as_bytes().to_vec())
    }

    /// Release an address, if that container still holds it.
    pub fn release_ip(
        &self,
        ex: &Executor,
        network_id: &str,
        ip: Ipv4Addr,
        container: &str,
    ) -> Result<()> {
        let p = self
            .network_dir(network_id)
            .join("ips")
            .join(ip.to_string());
        if self
            .read_string(&p)
            .is_some_and(|holder| holder == container)
        {
            self.del(ex, &p)?;
        }
        Ok(())
    }

    // ----- journals ---------------------------------------------------------------

    /// Note that this process starts creating `id`.
    pub fn pending_add(&self, ex: &Executor, id: &str, kind: PendingKind) -> Result<()> {
        self.pending_add_for(ex, id, kind, None)
    }

    /// Note that this process starts work on `id` (and, for a connect, which network).
    pub fn pending_add_for(
        &self,
        ex: &Executor,
        id: &str,
        kind: PendingKind,
        network: Option<&str>,
    ) -> Result<()> {
        let dir = self.dir().join("pending");
        let p = Pending {
            id: id.to_string(),
            kind,
            creator: ProcRef::of(std::process::id() as i32),
            network: network.map(String::from),
            batch: Vec::new(),
        };
        self.put(ex, &dir.join(id), encode(&p)?)
    }

    /// Note that this process starts removing containers `ids` (at least one): one entry,
    /// `pending/<first id>`, for the whole batch (one file, not one per container).
    pub fn pending_add_removal(&self, ex: &Executor, ids: &[String]) -> Result<()> {
        let Some((first, others)) = ids.split_first() else {
            return Ok(());
        };
        let p = Pending {
            id: first.clone(),
            kind: PendingKind::Remove,
            creator: ProcRef::of(std::process::id() as i32),
            network: None,
            batch: others.to_vec(),
        };
        self.put(ex, &self.dir().join("pending").join(first), encode(&p)?)
    }

    /// The creation of `id` is over (done or rolled back).
    pub fn pending_done(&self, ex: &Executor, id: &str) -> Result<()> {
        self.del(ex, &self.dir().join("pending").join(id))
    }

    /// Creations in progress or interrupted.
    pub fn pending(&self) -> Vec<Pending> {
        let dir = self.dir().join("pending");
        self.list(&dir)
            .into_iter()
            .filter_map(|f| self.read_json::<Pending>(&dir.join(f)).ok().flatten())
            .collect()
    }

    /// Where a container's shim reports that its process ended.
    pub fn exit_notice_path(&self, id: &str) -> PathBuf {
        self.dir().join("exited").join(id)
    }

    /// Containers whose shim reported an exit not yet handled.
    pub fn exited(&self) -> Vec<String> {
        self.list(&self.dir().join("exited"))
    }

    /// The exit of `id` has been handled.
    pub fn exited_done(&self, ex: &Executor, id: &str) -> Result<()> {
        self.del(ex, &self.exit_notice_path(id))
    }
}
