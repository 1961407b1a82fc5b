//! Server child processes, CPU pinning, and what `/proc` tells about a process.
//!
//! The harness runs each server as a child of its own binary
//! (`wspeer-bench server <kind> 127.0.0.1:0 --cpu 1`), or an example's binary
//! as it is, reads the port from the child's output, and kills it when done.

use std::{
    io::{BufRead, BufReader},
    net::SocketAddr,
    path::{Path, PathBuf},
    process::{Child, ChildStdout, Command, Stdio},
    time::Duration,
};

use anyhow::{Context, bail};

use crate::servers::ServerKind;

/// Linux's `USER_HZ`: the unit of the CPU times in `/proc/<pid>/stat`.
const CLOCK_TICKS_PER_SEC: u64 = 100;

/// Pins the calling thread (and the threads it starts later) to one CPU, which
/// may lie outside the mask inherited from the parent. Returns false when the
/// call failed (such as for a CPU that does not exist).
pub fn pin_to(cpu: usize) -> bool {
    core_affinity::set_for_current(core_affinity::CoreId { id: cpu })
}

/// The CPUs this process may run on now.
pub fn cpu_count() -> usize {
    std::thread::available_parallelism().map_or(1, |n| n.get())
}

/// Raises the open-file limit to the hard limit; returns the new soft limit.
pub fn raise_nofile() -> u64 {
    rlimit::increase_nofile_limit(u64::MAX).unwrap_or(0)
}

/// A server running in a child process; killed when dropped.
#[derive(Debug)]
pub struct ServerProcess {
    child: Child,
    /// Held open so that the child's writes to it never fail.
    _stdout: Option<BufReader<ChildStdout>>,
    /// Run under a wrapper such as valgrind, which must be interrupted (not
    /// killed) to write its output.
    wrapped: bool,
    /// Where it listens.
    pub addr: SocketAddr,
}

impl ServerProcess {
    /// Starts `exe server <kind> 127.0.0.1:0`, pinned to `cpu` if given, under
    /// `wrapper` (such as `valgrind --tool=callgrind`) if not empty, and waits for
    /// the port it prints.
    pub fn spawn(
        exe: &Path,
        kind: ServerKind,
        cpu: Option<usize>,
        wrapper: &[String],
    ) -> anyhow::Result<Self> {
        Self::spawn_with_env(exe, kind, cpu, wrapper, &[])
    }

    /// [`Self::spawn`] with `env` added to the child's environment (the
    /// servers read their variants from it, such as `WSPEER_BENCH_DEFLATE`).
    pub fn spawn_with_env(
        exe: &Path,
        kind: ServerKind,
        cpu: Option<usize>,
        wrapper: &[String],
        env: &[(&str, &str)],
    ) -> anyhow::Result<Self> {
        let example = kind
            .example()
            .map(|name| example_binary(exe, name))
            .transpose()?;
        let program = example.as_deref().unwrap_or(exe);
        // The example has no `--cpu` flag: `taskset` pins it, and its threads.
        let taskset: Vec<String> = match (example.is_some(), cpu) {
            (true, Some(cpu)) => vec!["taskset".into(), "-c".into(), cpu.to_string()],
            _ => Vec::new(),
        };
        let mut wrappers = taskset.iter().chain(wrapper);
        let mut command = match wrappers.next() {
            Some(first) => {
                let mut c = Command::new(first);
                c.args(wrappers).arg(program);
                c
            }
            None => Command::new(program),
        };
        if example.is_some() {
            command
                .arg("127.0.0.1:0")
                .env("NO_COLOR", "1")
                .env("RUST_LOG", "info");
        } else {
            command.args(["server", kind.name(), "127.0.0.1:0"]);
            if let Some(cpu) = cpu {
                command.args(["--cpu", &cpu.to_string()]);
            }
        }
        command.envs(env.iter().copied());
        let mut child = command
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .with_context(|| format!("starting {}", program.display()))?;
        let stdout = child.stdout.take().context("child stdout")?;
        let mut stdout = BufReader::new(stdout);
        let port = match read_port(&mut stdout, example.is_some()) {
            Ok(port) => port,
            Err(error) => {
                let _ = child.kill();
                let _ = child.wait();
                return Err(error.context(format!("server {}", kind.name())));
            }
        };
        if example.is_some() {
            // It logs every connection: keep its pipe from filling up.
            std::thread::spawn(move || std::io::copy(&mut stdout, &mut std::io::sink()));
            return Ok(Self {
                child,
                _stdout: None,
                wrapped: !wrapper.is_empty(),
                addr: SocketAddr::from(([127, 0, 0, 1], port)),
            });
        }
        Ok(Self {
            child,
            _stdout: Some(stdout),
            wrapped: !wrapper.is_empty(),
            addr: SocketAddr::from(([127, 0, 0, 1], port)),
        })
    }

    /// The child's process id.
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Resident memory of the child now, in KiB.
    pub fn rss_kib(&self) -> anyhow::Result<u64> {
        rss_kib(self.pid())
    }

    /// CPU time (user + system, all threads) the child used so far.
    pub fn cpu_time(&self) -> anyhow::Result<Duration> {
        cpu_time(self.pid())
    }
}

impl Drop for ServerProcess {
    fn drop(&mut self) {
        if self.wrapped {
            // SIGINT lets valgrind write its profile; SIGKILL would lose it.
            let _ = Command::new("kill")
                .args(["-INT", &self.child.id().to_string()])
                .status();
            for _ in 0..600 {
                if matches!(self.child.try_wait(), Ok(Some(_))) {
                    return;
                }
                std::thread::sleep(Duration::from_millis(50));
            }
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// `target/<profile>/examples/<name>`, beside the harness binary
/// (`cargo build --release -p wspeer-examples --example <name>`).
fn example_binary(exe: &Path, name: &str) -> anyhow::Result<PathBuf> {
    let dir = exe.parent().context("the harness binary's directory")?;
    let path = dir.join("examples").join(name);
    anyhow::ensure!(
        path.exists(),
        "{} is missing: cargo build --release -p wspeer-examples --example {name}",
        path.display()
    );
    Ok(path)
}

/// The port a server reports: the first line of a `server` kind's output, or
/// the `ws://127.0.0.1:<port>` in the example's "listening" log line.
fn read_port(stdout: &mut impl BufRead, example: bool) -> anyhow::Result<u16> {
    let mut line = String::new();
    loop {
        line.clear();
        if stdout.read_line(&mut line)? == 0 {
            bail!("ended before printing its port");
        }
        if !example {
            return line
                .trim()
                .parse()
                .with_context(|| format!("printed {line:?} instead of its port"));
        }
        if let Some((_, rest)) = line.split_once("ws://127.0.0.1:") {
            let digits: String = rest.chars().take_while(char::is_ascii_digit).collect();
            return digits
                .parse()
                .with_context(|| format!("no port in {line:?}"));
        }
    }
}

/// CPU time used by the whole machine (every CPU, every process) so far, and
/// taken from it by the hypervisor (steal).
///
/// Interrupt and softirq time is left out: on loopback it is mostly our own
/// packets travelling between the load generator and the server, which the
/// kernel charges to neither process, so counting it made busy benchmarks look
/// disturbed by "others".
pub fn machine_busy() -> anyhow::Result<Duration> {
    let stat = std::fs::read_to_string("/proc/stat")?;
    let line = stat.lines().next().context("empty /proc/stat")?;
    let ticks: Vec<u64> = line
        .split_whitespace()
        .skip(1)
        .map(str::parse)
        .collect::<Result<_, _>>()?;
    // user nice system idle iowait irq softirq steal: the first three and steal.
    let busy: u64 = ticks
        .iter()
        .take(8)
        .enumerate()
        .filter(|(i, _)| matches!(i, 0..=2 | 7))
        .map(|(_, t)| t)
        .sum();
    Ok(Duration::from_millis(busy * 1000 / CLOCK_TICKS_PER_SEC))
}

/// Waits (up to `limit`) until the rest of the machine uses less than `quiet`
/// of one CPU over half a second, so that other people's builds do not land in
/// a measurement. Returns the load seen last, in CPUs.
pub fn wait_for_quiet(quiet: f64, limit: Duration) -> f64 {
    let sample = Duration::from_millis(500);
    let deadline = std::time::Instant::now() + limit;
    let mut told = false;
    loop {
        let before = machine_busy().unwrap_or_default();
        std::thread::sleep(sample);
        let load = machine_busy()
            .unwrap_or_default()
            .saturating_sub(before)
            .as_secs_f64()
            / sample.as_secs_f64();
        if load < quiet || std::time::Instant::now() > deadline {
            if told || load >= quiet {
                eprintln!("  machine load now {:.0} % of a CPU", 100.0 * load);
            }
            return load;
        }
        if !told {
            eprintln!(
                "  waiting for the machine to be quiet ({:.0} % of a CPU busy)",
                100.0 * load
            );
            told = true;
        }
    }
}

/// `VmRSS` of process `pid`, in KiB.
pub fn rss_kib(pid: u32) -> anyhow::Result<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status"))?;
    let line = status
        .lines()
        .find(|l| l.starts_with("VmRSS:"))
        .context("no VmRSS line")?;
    let kib = line
        .split_whitespace()
        .nth(1)
        .context("empty VmRSS line")?
        .parse()?;
    Ok(kib)
}

/// User + system CPU time of process `pid` (every thread, living or ended).
pub fn cpu_time(pid: u32) -> anyhow::Result<Duration> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat"))?;
    // Fields after the command name, which is in parentheses and may hold spaces.
    let rest = stat.rsplit_once(')').context("malformed stat")?.1;
    let fields: Vec<&str> = rest.split_whitespace().collect();
    // utime and stime are fields 14 and 15 of stat, 12 and 13 after the name.
    let ticks: u64 = fields.get(11).context("utime")?.parse::<u64>()?
        + fields.get(12).context("stime")?.parse::<u64>()?;
    Ok(Duration::from_millis(ticks * 1000 / CLOCK_TICKS_PER_SEC))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_port_is_read_from_either_kind_of_output() {
        let mut plain = "40123\nlater output\n".as_bytes();
        assert_eq!(read_port(&mut plain, false).expect("port"), 40123);
        let log = "2026-12-04T22:00:00Z  INFO echo_async: starting\n\
                   2026-12-04T22:00:00Z  INFO echo_async: echo server listening on ws://127.0.0.1:45678\n";
        assert_eq!(read_port(&mut log.as_bytes(), true).expect("port"), 45678);
        assert!(read_port(&mut "no port here\n".as_bytes(), true).is_err());
        assert!(read_port(&mut "listening\n".as_bytes(), false).is_err());
    }

    #[test]
    fn reads_our_own_rss_and_cpu() {
        let pid = std::process::id();
        assert!(rss_kib(pid).expect("rss") > 0);
        cpu_time(pid).expect("cpu time");
    }
}
