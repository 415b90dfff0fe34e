//! The usage summary for a period.

use std::collections::{BTreeMap, BTreeSet};
use std::io;

use mfa_oath::UnixTime;

use crate::{AuthEvent, AuthMode, DenialKind, Error, UserId, UserRecord};

/// A half-open period of time `[start, end)`.
///
/// ```
/// use mfa_oath::UnixTime;
/// use mfa_record::Period;
/// let p = Period::new(UnixTime::from_secs(100), UnixTime::from_secs(200))?;
/// assert!(p.contains(UnixTime::from_secs(100)));
/// assert!(!p.contains(UnixTime::from_secs(200)));
/// assert!(Period::new(UnixTime::from_secs(2), UnixTime::from_secs(1)).is_err());
/// # Ok::<(), mfa_record::Error>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Period {
    start: UnixTime,
    end: UnixTime,
}

impl Period {
    /// The period from `start` (included) to `end` (excluded).
    ///
    /// # Errors
    ///
    /// [`Error::EmptyPeriod`] if `end` is before `start`.
    pub fn new(start: UnixTime, end: UnixTime) -> Result<Period, Error> {
        if end < start {
            return Err(Error::EmptyPeriod);
        }
        Ok(Period { start, end })
    }

    /// The first second of the period.
    pub fn start(&self) -> UnixTime {
        self.start
    }

    /// The first second after the period.
    pub fn end(&self) -> UnixTime {
        self.end
    }

    /// Whether `t` is in the period.
    pub fn contains(&self, t: UnixTime) -> bool {
        self.start <= t && t < self.end
    }
}

/// Counts for one authentication mode.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub struct ModeCounts {
    /// Authentications with this mode.
    pub attempts: u64,
    /// Of which succeeded.
    pub successes: u64,
    /// Of which were denied.
    pub denials: u64,
}

/// The usage report for a period: users configured for MFA (what per-user
/// billing counts, whether or not they signed in), per-method counts,
/// successes and denials by reason.
///
/// Feed it the user records and the log events (in any order, as many as
/// you like: memory grows with the number of distinct users, not events);
/// events outside the period are ignored.
///
/// ```
/// use std::net::{IpAddr, Ipv4Addr};
/// use mfa_oath::UnixTime;
/// use mfa_record::{
///     AuthAttempt, AuthEvent, AuthMode, AuthResult, DenialKind, DenialReason, FieldPolicy,
///     Period, ServerName, UsageSummary, UserId, UserRecord,
/// };
///
/// let t = |s| UnixTime::from_secs(s);
/// let mut summary = UsageSummary::new(Period::new(t(1000), t(2000))?);
/// for (name, enabled) in [("a", true), ("b", true), ("c", false)] {
///     let mut u = UserRecord::new(UserId::new(name)?);
///     if enabled {
///         u.enable_mfa(t(10));
///     }
///     summary.add_user(&u);
/// }
/// let event = |secs, result| -> Result<AuthEvent, mfa_record::Error> {
///     AuthEvent::record(
///         AuthAttempt::new(t(secs), UserId::new("a")?, AuthMode::OathCode, result,
///             ServerName::new("mfa01")?, IpAddr::V4(Ipv4Addr::LOCALHOST)),
///         &FieldPolicy::default(),
///     )
/// };
/// summary.add_event(&event(1500, AuthResult::Success)?);
/// summary.add_event(&event(1600, AuthResult::Denied(DenialReason::CodeWrong))?);
/// summary.add_event(&event(2500, AuthResult::Success)?); // outside the period
///
/// assert_eq!(summary.users_configured(), 2); // b never signed in: still billed
/// assert_eq!(summary.users_signed_in(), 1);
/// assert_eq!(summary.successes(), 1);
/// assert_eq!(summary.denials_by_reason().get(&DenialKind::CodeWrong), Some(&1));
/// assert_eq!(summary.by_mode()[&AuthMode::OathCode].attempts, 2);
/// # Ok::<(), mfa_record::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UsageSummary {
    period: Period,
    users_configured: u64,
    default_methods: BTreeMap<AuthMode, u64>,
    signed_in: BTreeSet<UserId>,
    active: BTreeSet<UserId>,
    by_mode: BTreeMap<AuthMode, ModeCounts>,
    denials_by_reason: BTreeMap<DenialKind, u64>,
}

impl UsageSummary {
    /// An empty summary for `period`.
    pub fn new(period: Period) -> UsageSummary {
        UsageSummary {
            period,
            users_configured: 0,
            default_methods: BTreeMap::new(),
            signed_in: BTreeSet::new(),
            active: BTreeSet::new(),
            by_mode: BTreeMap::new(),
            denials_by_reason: BTreeMap::new(),
        }
    }

    /// Counts a user if configured for MFA before the period's end
    /// ([`UserRecord::configured_before`]). Add each user once.
    pub fn add_user(&mut self, user: &UserRecord) {
        if user.configured_before(self.period.end) {
            self.users_configured += 1;
            if let Some(m) = user.default_method() {
                *self.default_methods.entry(m).or_default() += 1;
            }
        }
    }

    /// Counts an event if it falls in the period.
    pub fn add_event(&mut self, event: &AuthEvent) {
        if !self.period.contains(event.time()) {
            return;
        }
        let counts = self.by_mode.entry(event.mode()).or_default();
        counts.attempts += 1;
        if !self.active.contains(event.user()) {
            self.active.insert(event.user().clone());
        }
        match event.result().denial() {
            None => {
                counts.successes += 1;
                if !self.signed_in.contains(event.user()) {
                    self.signed_in.insert(event.user().clone());
                }
            }
            Some(reason) => {
                counts.denials += 1;
                *self.denials_by_reason.entry(reason.kind()).or_default() += 1;
            }
        }
    }

    /// The period.
    pub fn period(&self) -> Period {
        self.period
    }

    /// Users configured for MFA (the per-user billing count).
    pub fn users_configured(&self) -> u64 {
        self.users_configured
    }

    /// Configured users by their default method (users without one are not
    /// counted here).
    pub fn default_methods(&self) -> &BTreeMap<AuthMode, u64> {
        &self.default_methods
    }

    /// Distinct users with at least one successful authentication.
    pub fn users_signed_in(&self) -> u64 {
        self.signed_in.len() as u64
    }

    /// Distinct users with at least one authentication, successful or not.
    pub fn users_active(&self) -> u64 {
        self.active.len() as u64
    }

    /// Authentications in the period.
    pub fn authentications(&self) -> u64 {
        self.by_mode.values().map(|c| c.attempts).sum()
    }

    /// Successful authentications.
    pub fn successes(&self) -> u64 {
        self.by_mode.values().map(|c| c.successes).sum()
    }

    /// Denied authentications.
    pub fn denials(&self) -> u64 {
        self.by_mode.values().map(|c| c.denials).sum()
    }

    /// Counts per authentication mode (modes without events are absent).
    pub fn by_mode(&self) -> &BTreeMap<AuthMode, ModeCounts> {
        &self.by_mode
    }

    /// Denials per reason kind (kinds without denials are absent).
    pub fn denials_by_reason(&self) -> &BTreeMap<DenialKind, u64> {
        &self.denials_by_reason
    }

    /// Writes the summary as CSV with the columns `metric,key,value`:
    /// `period` (`start`, `end`), `users` (`configured`, `active`,
    /// `signed_in`), `authentications` (`total`, `successes`, `denials`),
    /// `default_method`, `mode_attempts`, `mode_successes`, `mode_denials`
    /// (keyed by [`AuthMode::as_str`]) and `denials_by_reason` (keyed by
    /// [`DenialKind::as_str`]). Every mode and every reason kind gets a row,
    /// zero or not, so reports from different periods line up.
    ///
    /// # Errors
    ///
    /// [`Error::Io`] if writing fails.
    pub fn write_csv<W: io::Write>(&self, out: W) -> Result<W, Error> {
        let mut w = csv::WriterBuilder::new()
            .terminator(csv::Terminator::Any(b'\n'))
            .from_writer(out);
        let mut rows: Vec<(&str, &str, u64)> = vec![
            ("period", "start", self.period.start.secs()),
            ("period", "end", self.period.end.secs()),
            ("users", "configured", self.users_configured),
            ("users", "active", self.users_active()),
            ("users", "signed_in", self.users_signed_in()),
            ("authentications", "total", self.authentications()),
            ("authentications", "successes", self.successes()),
            ("authentications", "denials", self.denials()),
        ];
        for m in AuthMode::ALL {
            let n = self.default_methods.get(&m).copied().unwrap_or(0);
            rows.push(("default_method", m.as_str(), n));
        }
        for m in AuthMode::ALL {
            let c = self.by_mode.get(&m).copied().unwrap_or_default();
            rows.push(("mode_attempts", m.as_str(), c.attempts));
            rows.push(("mode_successes", m.as_str(), c.successes));
            rows.push(("mode_denials", m.as_str(), c.denials));
        }
        for k in DenialKind::ALL {
            let n = self.denials_by_reason.get(k).copied().unwrap_or(0);
            rows.push(("denials_by_reason", k.as_str(), n));
        }
        let err = |e: csv::Error| Error::Io(io::Error::from(e));
        w.write_record(["metric", "key", "value"]).map_err(err)?;
        for (metric, key, value) in rows {
            w.write_record([metric, key, &value.to_string()])
                .map_err(err)?;
        }
        w.into_inner().map_err(|e| Error::Io(e.into_error()))
    }
}
