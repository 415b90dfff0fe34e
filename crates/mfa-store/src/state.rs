//! How the pure crates' state values are kept in rows: the lockout counter
//! of each user and factor class (mfa-lockout) and the fraud block and risk
//! of each user (mfa-fraud).

use mfa_fraud::{
    Block, BlockCause, Channel, FraudState, Risk, RiskDetection, RiskEventType, RiskLevel,
};
use mfa_lockout::{AdminLockCause, FactorClass, Lock, LockoutParts, LockoutState};
use mfa_oath::UnixTime;

use crate::Error;
use crate::db::{Row, Tx, Val, int};

fn u32_of(v: u64, column: &'static str) -> Result<u32, Error> {
    u32::try_from(v).map_err(|_| Error::Corrupt {
        table: "lockout",
        column,
    })
}

/// Reads the lockout state of `user` for `class` (a fresh state if none).
pub(crate) fn load_lock(
    tx: &mut dyn Tx,
    user: &str,
    class: FactorClass,
) -> Result<LockoutState, Error> {
    let row = tx.query_opt(
        "lockout",
        "SELECT failures, last_failure, consecutive, lockouts, lock_kind, lock_until \
         FROM lockout WHERE user_id = $1 AND factor = $2",
        &[user.into(), class.as_str().into()],
    )?;
    match row {
        None => Ok(LockoutState::new()),
        Some(r) => lock_from_row(&r, 0),
    }
}

/// The lockout columns read by [`lock_from_row`], prefixed with `l.`.
pub(crate) const LOCK_COLS: &str =
    "l.failures, l.last_failure, l.consecutive, l.lockouts, l.lock_kind, l.lock_until";

/// Reads a lockout state from the `LOCK_COLS` columns starting at `offset`
/// (all NULL, from an outer join without a row: a fresh state).
pub(crate) fn lock_from_row(r: &Row, offset: usize) -> Result<LockoutState, Error> {
    let corrupt = |column| Error::Corrupt {
        table: "lockout",
        column,
    };
    let Some(kind) = r.opt_text(offset + 4, "lock_kind")? else {
        return Ok(LockoutState::new());
    };
    let lock = match (kind.as_str(), r.opt_u64(offset + 5, "lock_until")?) {
        ("none", None) => Lock::None,
        ("until", Some(t)) => Lock::Until(UnixTime::from_secs(t)),
        ("admin", None) => Lock::Admin(AdminLockCause::NoAutoUnblock),
        ("hard_cap", None) => Lock::Admin(AdminLockCause::HardCap),
        _ => return Err(corrupt("lock_kind")),
    };
    LockoutState::from_parts(LockoutParts {
        failures: u32_of(r.u64(offset, "failures")?, "failures")?,
        last_failure: r
            .opt_u64(offset + 1, "last_failure")?
            .map(UnixTime::from_secs),
        consecutive: u32_of(r.u64(offset + 2, "consecutive")?, "consecutive")?,
        lockouts: u32_of(r.u64(offset + 3, "lockouts")?, "lockouts")?,
        lock,
    })
    .map_err(|_| corrupt("failures"))
}

/// Writes the lockout state of `user` for `class`.
pub(crate) fn save_lock(
    tx: &mut dyn Tx,
    user: &str,
    class: FactorClass,
    s: &LockoutState,
) -> Result<(), Error> {
    let p = s.parts();
    let (kind, until) = match p.lock {
        Lock::None => ("none", Val::Null),
        Lock::Until(t) => ("until", int(t.secs())),
        Lock::Admin(AdminLockCause::HardCap) => ("hard_cap", Val::Null),
        Lock::Admin(_) => ("admin", Val::Null),
    };
    tx.exec(
        "INSERT INTO lockout (user_id, factor, failures, last_failure, consecutive, lockouts, lock_kind, lock_until) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8) \
         ON CONFLICT (user_id, factor) DO UPDATE SET failures = excluded.failures, \
         last_failure = excluded.last_failure, consecutive = excluded.consecutive, \
         lockouts = excluded.lockouts, lock_kind = excluded.lock_kind, lock_until = excluded.lock_until",
        &[
            user.into(),
            class.as_str().into(),
            int(p.failures.into()),
            p.last_failure.map(|t| int(t.secs())).unwrap_or(Val::Null),
            int(p.consecutive.into()),
            int(p.lockouts.into()),
            kind.into(),
            until,
        ],
    )?;
    Ok(())
}

/// The user columns that hold the fraud state, in the order
/// [`fraud_from_row`] reads them (starting at its `offset`).
pub(crate) const FRAUD_COLS: &str =
    "block_cause, block_since, block_until, block_comment, risk_detections, risk_recent";

fn channel_name(c: Channel) -> &'static str {
    match c {
        Channel::App => "app",
        Channel::Phone => "phone",
    }
}

fn channel_of(s: &str) -> Option<Channel> {
    match s {
        "app" => Some(Channel::App),
        "phone" => Some(Channel::Phone),
        _ => None,
    }
}

/// Reads the fraud state from the `FRAUD_COLS` columns starting at `offset`.
pub(crate) fn fraud_from_row(r: &Row, offset: usize) -> Result<FraudState, Error> {
    let corrupt = |column| Error::Corrupt {
        table: "users",
        column,
    };
    let block = match r.opt_text(offset, "block_cause")? {
        None => None,
        Some(cause) => {
            let cause = match cause.as_str() {
                "admin" => BlockCause::Administrator,
                c => BlockCause::FraudReport(channel_of(c).ok_or_else(|| corrupt("block_cause"))?),
            };
            Some(Block {
                cause,
                since: UnixTime::from_secs(r.u64(offset + 1, "block_since")?),
                until: UnixTime::from_secs(r.u64(offset + 2, "block_until")?),
                comment: r.opt_text(offset + 3, "block_comment")?,
            })
        }
    };
    let risk = match r.opt_u64(offset + 4, "risk_detections")? {
        None => None,
        Some(n) => {
            let mut recent = Vec::new();
            let text = r.opt_text(offset + 5, "risk_recent")?.unwrap_or_default();
            for item in text.split(',').filter(|s| !s.is_empty()) {
                let (at, ch) = item.split_once(':').ok_or_else(|| corrupt("risk_recent"))?;
                recent.push(RiskDetection {
                    event_type: RiskEventType::UserReportedSuspiciousActivity,
                    level: RiskLevel::High,
                    at: UnixTime::from_secs(at.parse().map_err(|_| corrupt("risk_recent"))?),
                    channel: channel_of(ch).ok_or_else(|| corrupt("risk_recent"))?,
                });
            }
            Some(Risk {
                detections: u32::try_from(n).map_err(|_| corrupt("risk_detections"))?,
                recent,
            })
        }
    };
    Ok(FraudState { block, risk })
}

/// Writes the fraud state of `user`.
pub(crate) fn save_fraud(tx: &mut dyn Tx, user: &str, s: &FraudState) -> Result<(), Error> {
    let (cause, since, until, comment) = match &s.block {
        None => (Val::Null, Val::Null, Val::Null, Val::Null),
        Some(b) => (
            Val::from(match b.cause {
                BlockCause::Administrator => "admin",
                BlockCause::FraudReport(c) => channel_name(c),
            }),
            int(b.since.secs()),
            int(b.until.secs()),
            b.comment.clone().into(),
        ),
    };
    let (detections, recent) = match &s.risk {
        None => (Val::Null, Val::Null),
        Some(r) => (
            int(r.detections.into()),
            Val::Text(
                r.recent
                    .iter()
                    .map(|d| format!("{}:{}", d.at.secs(), channel_name(d.channel)))
                    .collect::<Vec<_>>()
                    .join(","),
            ),
        ),
    };
    tx.exec(
        "UPDATE users SET block_cause = $1, block_since = $2, block_until = $3, block_comment = $4, \
         risk_detections = $5, risk_recent = $6 WHERE user_id = $7",
        &[cause, since, until, comment, detections, recent, user.into()],
    )?;
    Ok(())
}
