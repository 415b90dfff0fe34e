//! Logs, reports, retention and statistics.

use std::net::IpAddr;

use mfa_oath::UnixTime;
use mfa_record::{
    AuthAttempt, AuthEvent, AuthMode, AuthResult, DenialReason, Email, FieldPolicy, PersonName,
    PhoneNumber, ServerName, UsageSummary, UserId,
};

use super::Store;

use crate::db::{Mode, Row, int};
use crate::{AuditEntry, Error, StoreStats};

impl Store {
    /// The authentication log for `from <= at < to`, oldest first, as
    /// mfa-record events.
    ///
    /// # Errors
    /// Database errors, [`Error::Corrupt`] for a row mfa-record does not accept.
    pub fn auth_log(&self, from: UnixTime, to: UnixTime) -> Result<Vec<AuthEvent>, Error> {
        self.pool.run(Mode::Snapshot, |tx| {
            let rows = tx.query(
                "auth_log",
                "SELECT at, user_id, mode, result, reason, detail, server_name, server_ip, client_ip, \
                 first_name, last_name, email, phone FROM auth_log WHERE at >= $1 AND at < $2 ORDER BY at, id",
                &[int(from.secs()), int(to.secs())],
            )?;
            rows.iter().map(event_from_row).collect()
        })
    }

    /// The audit log (administrative actions, fraud reports, risk
    /// detections) for `from <= at < to`.
    ///
    /// # Errors
    /// Database errors.
    pub fn audit_log(&self, from: UnixTime, to: UnixTime) -> Result<Vec<AuditEntry>, Error> {
        self.pool.run(Mode::Snapshot, |tx| {
            let rows = tx.query(
                "audit_log",
                "SELECT at, user_id, action, actor, reason FROM audit_log WHERE at >= $1 AND at < $2 ORDER BY at, id",
                &[int(from.secs()), int(to.secs())],
            )?;
            rows.iter()
                .map(|r| {
                    Ok(AuditEntry {
                        at: UnixTime::from_secs(r.u64(0, "at")?),
                        user_id: r.opt_text(1, "user_id")?,
                        action: r.text(2, "action")?,
                        actor: r.opt_text(3, "actor")?,
                        reason: r.opt_text(4, "reason")?,
                    })
                })
                .collect()
        })
    }

    /// The mfa-record usage summary for `from <= at < to`: every user
    /// configured for MFA before `to` (per-user billing counts them whether
    /// or not they signed in) and every log event of the period.
    ///
    /// A user is configured for MFA when they have an active method: an
    /// activated OATH token, an app password, or a phone number for SMS and
    /// voice codes. A user row alone (made by `put_user`, or by assigning a
    /// token that was never activated) is not billed.
    ///
    /// # Errors
    /// [`Error::Record`] if `to` is before `from`, database errors.
    pub fn usage_summary(&self, from: UnixTime, to: UnixTime) -> Result<UsageSummary, Error> {
        let period = mfa_record::Period::new(from, to).map_err(Error::Record)?;
        let mut summary = UsageSummary::new(period);
        let users = self.pool.run(Mode::Snapshot, |tx| {
            tx.query(
                "users",
                "SELECT u.user_id, u.created_at FROM users u WHERE u.created_at < $1 AND (\
                 EXISTS (SELECT 1 FROM live_tokens t WHERE t.user_id = u.user_id AND t.active = 1) \
                 OR EXISTS (SELECT 1 FROM app_passwords a WHERE a.user_id = u.user_id) \
                 OR (u.phone IS NOT NULL AND u.phone <> '')) ORDER BY u.user_id",
                &[int(to.secs())],
            )
        })?;
        for r in &users {
            let Ok(id) = UserId::new(r.text(0, "user_id")?) else {
                continue;
            };
            let mut rec = mfa_record::UserRecord::new(id);
            rec.enable_mfa(UnixTime::from_secs(r.u64(1, "created_at")?));
            summary.add_user(&rec);
        }
        for e in self.auth_log(from, to)? {
            summary.add_event(&e);
        }
        Ok(summary)
    }

    /// Retention: deletes authentication and audit log events older than
    /// `days` days before `now` ([`crate::DEFAULT_RETENTION_DAYS`] is the
    /// usual choice), expired one-time codes and remembered devices, and
    /// the rows of all-or-nothing imports whose process ended before they
    /// committed (no sign of life for [`crate::DEAD_IMPORT_SECS`]). Returns how many log events were deleted.
    ///
    /// # Errors
    /// Database errors.
    pub fn purge_log(&self, now: UnixTime, days: u32) -> Result<u64, Error> {
        let cutoff = now.secs().saturating_sub(u64::from(days) * 86_400);
        self.withdraw_dead_imports(now)?;
        self.pool.run(Mode::Write, |tx| {
            let a = tx.exec("DELETE FROM auth_log WHERE at < $1", &[int(cutoff)])?;
            let b = tx.exec("DELETE FROM audit_log WHERE at < $1", &[int(cutoff)])?;
            tx.exec(
                "DELETE FROM one_time_codes WHERE expires_at < $1",
                &[int(now.secs())],
            )?;
            tx.exec(
                "DELETE FROM devices WHERE expires_at < $1",
                &[int(now.secs())],
            )?;
            Ok(a + b)
        })
    }

    /// Writes the authentication log for `from <= at < to` as CSV with
    /// mfa-record's writer (columns of switched-off fields left out, cells
    /// neutralised against formula injection). Restoring a backup gives a
    /// byte-identical report.
    ///
    /// # Errors
    /// [`Error::Record`] (I/O while writing), database errors.
    pub fn export_auth_log_csv<W: std::io::Write>(
        &self,
        from: UnixTime,
        to: UnixTime,
        out: W,
    ) -> Result<usize, Error> {
        let events = self.auth_log(from, to)?;
        mfa_record::write_log_csv(out, &events, &self.config.fields).map_err(Error::Record)
    }

    /// Counts of what the store holds.
    ///
    /// # Errors
    /// Database errors.
    pub fn stats(&self) -> Result<StoreStats, Error> {
        self.pool.run(Mode::Snapshot, |tx| {
            let mut n = |table: &'static str| -> Result<u64, Error> {
                let sql = format!("SELECT count(*) FROM {table}");
                tx.query_opt(table, &sql, &[])?
                    .map(|r| r.u64(0, "count"))
                    .transpose()
                    .map(Option::unwrap_or_default)
            };
            Ok(StoreStats {
                // What is live: not an unfinished import's rows.
                users: n("live_users")?,
                tokens: n("live_tokens")?,
                auth_events: n("auth_log")?,
                audit_entries: n("audit_log")?,
            })
        })
    }
}

fn event_from_row(r: &Row) -> Result<AuthEvent, Error> {
    let corrupt = |column| Error::Corrupt {
        table: "auth_log",
        column,
    };
    let mode: AuthMode = r.text(2, "mode")?.parse().map_err(|_| corrupt("mode"))?;
    let result = match r.text(3, "result")?.as_str() {
        "success" => AuthResult::Success,
        "denied" => {
            let kind = r
                .opt_text(4, "reason")?
                .ok_or_else(|| corrupt("reason"))?
                .parse()
                .map_err(|_| corrupt("reason"))?;
            let detail = r.opt_u64(5, "detail")?;
            AuthResult::Denied(
                DenialReason::from_parts(kind, detail).map_err(|_| corrupt("detail"))?,
            )
        }
        _ => return Err(corrupt("result")),
    };
    let ip = |i, column| -> Result<Option<IpAddr>, Error> {
        r.opt_text(i, column)?
            .map(|s| s.parse().map_err(|_| corrupt(column)))
            .transpose()
    };
    let mut attempt = AuthAttempt::new(
        UnixTime::from_secs(r.u64(0, "at")?),
        UserId::new(r.text(1, "user_id")?).map_err(|_| corrupt("user_id"))?,
        mode,
        result,
        ServerName::new(r.text(6, "server_name")?).map_err(|_| corrupt("server_name"))?,
        ip(7, "server_ip")?.ok_or_else(|| corrupt("server_ip"))?,
    );
    attempt.client_ip = ip(8, "client_ip")?;
    attempt.first_name = r
        .opt_text(9, "first_name")?
        .map(|v| PersonName::new(v).map_err(|_| corrupt("first_name")))
        .transpose()?;
    attempt.last_name = r
        .opt_text(10, "last_name")?
        .map(|v| PersonName::new(v).map_err(|_| corrupt("last_name")))
        .transpose()?;
    attempt.email = r
        .opt_text(11, "email")?
        .map(|v| Email::new(v).map_err(|_| corrupt("email")))
        .transpose()?;
    attempt.phone = r
        .opt_text(12, "phone")?
        .map(|v| PhoneNumber::new(v).map_err(|_| corrupt("phone")))
        .transpose()?;
    AuthEvent::record(attempt, &FieldPolicy::all()).map_err(|_| corrupt("mode"))
}
