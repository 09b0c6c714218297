//! Running many scripts: `jobs` at a time, reports printed in input order.
//!
//! In-process: worker threads with big stacks (deep recursion in scripts,
//! and compiled code's stack limit is measured from the thread's stack);
//! a panic fails only its script. With child processes (the default for
//! several scripts) each script runs in `wasm2o wast --in-process FILE`, so
//! a crash (a runtime bug turning into SIGSEGV) or a hang fails only that
//! script, and its time is bounded by `--timeout`.

use std::io::{Read, Write};
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::Path;
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use crate::cli::WastArgs;
use crate::error::err;
use crate::Result;

use super::prepare::{Codegen, Settings};
use super::report::{parse_total_line, Failure, FileReport};
use super::script::{run_file, TRACE_PREFIX};

/// Stack of the threads that run scripts.
const SCRIPT_STACK: usize = 64 << 20;

/// One script's printed report and counts.
pub struct Outcome {
    text: String,
    passed: usize,
    failed: usize,
}

impl Outcome {
    fn from_report(r: &FileReport, show: usize) -> Outcome {
        Outcome {
            text: r.render(show),
            passed: r.passed,
            failed: r.failed,
        }
    }
}

/// Runs `work(i)` for every file on `jobs` threads, printing outcomes in
/// order as they become available. Returns the summed counts.
fn run_all(
    n: usize,
    jobs: usize,
    stack: usize,
    work: &(dyn Fn(usize) -> Outcome + Sync),
) -> (usize, usize) {
    let next = AtomicUsize::new(0);
    let (tx, rx) = mpsc::channel::<(usize, Outcome)>();
    let mut done: Vec<Option<Outcome>> = (0..n).map(|_| None).collect();
    let (mut passed, mut failed) = (0, 0);
    std::thread::scope(|scope| {
        for _ in 0..jobs.clamp(1, n.max(1)) {
            let tx = tx.clone();
            let next = &next;
            let spawned =
                std::thread::Builder::new()
                    .stack_size(stack)
                    .spawn_scoped(scope, move || loop {
                        let i = next.fetch_add(1, Ordering::Relaxed);
                        if i >= n {
                            break;
                        }
                        if tx.send((i, work(i))).is_err() {
                            break;
                        }
                    });
            if let Err(e) = spawned {
                eprintln!("wasm2o: warning: cannot start a worker thread: {e}");
            }
        }
        drop(tx);
        let mut printed = 0;
        let stdout = std::io::stdout();
        for (i, outcome) in rx {
            done[i] = Some(outcome);
            while let Some(Some(o)) = done.get(printed) {
                passed += o.passed;
                failed += o.failed;
                let mut out = stdout.lock();
                let _ = out.write_all(o.text.as_bytes());
                let _ = out.flush();
                printed += 1;
            }
        }
    });
    // A script no worker reached (all workers failed to start).
    failed += done.iter().filter(|d| d.is_none()).count();
    (passed, failed)
}

pub fn in_process(a: &WastArgs, jobs: usize) -> (usize, usize) {
    let settings = Settings {
        codegen: Codegen {
            target: a.target.as_deref(),
            cpu: a.cpu.as_deref(),
        },
        keep: a.keep.as_deref(),
        precompiled: a.precompiled.as_deref(),
    };
    let work = |i: usize| {
        let path = &a.files[i];
        let report = match catch_unwind(AssertUnwindSafe(|| run_file(path, &settings))) {
            Ok(r) => r,
            Err(payload) => {
                let text = crate::LAST_PANIC
                    .with(|p| p.borrow_mut().take())
                    .unwrap_or_else(|| crate::panic_text(&*payload));
                FileReport::fatal(&path.display().to_string(), format!("panic: {text}"))
            }
        };
        Outcome::from_report(&report, a.show)
    };
    run_all(a.files.len(), jobs, SCRIPT_STACK, &work)
}

pub fn child_processes(a: &WastArgs, jobs: usize) -> Result<(usize, usize)> {
    let exe =
        std::env::current_exe().map_err(|e| err!("cannot find the wasm2o executable: {e}"))?;
    let work = |i: usize| {
        let file = &a.files[i];
        let mut cmd = Command::new(&exe);
        cmd.arg("wast");
        if let Some(t) = &a.target {
            cmd.arg(format!("--target={t}"));
        }
        if let Some(c) = &a.cpu {
            cmd.arg(format!("--cpu={c}"));
        }
        if let Some(k) = &a.keep {
            cmd.arg("--keep").arg(k);
        }
        child_args(&mut cmd, a, file);
        run_child(cmd, &exe.display().to_string(), a, file)
    };
    Ok(run_all(a.files.len(), jobs, 1 << 20, &work))
}

/// Runs `work(i)` for every script, at most `jobs` at once, printing the
/// outcomes in order (for `cross`).
pub fn run_scripts(
    n: usize,
    jobs: usize,
    work: &(dyn Fn(usize) -> Outcome + Sync),
) -> (usize, usize) {
    run_all(n, jobs, 1 << 20, work)
}

/// The arguments that make a `wasm2o wast` child run one script and print
/// its report and total line.
pub fn child_args(cmd: &mut Command, a: &WastArgs, file: &Path) {
    cmd.arg("--in-process")
        .arg("--jobs=1")
        .arg(format!("--show={}", a.show))
        .arg("--")
        .arg(file);
}

/// A script that could not even start.
pub fn fatal(file: &Path, detail: String, show: usize) -> Outcome {
    Outcome::from_report(
        &FileReport::fatal(&file.display().to_string(), detail),
        show,
    )
}

/// Runs one child `wasm2o wast` (`cmd`, whose program `program` names in
/// messages) and turns its output, or its crash or hang, into an outcome.
pub fn run_child(mut cmd: Command, program: &str, a: &WastArgs, file: &Path) -> Outcome {
    let name = file.display().to_string();
    // The directive trace on stderr lets a crash be pinned to its directive.
    cmd.env("WASM2O_WAST_TRACE", "1");
    cmd.stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let fatal = |detail: String| Outcome::from_report(&FileReport::fatal(&name, detail), a.show);

    let mut child = match cmd.spawn() {
        Ok(c) => c,
        Err(e) => return fatal(format!("cannot start {program}: {e}")),
    };
    // Drain both pipes on threads so a chatty child cannot block on a full pipe.
    let drain = |r: Option<Box<dyn Read + Send>>| {
        std::thread::spawn(move || {
            let mut buf = Vec::new();
            if let Some(mut r) = r {
                let _ = r.read_to_end(&mut buf);
            }
            String::from_utf8_lossy(&buf).into_owned()
        })
    };
    let out = drain(
        child
            .stdout
            .take()
            .map(|r| Box::new(r) as Box<dyn Read + Send>),
    );
    let errs = drain(
        child
            .stderr
            .take()
            .map(|r| Box::new(r) as Box<dyn Read + Send>),
    );

    let deadline = Instant::now() + Duration::from_secs(a.timeout);
    let status = loop {
        match child.try_wait() {
            Ok(Some(s)) => break Ok(s),
            Ok(None) if Instant::now() >= deadline => {
                let _ = child.kill();
                let _ = child.wait();
                break Err(format!("timed out after {} s", a.timeout));
            }
            Ok(None) => std::thread::sleep(Duration::from_millis(20)),
            Err(e) => break Err(format!("cannot wait for the child process: {e}")),
        }
    };
    let stdout = out.join().unwrap_or_default();
    let stderr = errs.join().unwrap_or_default();
    let last_err = stderr
        .lines()
        .rev()
        .find(|l| !l.trim().is_empty() && !l.starts_with(TRACE_PREFIX))
        .unwrap_or("")
        .to_string();
    let last_trace = stderr
        .lines()
        .rev()
        .find_map(|l| l.strip_prefix(TRACE_PREFIX));

    let status = match status {
        Ok(s) => s,
        Err(e) => return pinned(&name, e, last_trace, a.show),
    };
    // The child's output: the script's report, then the total line.
    let mut lines: Vec<&str> = stdout.lines().collect();
    while lines.last().is_some_and(|l| l.trim().is_empty()) {
        lines.pop();
    }
    let total = lines.last().and_then(|l| parse_total_line(l));
    match (total, status.code()) {
        (Some((passed, failed)), Some(0 | 1)) => {
            lines.pop();
            let mut text = lines.join("\n");
            text.push('\n');
            Outcome {
                text,
                passed,
                failed,
            }
        }
        _ => {
            let tail = if last_err.is_empty() {
                String::new()
            } else {
                format!("; stderr: {last_err}")
            };
            pinned(
                &name,
                format!("{}{tail}", describe_status(&status)),
                last_trace,
                a.show,
            )
        }
    }
}

/// A script that crashed or hung: the failure, pinned on the directive the
/// trace says was running, with the counts up to it.
fn pinned(name: &str, how: String, last_trace: Option<&str>, show: usize) -> Outcome {
    match last_trace.and_then(parse_trace) {
        Some((passed, failed, at)) => {
            let mut r = FileReport::new(name);
            r.passed = passed;
            r.failed = failed + 1;
            let lost = if failed > 0 {
                format!(" (details of {failed} earlier failure(s) lost)")
            } else {
                String::new()
            };
            r.failures.push(Failure {
                line: 0,
                col: 0,
                directive: at,
                detail: format!("{how}{lost}"),
            });
            Outcome::from_report(&r, show)
        }
        None => Outcome::from_report(&FileReport::fatal(name, how), show),
    }
}

/// `PASSED FAILED WHERE DIRECTIVE` (see `script::TRACE_PREFIX`).
fn parse_trace(line: &str) -> Option<(usize, usize, String)> {
    let mut parts = line.splitn(3, ' ');
    let passed = parts.next()?.parse().ok()?;
    let failed = parts.next()?.parse().ok()?;
    Some((passed, failed, parts.next()?.to_string()))
}

fn describe_status(status: &std::process::ExitStatus) -> String {
    use std::os::unix::process::ExitStatusExt;
    match (status.code(), status.signal()) {
        (_, Some(sig)) => format!("crashed: killed by signal {sig}{}", signal_name(sig)),
        (Some(c), _) => format!("exited with status {c} without a report"),
        _ => format!("ended abnormally ({status})"),
    }
}

fn signal_name(sig: i32) -> &'static str {
    match sig {
        libc::SIGSEGV => " (SIGSEGV)",
        libc::SIGBUS => " (SIGBUS)",
        libc::SIGILL => " (SIGILL)",
        libc::SIGABRT => " (SIGABRT)",
        libc::SIGFPE => " (SIGFPE)",
        libc::SIGTRAP => " (SIGTRAP)",
        libc::SIGKILL => " (SIGKILL)",
        _ => "",
    }
}
