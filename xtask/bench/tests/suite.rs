//! Runs every benchmark with tiny iteration counts and checks the report's
//! shape: every field present, every measured number finite and positive,
//! every chart written. No timing is asserted: only that the code paths work.

use std::process::Command;

use serde_json::Value;

fn bench() -> Command {
    Command::new(env!("CARGO_BIN_EXE_course-bench"))
}

/// Every number under `value` (null marks "not measured" and is skipped).
fn numbers<'a>(path: String, value: &'a Value, out: &mut Vec<(String, &'a Value)>) {
    match value {
        Value::Number(_) => out.push((path, value)),
        Value::Array(items) => {
            for (i, v) in items.iter().enumerate() {
                numbers(format!("{path}[{i}]"), v, out);
            }
        }
        Value::Object(map) => {
            for (k, v) in map {
                numbers(format!("{path}.{k}"), v, out);
            }
        }
        _ => {}
    }
}

fn stats_ok(path: &str, s: &Value) {
    for key in ["median", "q1", "q3", "min", "max", "samples"] {
        assert!(s[key].is_number(), "{path}.{key} missing in {s}");
    }
    let f = |k: &str| s[k].as_f64().unwrap();
    assert!(
        f("min") <= f("q1")
            && f("q1") <= f("median")
            && f("median") <= f("q3")
            && f("q3") <= f("max"),
        "{path}: min <= q1 <= median <= q3 <= max does not hold: {s}"
    );
}

#[test]
fn tiny_run_writes_a_complete_report_and_charts() {
    let dir = std::env::temp_dir().join(format!("course-bench-test-{}", std::process::id()));
    let out = bench()
        .args(["--tiny", "--format", "json", "--out"])
        .arg(&dir)
        .output()
        .expect("run the bench");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "bench failed:\n{stderr}");
    let report: Value = serde_json::from_slice(&out.stdout).expect("stdout is JSON");

    assert_eq!(report["schema"], "course-bench/1");
    assert_eq!(report["plan"], "tiny");
    for key in ["os", "arch", "cores", "rustc", "profile", "date"] {
        assert!(!report["machine"][key].is_null(), "machine.{key} missing");
    }
    let cores = report["machine"]["cores"].as_u64().unwrap() as usize;

    for key in ["thread_us", "scoped_us", "process_us"] {
        stats_ok(key, &report["spawn"][key]);
    }
    assert!(report["spawn"]["process_per_thread"].is_number());

    let memory = &report["memory"];
    let fields = [
        "per_thread_resident_kib",
        "per_thread_reserved_kib",
        "per_process_resident_kib",
        "per_process_private_kib",
    ];
    if memory["measured"].as_bool().unwrap() {
        for key in &fields[..3] {
            stats_ok(key, &memory[*key]);
        }
    } else {
        // Never a made-up number: nothing but nulls where not measured.
        for key in fields {
            assert!(
                memory[key].is_null(),
                "{key} must be null when not measured"
            );
        }
    }
    assert!(cfg!(not(target_os = "linux")) || memory["measured"] == true);

    let comm = report["communication"]["results"].as_array().unwrap();
    assert_eq!(comm.len(), 8, "4 methods x 2 sizes");
    for r in comm {
        for key in ["messages_per_s", "bytes_per_s", "round_trip_us"] {
            stats_ok(key, &r[key]);
        }
    }

    let points = report["scaling"]["points"].as_array().unwrap();
    assert_eq!(points.len(), cores, "one point per worker count 1..=cores");
    for p in points {
        stats_ok("threads_ms", &p["threads_ms"]);
        stats_ok("processes_ms", &p["processes_ms"]);
    }

    let blocking = report["blocking"]["results"].as_array().unwrap();
    let modes: Vec<&str> = blocking
        .iter()
        .map(|r| r["mode"].as_str().unwrap())
        .collect();
    assert_eq!(modes, ["inline", "thread", "process"]);

    let mut all = Vec::new();
    numbers(String::new(), &report, &mut all);
    for (path, n) in all {
        let x = n.as_f64().unwrap();
        assert!(
            x.is_finite() && x > 0.0,
            "{path} = {x}: expected a finite, positive number"
        );
    }

    // The charts are drawn from the JSON, and can be redrawn from the file.
    let saved: Value =
        serde_json::from_str(&std::fs::read_to_string(dir.join("bench.json")).unwrap()).unwrap();
    assert_eq!(saved, report);
    let redrawn = dir.join("redrawn");
    let out = bench()
        .arg("--render")
        .arg(dir.join("bench.json"))
        .arg("--out")
        .arg(&redrawn)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    for chart in ["spawn", "throughput", "latency", "scaling", "blocking"] {
        for d in [&dir, &redrawn] {
            let svg = std::fs::read_to_string(d.join(format!("{chart}.svg"))).unwrap();
            assert!(
                svg.starts_with("<svg") && svg.contains("</svg>"),
                "{chart}.svg"
            );
        }
    }
    let table = std::fs::read_to_string(redrawn.join("table.txt")).unwrap();
    assert!(table.contains("1. Spawn cost") && table.contains("5. Blocking"));
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn bad_arguments_are_refused_with_the_usage() {
    let out = bench().arg("--fast").output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("usage:"));
}
