//! The external SMS/voice command: number, channel and message on stdin.

use std::io::Write as _;
use std::process::{Command as Process, Stdio};
use std::time::{Duration, Instant};

use zeroize::Zeroizing;

use crate::error::{Error, Transport};

pub(crate) struct Command {
    argv: Vec<String>,
    timeout: Duration,
}

impl Command {
    pub(crate) fn new(argv: Vec<String>, timeout_secs: u64) -> Command {
        Command {
            argv,
            timeout: Duration::from_secs(timeout_secs),
        }
    }

    /// Runs the command with `input` on stdin; exit status 0 is success.
    /// Past the timeout the child is killed.
    pub(crate) fn run(&self, input: &[u8]) -> Result<(), Error> {
        let Some((program, args)) = self.argv.split_first() else {
            return Err(Error::NotConfigured {
                what: "SMS/voice command (notify.sms.command)",
            });
        };
        let spawn_error = |source| Error::CommandSpawn {
            program: program.clone(),
            source,
        };
        let mut child = Process::new(program)
            .args(args)
            .stdin(Stdio::piped())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .map_err(spawn_error)?;
        // Written from a thread, so that a child that never reads cannot
        // block us past the timeout. A child that exits without reading
        // closes the pipe (BrokenPipe): its exit status decides.
        let writer = child.stdin.take().map(|mut stdin| {
            let input = Zeroizing::new(input.to_vec());
            std::thread::spawn(move || match stdin.write_all(&input) {
                Err(e) if e.kind() != std::io::ErrorKind::BrokenPipe => Err(e),
                _ => Ok(()),
            })
        });
        let deadline = Instant::now() + self.timeout;
        let outcome = loop {
            match child.try_wait() {
                Err(e) => {
                    let _ = child.kill();
                    let _ = child.wait();
                    break Err(spawn_error(e));
                }
                Ok(Some(status)) if status.success() => break Ok(()),
                Ok(Some(status)) => {
                    break Err(Error::CommandStatus {
                        code: status.code(),
                    });
                }
                Ok(None) if Instant::now() >= deadline => {
                    let _ = child.kill();
                    let _ = child.wait();
                    break Err(Error::Timeout {
                        transport: Transport::Command,
                        seconds: self.timeout.as_secs(),
                    });
                }
                Ok(None) => std::thread::sleep(Duration::from_millis(10)),
            }
        };
        // The child is gone, so its end of the pipe is closed and the
        // writer has finished (or failed with BrokenPipe).
        let written = match writer.map(std::thread::JoinHandle::join) {
            Some(Ok(result)) => result,
            Some(Err(_)) => Err(std::io::Error::other("stdin writer panicked")),
            None => Ok(()),
        };
        match (outcome, written) {
            (Ok(()), Err(e)) => Err(spawn_error(e)),
            (outcome, _) => outcome,
        }
    }
}
