//! Runs the real `ruuvictl` binary as a user would.
#![allow(dead_code)]

use std::ffi::OsStr;
use std::io::Write;
use std::process::{Command, Output, Stdio};

/// `ruuvictl args…` with `env` added to the environment and `stdin` (if any) as its input.
pub fn ruuvictl_with(args: &[&str], env: &[(&str, &OsStr)], stdin: Option<&str>) -> Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_ruuvictl"))
        .args(args)
        .envs(env.iter().copied())
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("ruuvictl starts");
    let mut pipe = child.stdin.take().unwrap();
    if let Some(text) = stdin {
        // A command that reads no input may have exited already.
        let _ = pipe.write_all(text.as_bytes());
    }
    drop(pipe);
    child.wait_with_output().unwrap()
}
