//! Real Godot for interop tests: Debian's `godot3-server` (Godot 3.2.3,
//! headless) running a test crate's GDScript. A test skips with a loud message
//! when Godot is missing, and fails when `WSPEER_REQUIRE_INTEROP=1`.

use std::{
    io::{BufRead, BufReader},
    path::{Path, PathBuf},
    process::{Child, Command, Stdio},
    sync::mpsc,
    thread,
};

use crate::wait::{PROGRAM_WAIT, poll_within};

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
        self.seen
            .extend(self.lines.try_iter().filter(|l| Self::kept(l)));
        matches!(self.child.try_wait(), Ok(Some(_)))
    }

    /// Whether a line is Godot's own rather than the script's.
    fn kept(line: &str) -> bool {
        !line.starts_with("Godot Engine") && !line.trim().is_empty()
    }

    /// Whether Godot printed exactly `line`.
    pub fn printed(&mut self, line: &str) -> bool {
        self.pump();
        self.seen.iter().any(|l| l == line)
    }

    /// Waits for a line starting with `prefix`, calling `between` meanwhile.
    /// The bound includes Godot's start-up.
    pub fn wait_for(&mut self, prefix: &str, mut between: impl FnMut()) -> String {
        let mut found = None;
        let in_time = poll_within(PROGRAM_WAIT, || {
            self.pump();
            found = self.seen.iter().find(|l| l.starts_with(prefix)).cloned();
            if found.is_none() {
                between();
            }
            found.is_some()
        });
        assert!(
            in_time,
            "Godot never printed {prefix:?} within {PROGRAM_WAIT:?}; it printed {:?}",
            self.seen
        );
        found.expect("found when in time")
    }

    /// Waits until the script exits, calling `between` meanwhile; returns every
    /// line it printed, up to the end of its output.
    pub fn finish(mut self, mut between: impl FnMut()) -> Vec<String> {
        let exited = poll_within(PROGRAM_WAIT, || {
            let exited = self.pump();
            if !exited {
                between();
            }
            exited
        });
        assert!(
            exited,
            "Godot did not finish within {PROGRAM_WAIT:?}; it printed {:?}",
            self.seen
        );
        // The reader thread may still hold lines printed just before the exit:
        // take them until it hangs up at the end of the output.
        loop {
            match self.lines.recv_timeout(PROGRAM_WAIT) {
                Ok(line) if Self::kept(&line) => self.seen.push(line),
                Ok(_) => {}
                Err(mpsc::RecvTimeoutError::Disconnected) => break,
                Err(mpsc::RecvTimeoutError::Timeout) => {
                    panic!(
                        "Godot exited but its output never ended; it printed {:?}",
                        self.seen
                    )
                }
            }
        }
        std::mem::take(&mut self.seen)
    }
}

impl Drop for Godot {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
