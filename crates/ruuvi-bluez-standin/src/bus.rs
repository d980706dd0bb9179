//! A private D-Bus daemon standing in for the system bus, started by the test and ended by PID
//! when dropped. Its policy is the system bus's as far as BlueZ is concerned: anyone may own
//! `org.bluez` here, and sending to it is allowed unless the test says otherwise (then the
//! daemon itself refuses with `org.freedesktop.DBus.Error.AccessDenied`, as a system bus does
//! for a user outside BlueZ's policy).

use std::path::PathBuf;
use std::process::Stdio;
use std::time::Duration;

use tokio::io::{AsyncBufReadExt, BufReader};

use crate::StandInError;

/// Who may talk to BlueZ on the private bus.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Policy {
    Allowed,
    /// Calls to `org.bluez` are refused by the bus (a user not in the `bluetooth` group).
    BluezDenied,
}

pub struct PrivateBus {
    address: String,
    dir: PathBuf,
    daemon: tokio::process::Child,
}

impl PrivateBus {
    pub async fn start(policy: Policy) -> Result<Self, StandInError> {
        let dir = std::env::temp_dir().join(format!(
            "ruuvi-bluez-standin-{}-{}",
            std::process::id(),
            NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed)
        ));
        std::fs::create_dir_all(&dir)?;
        let socket = dir.join("bus");
        let bluez = match policy {
            Policy::Allowed => r#"<allow send_destination="org.bluez"/>"#,
            Policy::BluezDenied => r#"<deny send_destination="org.bluez"/>"#,
        };
        let config = format!(
            r#"<!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN"
 "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">
<busconfig>
  <type>system</type>
  <listen>unix:path={socket}</listen>
  <auth>EXTERNAL</auth>
  <policy context="default">
    <allow user="*"/>
    <allow own="*"/>
    <allow send_type="method_call"/>
    <allow send_type="signal"/>
    <allow send_requested_reply="true" send_type="method_return"/>
    <allow send_requested_reply="true" send_type="error"/>
    <allow receive_type="method_call"/>
    <allow receive_type="method_return"/>
    <allow receive_type="error"/>
    <allow receive_type="signal"/>
    <allow send_destination="org.freedesktop.DBus"/>
    {bluez}
  </policy>
</busconfig>
"#,
            socket = socket.display()
        );
        let config_path = dir.join("bus.conf");
        std::fs::write(&config_path, config)?;
        let mut daemon = tokio::process::Command::new("dbus-daemon")
            .arg(format!("--config-file={}", config_path.display()))
            .arg("--nofork")
            .arg("--print-address=1")
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .kill_on_drop(true)
            .spawn()
            .map_err(|e| StandInError::Bus(format!("starting dbus-daemon: {e}")))?;
        let stdout = daemon.stdout.take().expect("piped");
        let mut line = String::new();
        let mut reader = BufReader::new(stdout);
        let read = reader.read_line(&mut line);
        match tokio::time::timeout(Duration::from_secs(5), read).await {
            Ok(Ok(n)) if n > 0 => {}
            _ => {
                return Err(StandInError::Bus(
                    "dbus-daemon did not print its address".into(),
                ))
            }
        }
        Ok(Self {
            address: line.trim().to_string(),
            dir,
            daemon,
        })
    }

    /// What `DBUS_SYSTEM_BUS_ADDRESS` is set to for the code under test.
    pub fn address(&self) -> &str {
        &self.address
    }
}

static NEXT: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);

impl Drop for PrivateBus {
    fn drop(&mut self) {
        // Our own daemon, by its PID.
        let _ = self.daemon.start_kill();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}
