//! The one SMS-code flow of the front ends (`mfa radius serve`, mfa-http):
//! the store issues a code, the notifier sends it, and a code that could
//! not be sent is withdrawn.

use core::fmt;

use mfa_oath::UnixTime;
use mfa_record::PhoneNumber;
use mfa_store::{Channel, CodeIssue, Store};

use crate::error::Error;
use crate::notifier::Notifier;
use crate::{CodeChannel, OneTimeCode};

/// What [`Notifier::send_sms_code`] did. Phone numbers are masked
/// ([`PhoneNumber::masked`], `+*******5678`): this may be logged and shown.
#[derive(Debug)]
#[must_use]
#[non_exhaustive]
pub enum SmsCode {
    /// A new code was issued and the sender took it: ask the user for it.
    Sent {
        /// Where it went, masked.
        to: String,
        /// When it expires.
        expires: UnixTime,
    },
    /// A code sent earlier is still pending: nothing was sent (a
    /// retransmitted or repeated request never sends a second message).
    /// Ask the user for that one.
    AlreadySent {
        /// Where it went, masked.
        to: String,
        /// When it expires.
        expires: UnixTime,
    },
    /// No SMS sender (`notify.sms.command` or `notify.sms.webhook_url`) is
    /// configured: nothing was issued.
    NoSender,
    /// The user is unknown or has no valid phone number: nothing was issued.
    NoPhone,
    /// A new code was issued but could not be sent; it was withdrawn
    /// ([`Store::withdraw_code`]) so that it cannot sign in and the next
    /// request issues and sends a new one.
    Undelivered {
        /// Where it should have gone, masked.
        to: String,
        /// Why it was not sent (never the code or the message).
        error: Error,
        /// Whether the code was withdrawn.
        withdrawal: Withdrawal,
    },
    /// The store answered in a way this version does not know
    /// ([`CodeIssue`] is non-exhaustive): nothing was sent.
    NotIssued,
}

/// What became of a code that could not be sent.
#[derive(Debug)]
#[non_exhaustive]
pub enum Withdrawal {
    /// Withdrawn: it cannot sign in.
    Withdrawn,
    /// No pending code matched (a newer one replaced it): nothing to do.
    NothingPending,
    /// The store failed: the code may still be pending until it expires
    /// (nobody received it).
    Failed(mfa_store::Error),
}

impl fmt::Display for Withdrawal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Withdrawal::Withdrawn => f.write_str("code withdrawn"),
            Withdrawal::NothingPending => f.write_str("no pending code to withdraw"),
            Withdrawal::Failed(e) => write!(f, "code NOT withdrawn (store error: {e})"),
        }
    }
}

/// One line for a log or a reject reason; never the code or the full
/// phone number.
impl fmt::Display for SmsCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SmsCode::Sent { to, .. } => write!(f, "SMS code sent to {to}"),
            SmsCode::AlreadySent { to, .. } => {
                write!(f, "SMS code already sent to {to}, still valid")
            }
            SmsCode::NoSender => f.write_str("no SMS sender is configured"),
            SmsCode::NoPhone => f.write_str("no valid phone number"),
            SmsCode::Undelivered {
                to,
                error,
                withdrawal,
            } => write!(f, "SMS delivery to {to} failed: {error}; {withdrawal}"),
            SmsCode::NotIssued => f.write_str("the store issued no code"),
        }
    }
}

impl Notifier {
    /// Issues a one-time code of `digits` digits for `user` in `store`
    /// ([`Store::issue_code`], SMS channel) and sends it to the user's
    /// phone number; when it cannot be sent, withdraws it
    /// ([`Store::withdraw_code`]). A code still pending is not sent again.
    /// Verify the code the user types with [`Store::authenticate`] and
    /// `Presented::OneTimeCode { channel: Channel::Sms, .. }`.
    ///
    /// This is blocking (the store and the sender both are): call it from a
    /// worker thread.
    ///
    /// ```
    /// use mfa_notify::{Notifier, NotifyConfig, SmsCode};
    /// use mfa_oath::UnixTime;
    /// use mfa_store::{MasterKey, Store, UserProfile};
    /// # let dir = tempfile::tempdir()?;
    /// # let store = Store::open(&format!("sqlite:{}", dir.path().join("m.db").display()), &MasterKey::new(1, [7; 32]))?;
    /// let now = UnixTime::from_secs(1_700_000_000);
    /// let mut sam = UserProfile::new("sam");
    /// sam.phone = Some("+31 6 1234 5678".into());
    /// store.put_user(&sam, now)?;
    /// let mut config = NotifyConfig::default();
    /// config.apply_setting("notify.sms.command", "/bin/sh -c cat>/dev/null")?;
    /// let notifier = Notifier::new(config)?;
    /// let first = notifier.send_sms_code(&store, "sam", 6, now)?;
    /// assert!(matches!(first, SmsCode::Sent { ref to, .. } if to == "+*******5678"));
    /// // Asked again while that code is pending: nothing is sent.
    /// let again = notifier.send_sms_code(&store, "sam", 6, now)?;
    /// assert!(matches!(again, SmsCode::AlreadySent { .. }));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    ///
    /// # Errors
    /// The store's errors reading the user and issuing the code
    /// ([`mfa_store::Error::FieldLength`] for `digits` outside 6–9, database
    /// errors). Everything else is an [`SmsCode`]; a store error while
    /// withdrawing is [`Withdrawal::Failed`], so the delivery failure is
    /// not lost.
    pub fn send_sms_code(
        &self,
        store: &Store,
        user: &str,
        digits: u32,
        now: UnixTime,
    ) -> Result<SmsCode, mfa_store::Error> {
        if !self.config().has_phone() {
            return Ok(SmsCode::NoSender);
        }
        let Some(phone) = store
            .user(user)?
            .and_then(|u| u.phone)
            .and_then(|p| PhoneNumber::new(p).ok())
        else {
            return Ok(SmsCode::NoPhone);
        };
        let to = phone.masked();
        let (code, expires) = match store.issue_code(user, Channel::Sms, digits, now)? {
            CodeIssue::New { code, expires } => (code, expires),
            CodeIssue::Pending { expires } => return Ok(SmsCode::AlreadySent { to, expires }),
            _ => return Ok(SmsCode::NotIssued),
        };
        let sent = OneTimeCode::new(code.expose())
            .and_then(|c| self.send_code(&phone, CodeChannel::Sms, &c, now, expires));
        match sent {
            Ok(()) => Ok(SmsCode::Sent { to, expires }),
            Err(error) => {
                // Nobody received it: it must not stay pending and valid
                // (the next request would answer "already sent" for a
                // message that never arrived, and the code could sign in).
                let withdrawal = match store.withdraw_code(user, Channel::Sms, &code, now) {
                    Ok(true) => Withdrawal::Withdrawn,
                    Ok(false) => Withdrawal::NothingPending,
                    Err(e) => Withdrawal::Failed(e),
                };
                Ok(SmsCode::Undelivered {
                    to,
                    error,
                    withdrawal,
                })
            }
        }
    }
}
