//! `ruuvictl ble`: this computer's Bluetooth as a feed — live scanning, recording, and replay
//! of recordings — printing decoded observations as JSON lines.

use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use clap::{Args, Subcommand};
use ruuvi_ble::replay::{play, read_recording, write_line, ReplayOptions, Speed};
use ruuvi_ble::{Advertisement, BleStatus, Identify, ScanOptions};
use tokio::sync::{mpsc, watch};

#[derive(Debug, Subcommand)]
pub enum BleCommand {
    /// Print decoded observations from nearby tags, one JSON object per line (Ctrl-C stops).
    Scan(ScanArgs),
    /// Write the raw advertisements to FILE (JSON Lines) for `scan --replay` and bug reports.
    Record {
        file: PathBuf,
        #[command(flatten)]
        source: Source,
    },
    /// Download a sensor's own log (RuuviTag firmware 3.x, Ruuvi Air) and print its records
    /// as observations, one JSON object per line (`feed: ble_history`); progress on stderr.
    /// `ruuvictl import -` stores them; the app also leaves out what it already has.
    History {
        /// The sensor's MAC address.
        sensor: ruuvi_protocol::MacAddress,
        /// From when: `24h`, `3d`, Unix ms, `2026-11-22` or `2026-11-22T10:00:00Z` [default:
        /// everything the sensor keeps].
        #[arg(long)]
        since: Option<String>,
        #[arg(long)]
        adapter: Option<String>,
    },
    /// Whether Bluetooth can be used here, and if not why and what to do.
    Status {
        #[arg(long)]
        adapter: Option<String>,
        #[arg(long)]
        json: bool,
    },
}

#[derive(Debug, Args)]
pub struct ScanArgs {
    #[command(flatten)]
    source: Source,
    /// Play this recording instead of listening to the radio.
    #[arg(long)]
    replay: Option<PathBuf>,
    /// Replay speed: 1 (as recorded), a factor such as 10, or `instant`.
    #[arg(long, default_value = "1")]
    speed: String,
    /// Keep the recorded times instead of shifting them to now.
    #[arg(long)]
    original_times: bool,
    /// Print every advertisement, not each measurement once (tags repeat a measurement in
    /// several advertisements; a Ruuvi Air sends it as E1 and as format 6).
    #[arg(long)]
    all: bool,
}

#[derive(Debug, Args)]
pub struct Source {
    /// The adapter to use (part of its name, e.g. `hci1`); the first one otherwise.
    #[arg(long)]
    adapter: Option<String>,
    /// Stop after this many seconds.
    #[arg(long)]
    seconds: Option<u64>,
}

/// Unavailable Bluetooth: the same exit code as an unreachable gateway.
const UNAVAILABLE: u8 = 3;

/// Reads a recording for `--replay`; the error names the file and the line.
pub(crate) fn load_recording(path: &std::path::Path) -> Result<Vec<Advertisement>, String> {
    std::fs::File::open(path)
        .map_err(|e| e.to_string())
        .and_then(|f| read_recording(std::io::BufReader::new(f)).map_err(|e| e.to_string()))
        .map_err(|e| format!("{}: {e}", path.display()))
}

/// Says each new Bluetooth state once on stderr and in the log (the feed repeats its status on
/// every retry).
pub(crate) async fn say_status_changes(mut status: watch::Receiver<BleStatus>) {
    let mut said: Option<BleStatus> = None;
    while status.changed().await.is_ok() {
        let now = status.borrow_and_update().clone();
        if said.as_ref() != Some(&now) {
            tracing::info!("{now}");
            eprintln!("ruuvictl: {now}");
            said = Some(now);
        }
    }
}

/// Whether Bluetooth can be used now; if not, says why (stderr and the log) and gives the
/// exit code.
async fn available(adapter: Option<String>) -> Result<(), ExitCode> {
    let status = ruuvi_ble::status_now(adapter).await;
    if matches!(status, BleStatus::Unavailable { .. }) {
        tracing::warn!("{status}");
        eprintln!("{status}");
        return Err(ExitCode::from(UNAVAILABLE));
    }
    Ok(())
}

/// Starts the live feed (after a probe that says it can) or the replay; advertisements arrive
/// on the returned channel until the source ends.
async fn start(
    source: &Source,
    replay: Option<(Vec<Advertisement>, ReplayOptions)>,
) -> Result<mpsc::Receiver<Advertisement>, ExitCode> {
    let (tx, rx) = mpsc::channel(256);
    match replay {
        Some((recording, options)) => {
            tokio::spawn(async move { play(&recording, options, tx).await });
        }
        None => {
            available(source.adapter.clone()).await?;
            let options = ScanOptions {
                adapter: source.adapter.clone(),
                ..ScanOptions::default()
            };
            let (status_tx, status_rx) = watch::channel(BleStatus::Starting);
            tokio::spawn(ruuvi_ble::scan(options, tx, status_tx));
            // Later changes (adapter unplugged, switched off, back) go to stderr.
            tokio::spawn(say_status_changes(status_rx));
        }
    }
    Ok(rx)
}

pub(crate) fn parse_speed(text: &str) -> Result<Speed, String> {
    match text {
        "instant" => Ok(Speed::Instant),
        "1" => Ok(Speed::Real),
        other => match other.parse::<f64>() {
            Ok(f) if f > 0.0 && f.is_finite() => Ok(Speed::Times(f)),
            _ => Err(format!(
                "--speed {other:?}: 1, a factor such as 10, or instant"
            )),
        },
    }
}

/// Waits for the next advertisement, the time limit or Ctrl-C.
async fn next(
    rx: &mut mpsc::Receiver<Advertisement>,
    deadline: Option<tokio::time::Instant>,
) -> Option<Advertisement> {
    let limit = async {
        match deadline {
            Some(d) => tokio::time::sleep_until(d).await,
            None => std::future::pending().await,
        }
    };
    tokio::select! {
        a = rx.recv() => a,
        _ = limit => None,
        _ = tokio::signal::ctrl_c() => None,
    }
}

/// `24h`, `3d`, `90m` ago, or a time as `export --from` takes it.
fn since_ms(text: &str, now_ms: i64) -> Result<i64, String> {
    let ago = |n: &str, unit_ms: i64| n.parse::<i64>().ok().map(|n| now_ms - n * unit_ms);
    let relative = match text.char_indices().last() {
        Some((i, 'm')) => ago(&text[..i], 60_000),
        Some((i, 'h')) => ago(&text[..i], 3_600_000),
        Some((i, 'd')) => ago(&text[..i], 86_400_000),
        _ => None,
    };
    match relative {
        Some(ms) => Ok(ms),
        None => crate::serve::parse_time(text),
    }
}

/// Downloads a sensor's log; the records go to stdout, progress to stderr.
async fn history(
    sensor: ruuvi_protocol::MacAddress,
    since: Option<String>,
    adapter: Option<String>,
) -> ExitCode {
    use ruuvi_ble::{DownloadOptions, DownloadStep};
    let now_ms = ruuvi_protocol::clock::now_ms();
    let since_ms = match since.as_deref().map(|s| since_ms(s, now_ms)).transpose() {
        Ok(s) => s.unwrap_or(now_ms - ruuvi_app::history::LOG_REACH_MS),
        Err(e) => {
            eprintln!("ruuvictl: --since {e}");
            return ExitCode::from(2);
        }
    };
    if let Err(code) = available(adapter.clone()).await {
        return code;
    }
    let options = DownloadOptions {
        scan: ScanOptions {
            adapter,
            ..ScanOptions::default()
        },
        ..DownloadOptions::default()
    };
    let (progress, mut steps) = watch::channel(DownloadStep::Finding);
    let (cancel, cancelled) = watch::channel(false);
    // Ctrl-C stops the download; what arrived is still printed.
    tokio::spawn(async move {
        if tokio::signal::ctrl_c().await.is_ok() {
            cancel.send_replace(true);
        }
    });
    let shown = tokio::spawn(async move {
        loop {
            let line = match steps.borrow_and_update().clone() {
                DownloadStep::Finding => format!("looking for {sensor}…"),
                DownloadStep::Connecting => "connecting…".to_string(),
                DownloadStep::Reading { records } => format!("reading the log: {records} records"),
                DownloadStep::Done { records } => format!("{records} records"),
            };
            eprint!("\r\x1b[2K{line}");
            if steps.changed().await.is_err() {
                eprintln!();
                return;
            }
        }
    });
    let since_s = u32::try_from(since_ms.max(0) / 1000).unwrap_or(0);
    let result = ruuvi_ble::download(&options, sensor, since_s, &progress, cancelled).await;
    drop(progress);
    let _ = shown.await;
    let got = match result {
        Ok(got) => got,
        Err(e) => {
            eprintln!("ruuvictl: {sensor}: {e}");
            return ExitCode::from(UNAVAILABLE);
        }
    };
    let mut out = std::io::stdout().lock();
    for r in &got.records {
        let o = ruuvi_app::history::observation(sensor, r);
        let line = serde_json::to_string(&o).expect("plain data");
        if writeln!(out, "{line}").is_err() {
            break;
        }
    }
    let _ = out.flush();
    match got.error {
        None => ExitCode::SUCCESS,
        Some(e) => {
            eprintln!(
                "ruuvictl: {sensor}: {e} (the {} records before it are printed)",
                got.records.len()
            );
            ExitCode::from(1)
        }
    }
}

pub async fn run(command: BleCommand) -> ExitCode {
    match command {
        BleCommand::History {
            sensor,
            since,
            adapter,
        } => history(sensor, since, adapter).await,
        BleCommand::Status { adapter, json } => {
            let status = ruuvi_ble::status_now(adapter).await;
            if json {
                println!("{}", serde_json::to_string(&status).expect("plain enum"));
            } else {
                println!("{status}");
            }
            match status {
                BleStatus::Unavailable { .. } => ExitCode::from(UNAVAILABLE),
                _ => ExitCode::SUCCESS,
            }
        }
        BleCommand::Scan(args) => {
            let replay = match &args.replay {
                None => None,
                Some(path) => {
                    let speed = match parse_speed(&args.speed) {
                        Ok(s) => s,
                        Err(e) => {
                            eprintln!("ruuvictl: {e}");
                            return ExitCode::from(2);
                        }
                    };
                    let recording = match load_recording(path) {
                        Ok(r) => r,
                        Err(e) => {
                            eprintln!("ruuvictl: {e}");
                            return ExitCode::from(2);
                        }
                    };
                    let options = ReplayOptions {
                        speed,
                        retime_to_now: !args.original_times,
                        rounds: 1,
                    };
                    Some((recording, options))
                }
            };
            let mut rx = match start(&args.source, replay).await {
                Ok(rx) => rx,
                Err(code) => return code,
            };
            let deadline = args
                .source
                .seconds
                .map(|s| tokio::time::Instant::now() + Duration::from_secs(s));
            let mut identify = Identify::default();
            // The hub's rule: one measurement once, E1 preferred over format 6.
            let mut dedupe = ruuvi_hub::Dedupe::default();
            let mut out = std::io::stdout().lock();
            while let Some(adv) = next(&mut rx, deadline).await {
                match identify.observe(&adv) {
                    Ok(o) if !args.all && !dedupe.accept(&o) => {}
                    Ok(o) => {
                        let line = serde_json::to_string(&o).expect("plain data");
                        if writeln!(out, "{line}").and_then(|()| out.flush()).is_err() {
                            break; // the reader went away
                        }
                    }
                    Err(e) => tracing::debug!(address = ?adv.address, "skipped: {e}"),
                }
            }
            ExitCode::SUCCESS
        }
        BleCommand::Record { file, source } => {
            let mut rx = match start(&source, None).await {
                Ok(rx) => rx,
                Err(code) => return code,
            };
            let mut writer = match std::fs::File::create(&file) {
                Ok(f) => std::io::BufWriter::new(f),
                Err(e) => {
                    eprintln!("ruuvictl: {}: {e}", file.display());
                    return ExitCode::from(2);
                }
            };
            let deadline = source
                .seconds
                .map(|s| tokio::time::Instant::now() + Duration::from_secs(s));
            let mut n = 0u64;
            while let Some(adv) = next(&mut rx, deadline).await {
                if let Err(e) = write_line(&mut writer, &adv).and_then(|()| writer.flush()) {
                    eprintln!("ruuvictl: {}: {e}", file.display());
                    return ExitCode::FAILURE;
                }
                n += 1;
            }
            eprintln!("recorded {n} advertisements to {}", file.display());
            ExitCode::SUCCESS
        }
    }
}
