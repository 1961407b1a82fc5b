//! A real `wspeer-chat` process: the binary as deployed, on a free loopback
//! port (it prints the port it bound in its log), killed when dropped. Its
//! warnings are passed on to our stderr and counted: a soak where the server
//! closed someone as too slow or over its rate must say so.

use std::{
    io::{BufRead, BufReader, Read, Write},
    net::{SocketAddr, TcpStream},
    path::{Path, PathBuf},
    process::{Child, Command, Stdio},
    sync::{
        Arc,
        atomic::{AtomicU64, Ordering::Relaxed},
    },
    time::{Duration, Instant},
};

use anyhow::{Context, bail};

/// Warnings of one server printed in full; the rest are only counted.
const PRINTED_WARNINGS: u64 = 20;

/// A running `wspeer-chat`.
#[derive(Debug)]
pub struct ChatProcess {
    child: Child,
    /// Where it listens.
    pub addr: SocketAddr,
    warnings: Arc<AtomicU64>,
}

impl ChatProcess {
    /// Starts `bin --port 0 --bind 127.0.0.1` with `args`, and waits for the
    /// address it logs.
    pub fn start(bin: &Path, args: &[String]) -> anyhow::Result<Self> {
        let mut child = Command::new(bin)
            .args(["--port", "0", "--bind", "127.0.0.1"])
            // The port comes in the startup line; per-client lines would flood.
            .args(["--log", "warn,wspeer_chat=info,wspeer_chat::session=warn"])
            .args(args)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .with_context(|| format!("starting {}", bin.display()))?;
        let stderr = child.stderr.take().context("the server's stderr")?;
        let mut lines = BufReader::new(stderr).lines();
        let addr = loop {
            let Some(Ok(line)) = lines.next() else {
                let _ = child.kill();
                let _ = child.wait();
                bail!("{} exited before listening", bin.display());
            };
            if let Some(url) = line.split("chat on ws://").nth(1) {
                let addr = url.split('/').next().unwrap_or_default();
                break addr
                    .parse()
                    .with_context(|| format!("address in {line:?}"))?;
            }
        };
        let warnings = Arc::new(AtomicU64::new(0));
        let counted = warnings.clone();
        let pid = child.id();
        std::thread::spawn(move || {
            for line in lines.map_while(Result::ok) {
                let bad = line.contains("WARN") || line.contains("ERROR");
                if bad && counted.fetch_add(1, Relaxed) < PRINTED_WARNINGS {
                    eprintln!("  wspeer-chat {pid}: {line}");
                }
            }
        });
        Ok(Self {
            child,
            addr,
            warnings,
        })
    }

    /// Its process id.
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Warnings and errors it logged so far.
    pub fn warnings(&self) -> u64 {
        self.warnings.load(Relaxed)
    }

    /// Waits (up to `limit`) until `/healthz` answers plain `ok`: in a cluster
    /// that means connected to Redis, so that every line gets its id there.
    pub fn wait_healthy(&self, limit: Duration) -> anyhow::Result<()> {
        let deadline = Instant::now() + limit;
        loop {
            match http_get(self.addr, "/healthz") {
                Ok(body) if body.trim() == "ok" => return Ok(()),
                answer if Instant::now() > deadline => {
                    bail!("{}: /healthz still {answer:?}", self.addr)
                }
                // An outside process coming up: polling is all there is.
                _ => std::thread::sleep(Duration::from_millis(50)),
            }
        }
    }

    /// A counter or gauge from its `/metrics`.
    pub fn metric(&self, name: &str) -> anyhow::Result<u64> {
        let text = http_get(self.addr, "/metrics")?;
        let line = text
            .lines()
            .find(|l| l.split_whitespace().next() == Some(name))
            .with_context(|| format!("no {name} in /metrics"))?;
        let value = line.split_whitespace().nth(1).unwrap_or_default();
        Ok(value.parse::<f64>().with_context(|| line.to_owned())? as u64)
    }
}

impl Drop for ChatProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The body of `GET path` on `addr` (HTTP/1.1, one request per connection).
fn http_get(addr: SocketAddr, path: &str) -> anyhow::Result<String> {
    let mut stream = TcpStream::connect_timeout(&addr, Duration::from_secs(5))?;
    stream.set_read_timeout(Some(Duration::from_secs(5)))?;
    write!(
        stream,
        "GET {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n"
    )?;
    let mut response = String::new();
    stream.read_to_string(&mut response)?;
    let (head, body) = response.split_once("\r\n\r\n").context("no HTTP head")?;
    anyhow::ensure!(head.starts_with("HTTP/1.1 200"), "{path}: {head}");
    Ok(body.to_owned())
}

/// The `wspeer-chat` binary beside this program's (`target/<profile>/`), as
/// `cargo build -p wspeer-chat` leaves it.
pub fn default_binary() -> anyhow::Result<PathBuf> {
    let exe = std::env::current_exe()?;
    let mut dir = exe.parent().context("the program's directory")?;
    // Tests and benches run from target/<profile>/deps.
    if dir.ends_with("deps") {
        dir = dir.parent().context("target/<profile>")?;
    }
    Ok(dir.join("wspeer-chat"))
}
