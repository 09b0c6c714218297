//! `wasm2o`: the command line (compile, wast, run, inspect).
//!
//! Every error reaches `main` as a [`CliError`] and is printed once, as one
//! line `wasm2o: error: ...`, with exit code 1. A panic (our bug) is caught
//! as a last resort and reported as an internal error with exit code 2.

#![deny(unsafe_code)]

mod cli;
mod cmd;
mod error;
mod loader;
mod values;
mod wast;

use std::process::ExitCode;

use clap::Parser;

pub use error::{CliError, Result};

fn main() -> ExitCode {
    // The default hook would print a multi-line message and backtrace hint;
    // keep the panic's text for our one-line report instead.
    std::panic::set_hook(Box::new(|info| {
        let msg = panic_text(info.payload());
        let loc = info
            .location()
            .map(|l| format!(" at {}:{}", l.file(), l.line()))
            .unwrap_or_default();
        LAST_PANIC.with(|p| *p.borrow_mut() = Some(format!("{msg}{loc}")));
    }));

    let args = match cli::Cli::try_parse() {
        Ok(args) => args,
        Err(e) if !e.use_stderr() => {
            // --help, --version.
            let _ = e.print();
            return ExitCode::SUCCESS;
        }
        Err(e) => {
            // A usage error: clap's message (before its usage block), in
            // our one-line format.
            let msg =
                if e.kind() == clap::error::ErrorKind::DisplayHelpOnMissingArgumentOrSubcommand {
                    "missing subcommand (compile, wast, run or inspect)".to_string()
                } else {
                    let text = e.render().to_string();
                    let lines: Vec<&str> = text
                        .lines()
                        .take_while(|l| {
                            !l.starts_with("Usage:") && !l.starts_with("For more information")
                        })
                        .collect();
                    let msg = one_line(&lines.join(" "));
                    msg.strip_prefix("error: ").unwrap_or(&msg).to_string()
                };
            eprintln!("wasm2o: error: {msg} (see wasm2o --help)");
            return ExitCode::from(1);
        }
    };

    match std::panic::catch_unwind(|| cmd::dispatch(args)) {
        Ok(Ok(code)) => code,
        Ok(Err(e)) => {
            eprintln!("wasm2o: error: {e}");
            ExitCode::from(1)
        }
        Err(payload) => {
            let text = LAST_PANIC
                .with(|p| p.borrow_mut().take())
                .unwrap_or_else(|| panic_text(&*payload));
            eprintln!(
                "wasm2o: internal error (please report): {}",
                one_line(&text)
            );
            ExitCode::from(2)
        }
    }
}

thread_local! {
    /// Text of the last panic on this thread, recorded by the panic hook.
    pub static LAST_PANIC: std::cell::RefCell<Option<String>> = const { std::cell::RefCell::new(None) };
}

/// The message of a panic payload.
pub fn panic_text(payload: &(dyn std::any::Any + Send)) -> String {
    if let Some(s) = payload.downcast_ref::<&str>() {
        (*s).to_string()
    } else if let Some(s) = payload.downcast_ref::<String>() {
        s.clone()
    } else {
        "panic".to_string()
    }
}

/// Collapses a multi-line message to one line.
pub fn one_line(s: &str) -> String {
    s.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// Prints to stdout, ignoring a closed pipe (`wasm2o ... | head`).
pub fn out(text: &str) {
    use std::io::Write;
    let mut stdout = std::io::stdout().lock();
    let _ = stdout.write_all(text.as_bytes());
    let _ = stdout.flush();
}
