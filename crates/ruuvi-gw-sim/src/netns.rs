//! Running a test inside a private network namespace (loopback only, multicast on), so that
//! mDNS and other multicast traffic never reaches a real network. Needs `unshare` (util-linux),
//! `ip` (iproute2) and the right to create a network namespace (root).

use std::process::Command;

/// Set in the environment of the test that runs inside the namespace.
pub const INNER_ENV: &str = "RUUVI_IN_PRIVATE_NETNS";

/// Re-runs this test binary's `inner_test` (an `#[ignore]`d test) inside a new network
/// namespace and returns its output; panics with that output if it failed or did not run.
pub fn run_test_inside(inner_test: &str) -> String {
    let exe = std::env::current_exe().expect("the test binary");
    let script = "ip link set lo up && ip link set lo multicast on \
                  && ip route add 224.0.0.0/4 dev lo \
                  && exec \"$0\" --exact \"$1\" --ignored --nocapture";
    let out = Command::new("unshare")
        .args(["--net", "sh", "-c", script])
        .arg(&exe)
        .arg(inner_test)
        .env(INNER_ENV, "1")
        .output()
        .expect("unshare (util-linux) runs; a network namespace needs root");
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(out.status.success(), "{text}");
    assert!(text.contains("1 passed"), "the inner test ran: {text}");
    text
}

/// Panics unless this process runs inside such a namespace: started by [`run_test_inside`]
/// and with `lo` as its only interface.
pub fn assert_inside() {
    assert_eq!(
        std::env::var(INNER_ENV).as_deref(),
        Ok("1"),
        "run through run_test_inside"
    );
    // /proc/self/net/dev lists the interfaces of this process's network namespace.
    let dev = std::fs::read_to_string("/proc/self/net/dev").expect("/proc/self/net/dev");
    let interfaces: Vec<&str> = dev
        .lines()
        .skip(2)
        .filter_map(|l| l.split(':').next().map(str::trim))
        .collect();
    assert_eq!(interfaces, ["lo"], "not in a private network namespace");
}
