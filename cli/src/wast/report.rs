//! What a script run produces, and how it is printed.
//!
//! One line per script, `PASS|FAIL FILE: N passed, N failed`, then the first
//! few failures indented; the whole run ends with a line that is exactly
//! `N passed, N failed`.

use std::fmt::Write as _;

/// One failed directive (or a failure of the whole script, line 0).
#[derive(Clone, Debug)]
pub struct Failure {
    /// 1-based; 0 when the failure is not tied to a directive.
    pub line: usize,
    pub col: usize,
    pub directive: String,
    pub detail: String,
}

#[derive(Clone, Debug, Default)]
pub struct FileReport {
    pub path: String,
    pub passed: usize,
    pub failed: usize,
    /// Every failure, in script order.
    pub failures: Vec<Failure>,
}

impl FileReport {
    pub fn new(path: &str) -> FileReport {
        FileReport {
            path: path.to_string(),
            ..FileReport::default()
        }
    }

    pub fn pass(&mut self) {
        self.passed += 1;
    }

    pub fn fail(&mut self, line: usize, col: usize, directive: &str, detail: impl Into<String>) {
        self.failed += 1;
        self.failures.push(Failure {
            line,
            col,
            directive: directive.to_string(),
            detail: crate::one_line(&detail.into()),
        });
    }

    /// A failure of the whole script (unreadable, unparsable, crashed...).
    pub fn fatal(path: &str, detail: impl Into<String>) -> FileReport {
        let mut r = FileReport::new(path);
        r.fail(0, 0, "script", detail);
        r
    }

    /// The report's lines, showing at most `show` failures.
    pub fn render(&self, show: usize) -> String {
        let mut o = String::new();
        let verdict = if self.failed == 0 { "PASS" } else { "FAIL" };
        let _ = writeln!(
            o,
            "{verdict} {}: {} passed, {} failed",
            self.path, self.passed, self.failed
        );
        for f in self.failures.iter().take(show) {
            if f.line == 0 {
                let _ = writeln!(o, "    {}: {}", f.directive, f.detail);
            } else {
                let _ = writeln!(
                    o,
                    "    {}:{}:{} {}: {}",
                    self.path, f.line, f.col, f.directive, f.detail
                );
            }
        }
        if self.failures.len() > show {
            let _ = writeln!(o, "    ... and {} more", self.failures.len() - show);
        }
        o
    }
}

/// The final line.
pub fn total_line(passed: usize, failed: usize) -> String {
    format!("{passed} passed, {failed} failed")
}

/// Parses a `total_line` back (used on child-process output).
pub fn parse_total_line(line: &str) -> Option<(usize, usize)> {
    let (p, rest) = line.trim().split_once(" passed, ")?;
    let f = rest.strip_suffix(" failed")?;
    Some((p.parse().ok()?, f.parse().ok()?))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn total_line_roundtrips() {
        assert_eq!(parse_total_line(&total_line(12, 3)), Some((12, 3)));
        assert_eq!(parse_total_line("PASS x.wast: 1 passed, 0 failed"), None);
    }

    #[test]
    fn render_limits_failures() {
        let mut r = FileReport::new("a.wast");
        r.pass();
        for i in 0..4 {
            r.fail(i + 1, 2, "assert_return", format!("bad {i}"));
        }
        let text = r.render(2);
        assert!(text.starts_with("FAIL a.wast: 1 passed, 4 failed\n"));
        assert!(text.contains("a.wast:2:2 assert_return: bad 1"));
        assert!(!text.contains("bad 2"));
        assert!(text.contains("... and 2 more"));
    }
}
