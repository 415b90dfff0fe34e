//! The external SMS/voice command: number, channel and message on stdin.

use std::io::Write as _;
use std::process::{Command as Process, Stdio};
use std::time::{Duration, Instant};

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
        if let Some(mut stdin) = child.stdin.take() {
            // The input is far below a pipe's buffer, so this does not block
            // on a child that never reads. A child that exits without
            // reading closes the pipe: its exit status decides.
            match stdin.write_all(input) {
                Err(e) if e.kind() != std::io::ErrorKind::BrokenPipe => {
                    let _ = child.kill();
                    let _ = child.wait();
                    return Err(spawn_error(e));
                }
                _ => {}
            }
        }
        let deadline = Instant::now() + self.timeout;
        loop {
            match child.try_wait().map_err(spawn_error)? {
                Some(status) if status.success() => return Ok(()),
                Some(status) => {
                    return Err(Error::CommandStatus {
                        code: status.code(),
                    });
                }
                None if Instant::now() >= deadline => {
                    let _ = child.kill();
                    let _ = child.wait();
                    return Err(Error::Timeout {
                        transport: Transport::Command,
                        seconds: self.timeout.as_secs(),
                    });
                }
                None => std::thread::sleep(Duration::from_millis(10)),
            }
        }
    }
}
