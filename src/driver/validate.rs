//! Docker's refusals of flag combinations for a network mode, checked before anything
//! is built (reference §8, `validateNetContainerMode`).

use super::{NetworkMode, refuse};
use crate::error::Result;

/// Docker's flag checks for a network mode (reference §8), before anything is built.
pub struct ModeFlags<'a> {
    /// `--hostname` given.
    pub hostname: bool,
    /// `--link` values.
    pub links: &'a [String],
    /// `--dns` values.
    pub dns: &'a [String],
    /// `--add-host` values.
    pub add_hosts: &'a [String],
    /// `--mac-address` given.
    pub mac_address: bool,
    /// `-p` or `-P` given.
    pub publish: bool,
    /// `--expose` given.
    pub expose: bool,
}

/// Refuse flag combinations the way Docker's `validateNetContainerMode` does, in its order.
pub fn validate(mode: &NetworkMode, f: &ModeFlags) -> Result<()> {
    let container = mode.is_container();
    if container && f.hostname {
        return Err(refuse("conflicting options: hostname and the network mode"));
    }
    if container && !f.links.is_empty() {
        return Err(refuse(
            "conflicting options: container type network can't be used with links. This would result in undefined behavior",
        ));
    }
    if container && !f.dns.is_empty() {
        return Err(refuse("conflicting options: dns and the network mode"));
    }
    if container && !f.add_hosts.is_empty() {
        return Err(refuse(
            "conflicting options: custom host-to-IP mapping and the network mode",
        ));
    }
    if container && f.mac_address {
        return Err(refuse(
            "conflicting options: mac-address and the network mode",
        ));
    }
    if container && f.publish {
        return Err(refuse(
            "conflicting options: port publishing and the container type network mode",
        ));
    }
    if container && f.expose {
        return Err(refuse(
            "conflicting options: port exposing and the container type network mode",
        ));
    }
    if mode.is_host() && !f.links.is_empty() {
        return Err(refuse(
            "conflicting options: host type networking can't be used with links. This would result in undefined behavior",
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    const NONE: [String; 0] = [];

    fn flags() -> ModeFlags<'static> {
        ModeFlags {
            hostname: false,
            links: &NONE,
            dns: &NONE,
            add_hosts: &NONE,
            mac_address: false,
            publish: false,
            expose: false,
        }
    }

    fn refusal(mode: &NetworkMode, f: ModeFlags) -> String {
        validate(mode, &f).unwrap_err().to_string()
    }

    #[test]
    fn container_mode_refusals_follow_dockers_order() {
        let one = ["x".to_string()];
        let c = NetworkMode::Container("web1".into());
        assert!(validate(&c, &flags()).is_ok());
        // --hostname is checked before --dns.
        let r = refusal(
            &c,
            ModeFlags {
                hostname: true,
                dns: &one,
                ..flags()
            },
        );
        assert!(
            r.ends_with("conflicting options: hostname and the network mode"),
            "{r}"
        );
        let r = refusal(
            &c,
            ModeFlags {
                dns: &one,
                ..flags()
            },
        );
        assert!(
            r.ends_with("conflicting options: dns and the network mode"),
            "{r}"
        );
        let r = refusal(
            &c,
            ModeFlags {
                add_hosts: &one,
                ..flags()
            },
        );
        assert!(
            r.ends_with("custom host-to-IP mapping and the network mode"),
            "{r}"
        );
        let r = refusal(
            &c,
            ModeFlags {
                publish: true,
                ..flags()
            },
        );
        assert!(
            r.ends_with("port publishing and the container type network mode"),
            "{r}"
        );
        let r = refusal(
            &c,
            ModeFlags {
                expose: true,
                ..flags()
            },
        );
        assert!(
            r.ends_with("port exposing and the container type network mode"),
            "{r}"
        );
        let r = refusal(
            &c,
            ModeFlags {
                mac_address: true,
                ..flags()
            },
        );
        assert!(r.ends_with("mac-address and the network mode"), "{r}");
        let r = refusal(
            &c,
            ModeFlags {
                links: &one,
                ..flags()
            },
        );
        assert!(
            r.contains("container type network can't be used with links"),
            "{r}"
        );
        let r = refusal(
            &NetworkMode::Network("host".into()),
            ModeFlags {
                links: &one,
                ..flags()
            },
        );
        assert!(
            r.contains("host type networking can't be used with links"),
            "{r}"
        );
        assert!(
            validate(
                &NetworkMode::Network("bridge".into()),
                &ModeFlags {
                    links: &one,
                    ..flags()
                }
            )
            .is_ok()
        );
    }
}
