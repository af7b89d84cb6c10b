//! The seed's flows as shipped in `examples/`, run as users run them
//! (no `MIOSA_API_KEY`, so each starts its own emulator).

use std::path::PathBuf;
use std::process::Command;

/// `cargo test` builds the examples next to the test binaries.
fn example(name: &str) -> PathBuf {
    let deps = std::env::current_exe().expect("test binary path");
    let dir = deps
        .parent()
        .and_then(|d| d.parent())
        .expect("target profile dir");
    dir.join("examples").join(name)
}

fn run(name: &str) -> String {
    let output = Command::new(example(name))
        .env_remove("MIOSA_API_KEY")
        .env_remove("MIOSA_BASE_URL")
        .output()
        .expect("example runs");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "{name} failed: {stderr}");
    assert!(stderr.contains("using a local miosa-emulator"), "{stderr}");
    String::from_utf8(output.stdout).expect("utf-8 output")
}

#[test]
fn quickstart_prints_2() {
    assert_eq!(run("quickstart"), "2\n");
}

#[test]
fn white_label_flow_runs_to_the_end() {
    let out = run("white_label");
    for line in [
        "ready: true",
        "written: 2",
        "preview url: http",
        "share url: http",
        "destroyed sbx_",
    ] {
        assert!(out.contains(line), "missing `{line}` in:\n{out}");
    }
}
