//! The kernel's limits a hold run depends on: descriptors (raised here, before
//! any server child starts, so that it inherits them) and ephemeral ports
//! (read, to check that the source addresses give enough of them).

use anyhow::{Context, bail};
use rlimit::Resource;

/// The descriptor limit the run got.
#[derive(Debug, Clone)]
pub struct NofileLimit {
    /// Soft limit now.
    pub soft: u64,
    /// Hard limit now.
    pub hard: u64,
    /// The limit asked for (`fs.nr_open`).
    pub wanted: u64,
    /// Why the hard limit could not be raised to it (it takes
    /// `CAP_SYS_RESOURCE`, which a container's root may lack).
    pub refused: Option<String>,
}

/// Raises `RLIMIT_NOFILE` (soft and hard) to `fs.nr_open`, the most the
/// kernel allows a process; without the privilege to, the soft limit goes to
/// the hard one. Fails, saying why, if that leaves fewer than `needed`.
pub fn raise_nofile(needed: u64) -> anyhow::Result<NofileLimit> {
    let wanted: u64 = std::fs::read_to_string("/proc/sys/fs/nr_open")
        .ok()
        .and_then(|text| text.trim().parse().ok())
        .unwrap_or(1 << 20);
    let (_, hard) = rlimit::getrlimit(Resource::NOFILE).context("getrlimit(NOFILE)")?;
    let refused = if hard >= wanted {
        None
    } else {
        rlimit::setrlimit(Resource::NOFILE, wanted, wanted)
            .err()
            .map(|e| format!("setrlimit(RLIMIT_NOFILE, {wanted}): {e}"))
    };
    rlimit::increase_nofile_limit(u64::MAX).context("raising the soft NOFILE limit")?;
    let (soft, hard) = rlimit::getrlimit(Resource::NOFILE).context("getrlimit(NOFILE)")?;
    if soft < needed {
        bail!(
            "{needed} descriptors needed per process, but RLIMIT_NOFILE is {soft} (hard {hard}) \
             and {}: this needs CAP_SYS_RESOURCE (root outside a restricted container), or a \
             higher hard limit given to the bench (limits.conf, systemd LimitNOFILE, \
             docker --ulimit nofile=…); at most {} connections fit",
            refused.as_deref().unwrap_or("could not be raised"),
            soft.saturating_sub(HEADROOM),
        );
    }
    Ok(NofileLimit {
        soft,
        hard,
        wanted,
        refused,
    })
}

/// Descriptors a process needs beside its connections: the listener, stdio,
/// the runtime's, the probes, the chat's `/metrics` requests.
pub const HEADROOM: u64 = 100;

/// Ephemeral ports per source address (`net.ipv4.ip_local_port_range`).
pub(crate) fn ephemeral_ports() -> u64 {
    std::fs::read_to_string("/proc/sys/net/ipv4/ip_local_port_range")
        .ok()
        .and_then(|text| {
            let mut bounds = text.split_whitespace().map(|n| n.parse::<u64>().ok());
            let (low, high) = (bounds.next()??, bounds.next()??);
            Some(high.saturating_sub(low) + 1)
        })
        .unwrap_or(28_232)
}

/// The kernel's TCP socket memory now (`/proc/net/sockstat`), in KiB.
pub(crate) fn kernel_tcp_kib() -> Option<u64> {
    let stat = std::fs::read_to_string("/proc/net/sockstat").ok()?;
    let line = stat.lines().find(|l| l.starts_with("TCP:"))?;
    let mut words = line.split_whitespace();
    words.find(|w| *w == "mem")?;
    let pages: u64 = words.next()?.parse().ok()?;
    Some(pages * 4)
}
