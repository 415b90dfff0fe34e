//! `mfa backup`, `mfa restore`, `mfa rekey`: the whole store to a file and
//! back, and its secrets under a new master key.

use std::path::PathBuf;

use clap::Args;
use serde_json::json;

use crate::Failure;
use crate::ctx::{Global, create_key_file, create_secret_file, read_key_file};
use crate::output::{Output, Report};

/// Arguments of `mfa backup`.
#[derive(Debug, Args)]
pub(crate) struct BackupArgs {
    /// The backup file (mode 0600; an existing file is not overwritten).
    file: PathBuf,
    /// Replace the file if it exists.
    #[arg(long)]
    force: bool,
}

/// Arguments of `mfa restore`.
#[derive(Debug, Args)]
pub(crate) struct RestoreArgs {
    /// The backup file.
    file: PathBuf,
}

/// Arguments of `mfa rekey`.
#[derive(Debug, Args)]
pub(crate) struct RekeyArgs {
    /// The new key file (created if it does not exist).
    #[arg(long)]
    new_key_file: PathBuf,
}

/// `mfa backup`.
pub(crate) fn backup(g: &Global, args: BackupArgs, out: &mut Output<'_>) -> Result<(), Failure> {
    let BackupArgs { file, force } = args;
    if !force && file.exists() {
        return Err(crate::ctx::exists(&file, ""));
    }
    let store = g.open()?;
    let tmp = file.with_extension("partial");
    // A `.partial` file is this command's own, left by an interrupted run.
    let f = create_secret_file(&tmp, true, "")?;
    let fail = |p: &std::path::Path, e: &dyn std::fmt::Display| {
        let _ = std::fs::remove_file(&tmp);
        Failure::input(format!("{}: {e}", p.display()))
    };
    let mut w = std::io::BufWriter::new(f);
    if let Err(e) = store.backup(&mut w) {
        let _ = std::fs::remove_file(&tmp);
        return Err(Failure::store(&g.db, e));
    }
    let f = w.into_inner().map_err(|e| fail(&tmp, &e))?;
    f.sync_all().map_err(|e| fail(&tmp, &e))?;
    if force {
        std::fs::rename(&tmp, &file).map_err(|e| fail(&file, &e))?;
    } else {
        // A hard link never replaces an existing file (a file made since the
        // check above is refused too), then the temporary name goes.
        match std::fs::hard_link(&tmp, &file) {
            Ok(()) => std::fs::remove_file(&tmp).map_err(|e| fail(&tmp, &e))?,
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
                let _ = std::fs::remove_file(&tmp);
                return Err(crate::ctx::exists(&file, ""));
            }
            Err(e) => return Err(fail(&file, &e)),
        }
    }
    out.print(&Report::new(
        json!({"backup": file}),
        format!("backup written to {}", file.display()),
    ))
}

/// `mfa restore`.
pub(crate) fn restore(g: &Global, args: RestoreArgs, out: &mut Output<'_>) -> Result<(), Failure> {
    let RestoreArgs { file } = args;
    let store = g.open()?;
    let f = std::fs::File::open(&file)
        .map_err(|e| Failure::input(format!("{}: {e}", file.display())))?;
    store
        .restore(std::io::BufReader::new(f))
        .map_err(|e| Failure::store(&g.db, e))?;
    out.print(&Report::new(
        json!({"restored": file}),
        format!(
            "restored {} into {}",
            file.display(),
            mfa_store::redact_url(&g.db)
        ),
    ))
}

/// `mfa rekey`.
pub(crate) fn rekey(g: &Global, args: RekeyArgs, out: &mut Output<'_>) -> Result<(), Failure> {
    let RekeyArgs { new_key_file } = args;
    let store = g.open()?;
    let old = g.master_key()?;
    let new = if new_key_file.exists() {
        read_key_file(&new_key_file)?
    } else {
        create_key_file(&new_key_file, old.id().saturating_add(1))?
    };
    let n = store.rekey(&new).map_err(|e| Failure::store(&g.db, e))?;
    out.print(&Report::new(
        json!({"tokens": n, "key_id": new.id(), "key_file": new_key_file}),
        format!(
            "data key re-wrapped under master key {} ({}); {n} token(s), app passwords, codes and \
             remembered devices stay usable; use the new key from now on",
            new.id(),
            new_key_file.display()
        ),
    ))
}
