//! Real Godot for interop tests: Debian's `godot3-server` (Godot 3.2.3,
//! headless) running a test crate's GDScript. A test skips with a loud message
//! when Godot is missing, and fails when `WSPEER_REQUIRE_INTEROP=1`.

use std::{
    io::{BufRead, BufReader},
    path::{Path, PathBuf},
    process::{Child, Command, Stdio},
    sync::mpsc,
    thread,
    time::{Duration, Instant},
};

/// Long enough for a slow CI machine, short enough to fail fast.
pub const WAIT: Duration = Duration::from_secs(40);

/// The Godot binary, or `None` (after a loud message, or a panic under
/// `WSPEER_REQUIRE_INTEROP=1`) when it is missing.
pub fn godot(test: &str) -> Option<PathBuf> {
    crate::interop::find_program(test, "godot3-server", "apt-get install godot3-server")
}

/// A free port on 127.0.0.1, for a Godot server (Godot cannot report the port
/// it got for 0).
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .expect("bind")
        .local_addr()
        .expect("address")
        .port()
}

/// A running Godot script and the lines it printed. Killed when dropped.
#[derive(Debug)]
pub struct Godot {
    child: Child,
    lines: mpsc::Receiver<String>,
    /// Every line so far, Godot's banner and blank lines left out.
    pub seen: Vec<String>,
}

impl Godot {
    /// Runs `script` of the Godot project in `project` (a folder with a
    /// `project.godot`), with `env` set.
    pub fn start(godot: &Path, project: &Path, script: &str, env: &[(&str, String)]) -> Self {
        let mut child = Command::new(godot)
            .arg("--path")
            .arg(project)
            .args(["-s", script])
            .envs(env.iter().map(|(k, v)| (*k, v.as_str())))
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("start godot3-server");
        let stdout = child.stdout.take().expect("stdout");
        let (tx, lines) = mpsc::channel();
        thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                if tx.send(line).is_err() {
                    break;
                }
            }
        });
        Self {
            child,
            lines,
            seen: Vec::new(),
        }
    }

    /// Collects what Godot printed so far; true once it has exited.
    pub fn pump(&mut self) -> bool {
        self.seen.extend(
            self.lines
                .try_iter()
                .filter(|l| !l.starts_with("Godot Engine") && !l.trim().is_empty()),
        );
        matches!(self.child.try_wait(), Ok(Some(_)))
    }

    /// Whether Godot printed exactly `line`.
    pub fn printed(&mut self, line: &str) -> bool {
        self.pump();
        self.seen.iter().any(|l| l == line)
    }

    /// Waits for a line starting with `prefix`, calling `between` meanwhile.
    pub fn wait_for(&mut self, prefix: &str, mut between: impl FnMut()) -> String {
        let deadline = Instant::now() + WAIT;
        loop {
            self.pump();
            if let Some(line) = self.seen.iter().find(|l| l.starts_with(prefix)) {
                return line.clone();
            }
            assert!(
                Instant::now() < deadline,
                "Godot never printed {prefix:?}; it printed {:?}",
                self.seen
            );
            between();
            thread::sleep(Duration::from_millis(2));
        }
    }

    /// Waits until the script exits, calling `between` meanwhile; returns its
    /// lines.
    pub fn finish(mut self, mut between: impl FnMut()) -> Vec<String> {
        let deadline = Instant::now() + WAIT;
        while !self.pump() {
            assert!(
                Instant::now() < deadline,
                "Godot did not finish; it printed {:?}",
                self.seen
            );
            between();
            thread::sleep(Duration::from_millis(2));
        }
        thread::sleep(Duration::from_millis(20));
        self.pump();
        std::mem::take(&mut self.seen)
    }
}

impl Drop for Godot {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
