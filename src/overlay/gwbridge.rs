//! `docker_gwbridge`: the way out of an overlay. An overlay's `br0` lives in a
//! namespace of its own and leads nowhere, so Docker gives every container on a
//! non-internal overlay a second endpoint on this host's `docker_gwbridge`, a bridge
//! network made on demand (inter-container traffic off, masquerade on) that holds the
//! container's default route.

use crate::error::Result;
use crate::lab::{Daemon, NetworkRecord};
use crate::step::Executor;

/// The network's (and its Linux bridge's) name.
pub const GWBRIDGE: &str = "docker_gwbridge";

/// This host's `docker_gwbridge`, created the first time a container needs it.
pub async fn ensure_gwbridge(d: &mut Daemon<'_>, ex: &mut Executor) -> Result<NetworkRecord> {
    if let Some(n) = d.store.network_by_name(GWBRIDGE)? {
        return Ok(n);
    }
    ex.narrate(&crate::ui::tr(
        format!(
            "# the first overlay container on {}: dockerd makes {GWBRIDGE}, its way out",
            d.lab.host
        ),
        format!(
            "# {} 上的第一个 overlay 容器：dockerd 建立 {GWBRIDGE}，作为它出去的路",
            d.lab.host
        ),
    ));
    let spec = crate::network::CreateSpec {
        name: GWBRIDGE.into(),
        driver: "bridge".into(),
        options: vec![
            format!("com.docker.network.bridge.name={GWBRIDGE}"),
            "com.docker.network.bridge.enable_icc=false".into(),
            "com.docker.network.bridge.enable_ip_masquerade=true".into(),
        ],
        ..Default::default()
    };
    Box::pin(crate::network::create(d, ex, &spec)).await
}
