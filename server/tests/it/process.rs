//! The real `ordergraph serve` as a child process, for tests that kill it.

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};

/// A server process, the address it listens on, and its log so far.
pub(crate) struct Process {
    child: Child,
    pub(crate) base: String,
    pub(crate) log: Arc<Mutex<Vec<String>>>,
}

impl Process {
    /// `ordergraph serve` on `data`, HTTP only, on a free port.
    pub(crate) fn start(data: &Path) -> Process {
        Self::start_with(data, &[])
    }

    /// The same with more `serve` options (`--demo`).
    pub(crate) fn start_with(data: &Path, options: &[&str]) -> Process {
        let mut child = Command::new(env!("CARGO_BIN_EXE_ordergraph"))
            .arg("--data")
            .arg(data)
            .args([
                "serve",
                "--listen",
                "127.0.0.1:0",
                "--pg-listen",
                "off",
                "--flight-listen",
                "off",
            ])
            .args(options)
            .env("RUST_LOG", "info")
            .env("NO_COLOR", "1")
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let stderr = BufReader::new(child.stderr.take().unwrap());
        let log = Arc::new(Mutex::new(Vec::new()));
        let mut lines = stderr.lines();
        let address = loop {
            let line = lines
                .next()
                .unwrap_or_else(|| {
                    panic!(
                        "the server exited before listening:\n{}",
                        log.lock().unwrap().join("\n")
                    )
                })
                .unwrap();
            log.lock().unwrap().push(line.clone());
            if line.contains("listening") {
                let at = line.find("127.0.0.1:").expect("an address");
                break line[at..]
                    .chars()
                    .take_while(|c| c.is_ascii_digit() || *c == '.' || *c == ':')
                    .collect::<String>();
            }
        };
        // Keep reading the log so the server never blocks on a full pipe.
        let kept = log.clone();
        std::thread::spawn(move || {
            for line in lines.map_while(Result::ok) {
                kept.lock().unwrap().push(line);
            }
        });
        Process {
            child,
            base: format!("http://{address}"),
            log,
        }
    }

    /// The process id.
    pub(crate) fn id(&self) -> u32 {
        self.child.id()
    }

    /// Waits for the process to end.
    pub(crate) fn wait(mut self) -> std::process::ExitStatus {
        self.child.wait().unwrap()
    }

    /// SIGKILL, and wait for it.
    pub(crate) fn kill(mut self) {
        self.child.kill().unwrap(); // SIGKILL on Unix
        self.child.wait().unwrap();
    }
}

impl Drop for Process {
    /// A test that fails before it kills its server leaves none running.
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
