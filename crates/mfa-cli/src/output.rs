//! The one way a command prints its result: a [`Report`] (the value for
//! `--json` and the text for people) given to [`Output::print`], which
//! writes one line of JSON under `--json` and the text otherwise.
//!
//! Failures are not printed here: a handler returns a [`Failure`] and
//! `main` writes its one line on standard error with the exit status. A
//! handler that has a result *and* fails (a denied `mfa verify`, a fraud
//! report whose e-mail was not delivered) prints its report first, then
//! returns the failure.

use std::io::Write;

use crate::Failure;

/// A command's result: what `--json` prints and what people read.
#[derive(Debug)]
pub(crate) struct Report {
    json: serde_json::Value,
    text: String,
}

impl Report {
    /// A result as one JSON value (printed on one line under `--json`) and
    /// its text (trailing white space dropped; an empty text prints nothing,
    /// for a result whose only message is the failure on standard error).
    pub(crate) fn new(json: serde_json::Value, text: impl Into<String>) -> Report {
        Report {
            json,
            text: text.into(),
        }
    }
}

/// Standard output of a command, and whether `--json` was asked for.
pub(crate) struct Output<'a> {
    out: &'a mut dyn Write,
    json: bool,
}

impl<'a> Output<'a> {
    /// Results go to `out`, as JSON when `json`.
    pub(crate) fn new(out: &'a mut dyn Write, json: bool) -> Output<'a> {
        Output { out, json }
    }

    /// Whether results are printed as JSON (so a handler can leave out
    /// what only the text shows, such as a QR code).
    pub(crate) fn json(&self) -> bool {
        self.json
    }

    /// Prints a result: its JSON on one line under `--json`, else its text.
    pub(crate) fn print(&mut self, report: &Report) -> Result<(), Failure> {
        let r = if self.json {
            writeln!(self.out, "{}", report.json)
        } else if report.text.is_empty() {
            Ok(())
        } else {
            writeln!(self.out, "{}", report.text.trim_end())
        };
        r.map_err(Failure::write)
    }

    /// Output that is not a result and has no JSON form, written as it is
    /// whether or not `--json` was given: a shell completion script, the
    /// step-by-step narrative of `mfa demo`.
    pub(crate) fn verbatim(&mut self, bytes: &[u8]) -> Result<(), Failure> {
        self.out.write_all(bytes).map_err(Failure::write)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn printed(json: bool, report: &Report) -> String {
        let mut buf = Vec::new();
        Output::new(&mut buf, json).print(report).unwrap();
        String::from_utf8(buf).unwrap()
    }

    #[test]
    fn json_is_one_line_and_text_is_trimmed() {
        let r = Report::new(serde_json::json!({"b": 1, "a": [true]}), "two\nlines \n\n");
        assert_eq!(printed(true, &r), "{\"a\":[true],\"b\":1}\n");
        assert_eq!(printed(false, &r), "two\nlines\n");
    }

    #[test]
    fn an_empty_text_prints_nothing_but_its_json_does() {
        let r = Report::new(serde_json::json!({"result": "denied"}), "");
        assert_eq!(printed(false, &r), "");
        assert_eq!(printed(true, &r), "{\"result\":\"denied\"}\n");
    }

    #[test]
    fn verbatim_is_the_same_with_or_without_json() {
        for json in [false, true] {
            let mut buf = Vec::new();
            Output::new(&mut buf, json)
                .verbatim(b"complete -F _mfa mfa\n")
                .unwrap();
            assert_eq!(buf, b"complete -F _mfa mfa\n");
        }
    }
}
