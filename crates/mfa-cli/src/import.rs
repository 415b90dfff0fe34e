//! `mfa import`: a token file into the store, streamed, with a progress bar,
//! a summary and an errors CSV.

use std::collections::BTreeMap;
use std::fs::File;
use std::io::{BufRead, BufReader, Read, Write};
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use clap::{Args, ValueEnum};
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use mfa_import::{
    CloudCsvReader, ImportReport, ImportedToken, OtpauthListReader, PskcOptions, PskcReader,
    Rejection, ServerCsvReader,
};
use mfa_store::{ImportMode, NewToken};
use serde_json::json;

use crate::Failure;
use crate::ctx::{Global, decode_hex, now, read_passphrase};
use crate::output::{Output, Report};

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(crate) enum Format {
    /// Decide from the content: XML is PSKC, a CSV whose header starts
    /// with `upn` is the cloud format, any other CSV the server format.
    Auto,
    /// PSKC (RFC 6030), plain or encrypted.
    Pskc,
    /// CSV: serial number, base32 secret, time interval (header optional).
    CsvServer,
    /// CSV with the header `upn,serial number,secret key,time interval,manufacturer,model`.
    CsvCloud,
    /// otpauth URIs, one a line: the plain-text export of Aegis, 2FAS,
    /// Ente Auth, andOTP, FreeOTP+, and Google Authenticator
    /// `otpauth-migration://offline?data=…` lines. The serial of each token
    /// is its label (`issuer:account`).
    Otpauth,
}

#[derive(Debug, Args)]
#[command(after_help = "Examples:\n  \
    mfa import tokens.pskcxml --psk 12345678901234567890123456789012\n  \
    mfa import tokens.pskcxml --passphrase-file pass.txt --all-or-nothing\n  \
    mfa import upload.csv --errors-csv rejected.csv")]
pub(crate) struct ImportArgs {
    /// The token file.
    file: PathBuf,
    /// The file's format.
    #[arg(long, value_enum, default_value = "auto")]
    format: Format,
    /// PSKC pre-shared key, in hex.
    #[arg(long, conflicts_with = "passphrase_file")]
    psk: Option<String>,
    /// A file whose first line is the PSKC passphrase (PBKDF2).
    #[arg(long)]
    passphrase_file: Option<PathBuf>,
    /// Write the rejected rows, as uploaded plus `line` and `error` columns,
    /// here (mode 0600; an existing file is not overwritten). The secret
    /// column is left empty unless --errors-csv-secrets.
    #[arg(long)]
    errors_csv: Option<PathBuf>,
    /// Write the rejected rows' secrets into the --errors-csv file too.
    #[arg(long, requires = "errors_csv")]
    errors_csv_secrets: bool,
    /// Replace the --errors-csv file if it exists.
    #[arg(long, requires = "errors_csv")]
    force: bool,
    /// Import nothing if any token is rejected (default: import the accepted ones).
    #[arg(long)]
    all_or_nothing: bool,
}

impl ImportArgs {
    /// The arguments `mfa demo` imports its sample file with.
    pub(crate) fn for_demo(file: PathBuf) -> ImportArgs {
        ImportArgs {
            file,
            format: Format::Auto,
            psk: None,
            passphrase_file: None,
            errors_csv: None,
            errors_csv_secrets: false,
            force: false,
            all_or_nothing: true,
        }
    }
}

/// Counts the bytes the parser has read, for the progress bar.
struct Counting<R> {
    inner: R,
    read: Arc<AtomicU64>,
}

impl<R: Read> Read for Counting<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.read.fetch_add(n as u64, Ordering::Relaxed);
        Ok(n)
    }
}

type Input = BufReader<Counting<File>>;

// One reader per import; its size does not matter.
#[allow(clippy::large_enum_variant)]
enum Source {
    Pskc(PskcReader<Input>),
    Server(ServerCsvReader<Input>),
    Cloud(CloudCsvReader<Input>),
    Otpauth(OtpauthListReader<Input>),
}

impl Iterator for Source {
    type Item = Result<ImportedToken, Rejection>;
    fn next(&mut self) -> Option<Self::Item> {
        match self {
            Source::Pskc(r) => r.next().map(|k| k.and_then(|k| k.to_token())),
            Source::Server(r) => r.next(),
            Source::Cloud(r) => r.next(),
            Source::Otpauth(r) => r.next(),
        }
    }
}

impl Source {
    fn header(&self) -> Option<Vec<String>> {
        match self {
            Source::Pskc(_) | Source::Otpauth(_) => None,
            Source::Server(r) => r.header().map(<[String]>::to_vec),
            Source::Cloud(r) => r.header().map(<[String]>::to_vec),
        }
    }
}

fn detect(input: &mut Input) -> Result<Format, Failure> {
    let buf = input
        .fill_buf()
        .map_err(|e| Failure::input(format!("cannot read the file: {e}")))?;
    let text = String::from_utf8_lossy(buf);
    let text = text.trim_start_matches('\u{feff}').trim_start();
    if text.starts_with('<') {
        return Ok(Format::Pskc);
    }
    // A list of otpauth URIs: the first line that is neither blank nor a
    // `#` comment is one (never read as CSV, whose rejected rows would show
    // the whole URI, secret included, as a serial).
    let first_uri = text
        .lines()
        .map(str::trim)
        .find(|l| !l.is_empty() && !l.starts_with('#'))
        .unwrap_or_default()
        .to_ascii_lowercase();
    if first_uri.starts_with("otpauth://") || first_uri.starts_with("otpauth-migration://") {
        return Ok(Format::Otpauth);
    }
    let first = text.lines().next().unwrap_or_default().to_ascii_lowercase();
    if first.trim_start().starts_with("upn") {
        Ok(Format::CsvCloud)
    } else {
        Ok(Format::CsvServer)
    }
}

/// The one token of an otpauth URI (or of a one-account
/// `otpauth-migration://` URI), read by mfa-import's otpauth list reader
/// (the rules of `mfa import --format otpauth`), with `serial` instead of
/// its label if given. A refusal shows the URI redacted, never its secret.
pub(crate) fn token_from_uri(uri: &str, serial: Option<String>) -> Result<NewToken, Failure> {
    if uri.contains(['\n', '\r']) {
        return Err(Failure::input("--uri: one URI, on one line"));
    }
    let mut report = ImportReport::new();
    let tokens: Vec<ImportedToken> = OtpauthListReader::new(uri.as_bytes())
        .filter_map(|item| report.record(item))
        .collect();
    if let Some(r) = report.rejected.first() {
        return Err(Failure::input(format!("--uri: {}", r.error)));
    }
    let mut tokens = tokens.into_iter();
    let (Some(token), None) = (tokens.next(), tokens.next()) else {
        return Err(Failure::input(
            "--uri: the URI must hold exactly one account (use `mfa import` for a migration export)",
        ));
    };
    let mut t = NewToken::from(token);
    if let Some(s) = serial {
        t.serial = s;
    }
    Ok(t)
}

struct Opened {
    source: Source,
    format: Format,
    read: Arc<AtomicU64>,
    total: u64,
}

fn open_source(args: &ImportArgs, path: &str) -> Result<Opened, Failure> {
    let file = File::open(&args.file).map_err(|e| Failure::input(format!("{path}: {e}")))?;
    let total = file.metadata().map(|m| m.len()).unwrap_or(0);
    let read = Arc::new(AtomicU64::new(0));
    let mut input = BufReader::with_capacity(
        1 << 16,
        Counting {
            inner: file,
            read: Arc::clone(&read),
        },
    );
    let format = match args.format {
        Format::Auto => detect(&mut input)?,
        f => f,
    };
    let source = match format {
        Format::Pskc | Format::Auto => Source::Pskc(PskcReader::new(input, pskc_options(args)?)),
        Format::CsvServer => Source::Server(ServerCsvReader::new(input)),
        Format::CsvCloud => Source::Cloud(CloudCsvReader::new(input)),
        Format::Otpauth => Source::Otpauth(OtpauthListReader::new(input)),
    };
    Ok(Opened {
        source,
        format,
        read,
        total,
    })
}

fn pskc_options(args: &ImportArgs) -> Result<PskcOptions, Failure> {
    let mut options = PskcOptions::new();
    if let Some(hex) = &args.psk {
        let key = decode_hex(hex).map_err(|e| Failure::input(format!("--psk: {e}")))?;
        options = options.key(&key);
    }
    if let Some(p) = &args.passphrase_file {
        options = options.passphrase(&read_passphrase(p)?);
    }
    Ok(options)
}

pub(crate) fn run(g: &Global, args: ImportArgs, out: &mut Output<'_>) -> Result<(), Failure> {
    let path = args.file.display().to_string();
    if let Some(p) = &args.errors_csv
        && !args.force
        && p.exists()
    {
        // Refused before anything is imported.
        return Err(crate::ctx::exists(p, "--errors-csv "));
    }
    let store = g.open()?;
    let started = std::time::Instant::now();

    // All or nothing covers the rows the file reader rejects too, which the
    // store never sees: a first streaming pass validates the whole file, and
    // only a clean file is imported (in one transaction) by the second.
    if args.all_or_nothing {
        let mut check = open_source(&args, &path)?;
        let bar = progress_bar(check.total, out.json(), "checking");
        let mut report = ImportReport::new();
        for item in check.source.by_ref() {
            bar.set_position(check.read.load(Ordering::Relaxed));
            report.record(item);
        }
        bar.finish_and_clear();
        if !report.rejected.is_empty() {
            let header = check.source.header();
            if let Some(p) = &args.errors_csv {
                write_errors(p, &args, header.as_deref(), &report, &[])?;
            }
            summarise(out, &path, check.format, &report, 0, &[], true, started)?;
            let first = report
                .rejected
                .first()
                .map(ToString::to_string)
                .unwrap_or_default();
            return Err(Failure::input(format!(
                "{path}: {} token(s) rejected, nothing imported (--all-or-nothing); first: {first}",
                report.rejected.len()
            )));
        }
    }

    let mut opened = open_source(&args, &path)?;
    let bar = progress_bar(opened.total, out.json(), "importing");
    let mut report = ImportReport::new();
    let mode = if args.all_or_nothing {
        ImportMode::AllOrNothing
    } else {
        ImportMode::AcceptedOnly
    };
    let result = {
        let read = &opened.read;
        let tokens = opened.source.by_ref().filter_map(|item| {
            bar.set_position(read.load(Ordering::Relaxed));
            let token = report.record(item)?;
            bar.set_message(format!("{} tokens", report.accepted.len()));
            // mfa-store's one conversion (a token without a serial gets an
            // empty one, which the store rejects and reports).
            Some(NewToken::from(token))
        });
        store.import(tokens, mode, now())
    };
    bar.finish_and_clear();
    if let Source::Cloud(r) = &opened.source {
        report.ignored_columns(r.ignored_columns());
    }
    let header = opened.source.header();
    let (imported, store_rejected, refused) = match result {
        Ok(r) => (r.imported, r.rejected, false),
        Err(mfa_store::Error::ImportRefused { report: r }) => (0, r.rejected, true),
        Err(e) => return Err(Failure::store(&g.db, e)),
    };
    if let Some(p) = &args.errors_csv {
        write_errors(p, &args, header.as_deref(), &report, &store_rejected)?;
    }
    summarise(
        out,
        &path,
        opened.format,
        &report,
        imported,
        &store_rejected,
        refused,
        started,
    )?;
    let rejected = report.rejected.len() + store_rejected.len();
    if refused || (rejected > 0 && imported == 0) {
        let first = report
            .rejected
            .first()
            .map(ToString::to_string)
            .or_else(|| {
                store_rejected
                    .first()
                    .map(|r| format!("token {}: {}", r.serial, r.reason))
            })
            .unwrap_or_default();
        return Err(Failure::input(format!(
            "{path}: {rejected} token(s) rejected, nothing imported; first: {first}"
        )));
    }
    Ok(())
}

#[allow(clippy::too_many_arguments)]
fn summarise(
    out: &mut Output<'_>,
    path: &str,
    format: Format,
    report: &ImportReport,
    imported: u64,
    store_rejected: &[mfa_store::RejectedToken],
    nothing_imported: bool,
    started: std::time::Instant,
) -> Result<(), Failure> {
    let mut reasons: BTreeMap<String, u64> = BTreeMap::new();
    for r in &report.rejected {
        *reasons
            .entry(reason_name(&r.error.to_string()))
            .or_default() += 1;
    }
    for r in store_rejected {
        *reasons.entry(r.reason.to_string()).or_default() += 1;
    }
    let rejected = report.rejected.len() + store_rejected.len();
    let elapsed = started.elapsed().as_secs_f64();
    let mut text = format!(
        "{path}: {} format, {imported} imported, {rejected} rejected in {elapsed:.1} s",
        format_name(format)
    );
    if nothing_imported {
        text.push_str("\nnothing was imported (--all-or-nothing)");
    }
    for (reason, n) in &reasons {
        text.push_str(&format!("\n  {n:>7}  {reason}"));
    }
    for r in report.rejected.iter().take(10) {
        text.push_str(&format!("\n  {r}"));
    }
    for r in store_rejected.iter().take(10) {
        text.push_str(&format!("\n  token {}: {}", r.serial, r.reason));
    }
    if rejected > 20 {
        text.push_str("\n  … (all of them with --errors-csv FILE)");
    }
    for w in &report.warnings {
        text.push_str(&format!("\n  warning: {}", warning_text(w)));
    }
    let value = json!({
        "file": path,
        "format": format_name(format),
        "imported": imported,
        "rejected": rejected,
        "nothing_imported": nothing_imported,
        "reasons": reasons,
        "rejections": report.rejected.iter().map(|r| json!({
            "line": r.location.line(),
            "serial": r.location.serial(),
            "error": r.error.to_string(),
        })).chain(store_rejected.iter().map(|r| json!({
            "line": report.accepted.get(r.index).map(|a| a.location.line()),
            "serial": r.serial,
            "error": r.reason.to_string(),
        }))).collect::<Vec<_>>(),
    });
    out.print(&Report::new(value, text))
}

fn warning_text(w: &mfa_import::Warning) -> String {
    match w {
        mfa_import::Warning::IgnoredColumn { column } => format!("column {column:?} ignored"),
        mfa_import::Warning::WeakSecret { location } => {
            format!("{location}: the secret is shorter than 128 bits")
        }
        other => other.to_string(),
    }
}

fn reason_name(message: &str) -> String {
    // Group by the kind of problem, not the exact text (which names values).
    message
        .split([':', '(', '"'])
        .next()
        .unwrap_or(message)
        .trim()
        .to_string()
}

fn format_name(f: Format) -> &'static str {
    match f {
        Format::Auto | Format::Pskc => "PSKC",
        Format::CsvServer => "server CSV",
        Format::CsvCloud => "cloud CSV",
        Format::Otpauth => "otpauth URIs",
    }
}

fn write_errors(
    path: &std::path::Path,
    args: &ImportArgs,
    header: Option<&[String]>,
    report: &ImportReport,
    store_rejected: &[mfa_store::RejectedToken],
) -> Result<(), Failure> {
    let fail =
        |e: &dyn std::fmt::Display| Failure::input(format!("--errors-csv {}: {e}", path.display()));
    let mut buf = zeroize::Zeroizing::new(Vec::new());
    let options = mfa_import::ErrorsCsvOptions::new().with_secrets(args.errors_csv_secrets);
    mfa_import::write_errors_csv_with(&mut *buf, header, &report.rejected, options)
        .map_err(|e| fail(&e))?;
    if !store_rejected.is_empty() {
        let mut w = csv::WriterBuilder::new()
            .flexible(true)
            .from_writer(&mut *buf);
        if header.is_none() && report.rejected.is_empty() {
            w.write_record(["serial", "line", "error"])
                .map_err(|e| fail(&e))?;
        }
        for r in store_rejected {
            let line = report
                .accepted
                .get(r.index)
                .map(|a| a.location.line().to_string())
                .unwrap_or_default();
            // The row was accepted by the reader, so its raw cells are gone:
            // the serial goes under the upload's serial column.
            let serial = mfa_import::neutralise_cell(&r.serial).into_owned();
            let mut cells = match header {
                Some(h) => {
                    let mut cells = vec![String::new(); h.len()];
                    let at = h
                        .iter()
                        .position(|c| c.to_ascii_lowercase().contains("serial"))
                        .unwrap_or(0);
                    if let Some(cell) = cells.get_mut(at) {
                        *cell = serial;
                    }
                    cells
                }
                None => vec![serial],
            };
            cells.push(line);
            cells.push(r.reason.to_string());
            w.write_record(&cells).map_err(|e| fail(&e))?;
        }
        w.flush().map_err(|e| fail(&e))?;
    }
    let mut file = crate::ctx::create_secret_file(path, args.force, "--errors-csv ")?;
    file.write_all(&buf)
        .and_then(|()| file.sync_all())
        .map_err(|e| fail(&e))
}

fn progress_bar(total: u64, json: bool, what: &str) -> ProgressBar {
    use std::io::IsTerminal;
    if json || !std::io::stderr().is_terminal() {
        return ProgressBar::hidden();
    }
    let bar = ProgressBar::with_draw_target(Some(total), ProgressDrawTarget::stderr());
    if let Ok(style) = ProgressStyle::with_template(&format!(
        "{{spinner}} {what} [{{bar:30}}] {{bytes}}/{{total_bytes}} {{msg}} ({{bytes_per_sec}}, ETA {{eta}})"
    )) {
        bar.set_style(style.progress_chars("=> "));
    }
    bar
}
