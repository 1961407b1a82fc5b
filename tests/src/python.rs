//! Runs the Python scripts of `tests/python/` with the `websockets` package: a
//! WebSocket implementation no one here wrote.
//!
//! The interpreter is `$WSPEER_PYTHON` if set, else `python3`. When it cannot
//! import `websockets`, an interop test is skipped with a loud message on stderr,
//! or fails when `WSPEER_REQUIRE_INTEROP=1` (as CI sets it, so that a broken
//! install cannot turn the interop tests into silent passes).

use std::{io::Write, path::PathBuf, process::Stdio};

use tokio::{
    io::{AsyncBufReadExt, AsyncReadExt, BufReader, Lines},
    process::{Child, ChildStdout, Command},
    task::JoinHandle,
};

use crate::{WAIT, within};

/// Environment variable naming the Python interpreter to use.
pub const PYTHON_ENV: &str = "WSPEER_PYTHON";

/// Environment variable that turns a missing `websockets` into a test failure.
pub const REQUIRE_ENV: &str = "WSPEER_REQUIRE_INTEROP";

/// What the check imports: the asyncio API of `websockets` 13 and later.
const IMPORT_CHECK: &str =
    "import websockets.asyncio.client, websockets.asyncio.server; print(websockets.__version__)";

/// The interpreter to run interop scripts with, or `None` when the test must be
/// skipped (a message saying so has then been printed on stderr). Panics instead
/// of skipping when `WSPEER_REQUIRE_INTEROP=1`.
pub async fn interpreter(test: &str) -> Option<String> {
    let python = std::env::var(PYTHON_ENV).unwrap_or_else(|_| "python3".to_owned());
    let check = Command::new(&python)
        .args(["-c", IMPORT_CHECK])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .kill_on_drop(true)
        .output();
    let problem = match tokio::time::timeout(WAIT, check).await {
        Ok(Ok(output)) if output.status.success() => return Some(python),
        Ok(Ok(output)) => {
            let stderr = String::from_utf8_lossy(&output.stderr);
            // The last line of a traceback says what is missing.
            let last = stderr.trim().lines().last().unwrap_or_default().to_owned();
            format!("`{python}` cannot import websockets.asyncio: {last}")
        }
        Ok(Err(error)) => format!("cannot run `{python}`: {error}"),
        Err(_) => format!("`{python}` did not answer within {WAIT:?}"),
    };
    if std::env::var(REQUIRE_ENV).is_ok_and(|v| v == "1") {
        panic!(
            "{test}: {REQUIRE_ENV}=1 but Python `websockets` (>= 13) is not usable: {problem}; \
             install it (pip install websockets) or point {PYTHON_ENV} at an interpreter that has it"
        );
    }
    // Straight to the process's stderr: `eprintln!` would be captured by the test
    // harness and shown only for failing tests, and a skip must not go unseen.
    let _ = writeln!(
        std::io::stderr(),
        "\n*** SKIPPED: python websockets not installed; set {PYTHON_ENV} to an interpreter \
         with `websockets` >= 13, or pip install websockets. Test: {test}. Cause: {problem}\n"
    );
    None
}

/// The path of a script in `tests/python/`.
pub fn script(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("python")
        .join(name)
}

/// A running Python script: its stdout read line by line, its stderr collected
/// for failure messages. The process is killed when this is dropped, so no test
/// path, not even a panic, leaves it running.
#[derive(Debug)]
pub struct PythonProcess {
    name: String,
    child: Child,
    stdout: Lines<BufReader<ChildStdout>>,
    stderr: JoinHandle<String>,
}

impl PythonProcess {
    /// Starts `python script args...` (unbuffered, so lines arrive as printed).
    pub fn spawn(python: &str, script_name: &str, args: &[&str]) -> Self {
        let mut child = Command::new(python)
            .arg("-u")
            .arg(script(script_name))
            .args(args)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .kill_on_drop(true)
            .spawn()
            .expect("start the Python interpreter");
        let stdout = child.stdout.take().expect("piped stdout");
        let mut stderr = child.stderr.take().expect("piped stderr");
        let stderr = tokio::spawn(async move {
            let mut text = String::new();
            let _ = stderr.read_to_string(&mut text).await;
            text
        });
        Self {
            name: script_name.to_owned(),
            child,
            stdout: BufReader::new(stdout).lines(),
            stderr,
        }
    }

    /// The next line the script printed. Panics, with the script's stderr, if it
    /// ends first or takes longer than [`WAIT`].
    pub async fn next_line(&mut self, what: &str) -> String {
        match tokio::time::timeout(WAIT, self.stdout.next_line()).await {
            Ok(Ok(Some(line))) => line,
            Ok(Ok(None)) => {
                self.fail(&format!("it exited before printing {what}"))
                    .await
            }
            Ok(Err(error)) => {
                self.fail(&format!("reading its stdout failed: {error}"))
                    .await
            }
            Err(_) => self.fail(&format!("no {what} within {WAIT:?}")).await,
        }
    }

    /// Waits for the script to exit and checks it succeeded; returns the lines it
    /// printed that were not read yet.
    pub async fn finish(mut self) -> Vec<String> {
        let mut lines = Vec::new();
        loop {
            match tokio::time::timeout(WAIT, self.stdout.next_line()).await {
                Ok(Ok(Some(line))) => lines.push(line),
                Ok(Ok(None)) => break,
                Ok(Err(error)) => {
                    self.fail(&format!("reading its stdout failed: {error}"))
                        .await
                }
                Err(_) => self.fail(&format!("it did not exit within {WAIT:?}")).await,
            }
        }
        let status = within("the Python script to exit", self.child.wait())
            .await
            .expect("wait for the Python script");
        if !status.success() {
            self.fail(&format!("it exited with {status}; stdout: {lines:?}"))
                .await;
        }
        lines
    }

    /// Kills the script and panics with what it wrote on stderr.
    async fn fail(&mut self, problem: &str) -> ! {
        let _ = self.child.kill().await;
        let stderr = match tokio::time::timeout(WAIT, &mut self.stderr).await {
            Ok(Ok(text)) => text,
            _ => "(stderr unavailable)".to_owned(),
        };
        panic!(
            "Python script {}: {problem}\n--- its stderr ---\n{stderr}",
            self.name
        );
    }
}
