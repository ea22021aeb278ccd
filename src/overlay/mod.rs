//! Overlay networks across the lab's hosts (VXLAN).

use crate::error::Result;
use crate::lab::{Daemon, Lab};
use crate::step::Executor;

/// A host joined the lab: it gets every overlay network.
pub async fn host_joined(_d: &Daemon<'_>, _ex: &mut Executor) -> Result<()> {
    Ok(())
}

/// A host left the lab: the others forget its containers.
pub async fn host_left(_host: &Lab, _ex: &mut Executor) -> Result<()> {
    Ok(())
}
