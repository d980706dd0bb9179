//! `ruuvictl decode`: Ruuvi advertisements to the gateway's decoded JSON.

use std::io::{self, BufRead, Write};
use std::process::ExitCode;

use ruuvi_protocol::output::measurement_json;
use ruuvi_protocol::{decode_hex, DecodeError};

pub const USAGE: &str = "\
usage: ruuvictl decode [--key HEX32] [HEX ...]

Decodes Ruuvi advertisements. Each HEX is a whole raw advertisement (as in a gateway's
`data` field) or a payload starting with the data-format byte. Without HEX arguments, one
input per line is read from standard input. One JSON object is printed per input, using the
gateway's decoded key names; a bad input is reported on stderr and the rest are still decoded.

  --key HEX32   AES-128 key (32 hex digits) for encrypted data format 8";

fn parse_key(text: &str) -> Result<[u8; 16], String> {
    let bytes = hex::decode(text.trim()).map_err(|e| format!("--key: not hex: {e}"))?;
    bytes
        .try_into()
        .map_err(|b: Vec<u8>| format!("--key: expected 16 bytes (32 hex digits), got {}", b.len()))
}

pub fn run(args: &[String]) -> ExitCode {
    let mut key = None;
    let mut inputs = Vec::new();
    let mut it = args.iter();
    while let Some(arg) = it.next() {
        match arg.as_str() {
            "--key" => match it.next().map(|k| parse_key(k)) {
                Some(Ok(k)) => key = Some(k),
                Some(Err(e)) => {
                    eprintln!("ruuvictl: {e}");
                    return ExitCode::from(2);
                }
                None => {
                    eprintln!("ruuvictl: --key needs a value");
                    return ExitCode::from(2);
                }
            },
            "-h" | "--help" => {
                println!("{USAGE}");
                return ExitCode::SUCCESS;
            }
            _ => inputs.push(arg.clone()),
        }
    }
    let stdout = io::stdout();
    let mut out = stdout.lock();
    let mut failures = 0usize;
    let mut handle = |input: &str, out: &mut dyn Write| match decode_one(input, key.as_ref()) {
        Ok(json) => {
            // A closed pipe (e.g. `| head`) is not worth a panic.
            let _ = writeln!(out, "{json}");
        }
        Err(e) => {
            failures += 1;
            eprintln!("ruuvictl: {input:?}: {e}");
        }
    };
    if inputs.is_empty() {
        for line in io::stdin().lock().lines() {
            match line {
                Ok(line) if line.trim().is_empty() => {}
                Ok(line) => handle(line.trim(), &mut out),
                Err(e) => {
                    eprintln!("ruuvictl: reading standard input: {e}");
                    return ExitCode::from(2);
                }
            }
        }
    } else {
        for input in &inputs {
            handle(input, &mut out);
        }
    }
    if failures > 0 {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    }
}

fn decode_one(input: &str, key: Option<&[u8; 16]>) -> Result<serde_json::Value, DecodeError> {
    let m = decode_hex(input, key)?;
    Ok(measurement_json(m.format(), &m.readings()))
}
