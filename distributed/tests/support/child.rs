//! A lock holder in a child process (the crate's `lock-child` or `pg-lock-child` binary):
//! lines read from its stdout, a go line on its stdin, signals; killed on drop.

use std::io::{BufRead, BufReader, Write};
use std::process::{Child, ChildStdin, ChildStdout, Command, Stdio};

pub struct ChildGuard {
    child: Child,
    stdin: ChildStdin,
    stdout: BufReader<ChildStdout>,
}

impl ChildGuard {
    /// Starts `exe` with `args`.
    pub fn spawn(exe: &str, args: &[&str]) -> ChildGuard {
        let mut child = Command::new(exe)
            .args(args)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()
            .unwrap_or_else(|e| panic!("{exe} could not be started: {e}"));
        let stdin = child.stdin.take().expect("piped stdin");
        let stdout = BufReader::new(child.stdout.take().expect("piped stdout"));
        ChildGuard {
            child,
            stdin,
            stdout,
        }
    }

    /// The child's next line starting with `tag `. The child answers at once or exits (it
    /// holds no lock it could wait for), so the read ends.
    pub fn expect(&mut self, tag: &str) -> String {
        let mut line = String::new();
        loop {
            line.clear();
            let n = self.stdout.read_line(&mut line).expect("child stdout");
            assert!(n > 0, "the child ended before saying {tag}");
            if let Some(rest) = line.trim_end().strip_prefix(&format!("{tag} ")) {
                return rest.to_string();
            }
        }
    }

    /// Sends the child a line.
    pub fn say(&mut self, line: &str) {
        writeln!(self.stdin, "{line}").expect("child stdin");
        self.stdin.flush().expect("child stdin");
    }

    /// Sends the child a signal.
    pub fn signal(&self, sig: i32) {
        // SAFETY: kill(2) on the pid of a child we spawned and have not reaped yet.
        let r = unsafe { libc::kill(self.child.id() as libc::pid_t, sig) };
        assert_eq!(r, 0, "kill({sig})");
    }
}

impl Drop for ChildGuard {
    fn drop(&mut self) {
        self.signal(libc::SIGCONT);
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
