//! `mfa init`: the store and its master key file.

use mfa_store::Store;
use serde_json::json;

use crate::Failure;
use crate::ctx::{Global, create_key_file, read_key_file};
use crate::output::{Output, Report};

pub(crate) fn run(g: &Global, out: &mut Output<'_>) -> Result<(), Failure> {
    let key = if std::env::var(crate::ctx::KEY_ENV).is_ok() {
        g.master_key()?
    } else if g.key_file.exists() {
        read_key_file(&g.key_file)?
    } else {
        create_key_file(&g.key_file, 1)?
    };
    let store = Store::open(&g.db, &key).map_err(|e| Failure::store(&g.db, e))?;
    let version = store
        .schema_version()
        .map_err(|e| Failure::store(&g.db, e))?;
    // A PostgreSQL URL may hold a password: never printed.
    let db = mfa_store::redact_url(&g.db);
    out.print(&Report::new(json!({"db": db.as_str(), "key_file": g.key_file, "key_id": key.id(), "schema_version": version}), format!(
            "store {} ready (schema version {version}); master key {} (id {}) — keep it safe and backed up apart from the store",
            db,
            g.key_file.display(),
            key.id()
        )))
}
