//! SMS and voice one-time codes.

use mfa_lockout::FactorClass;
use mfa_oath::UnixTime;
use mfa_record::{AuthResult, DenialReason};
use subtle::ConstantTimeEq;

use super::authenticate::{Checked, denied};
use super::{Store, check_len, lock_user};

use crate::db::{Mode, Val, int};
use crate::{Channel, Error, VerifyContext, VerifyOutcome};

impl Store {
    /// Stores a one-time code sent to `user` by SMS or voice (the caller
    /// generates and sends it). Only a keyed hash is stored; it expires
    /// after [`StoreConfig::code_ttl`] seconds and replaces any earlier
    /// code on the same channel. Returns the expiry time.
    ///
    /// # Errors
    /// [`Error::UnknownUser`], [`Error::FieldLength`], database errors.
    pub fn create_code(
        &self,
        user: &str,
        channel: Channel,
        code: &str,
        now: UnixTime,
    ) -> Result<UnixTime, Error> {
        check_len("code", code, 64)?;
        let expires = now.secs().saturating_add(self.config.code_ttl);
        let hash = self.keys.code_hash(channel.as_str(), user, code);
        self.pool.run(Mode::Write, |tx| {
            lock_user(tx, user)?.ok_or_else(|| Error::UnknownUser {
                user: user.to_owned(),
            })?;
            tx.exec(
                "INSERT INTO one_time_codes (user_id, channel, hash, created_at, expires_at, consumed_at) \
                 VALUES ($1, $2, $3, $4, $5, NULL) ON CONFLICT (user_id, channel) DO UPDATE SET \
                 hash = excluded.hash, created_at = excluded.created_at, \
                 expires_at = excluded.expires_at, consumed_at = NULL",
                &[user.into(), channel.as_str().into(), Val::Blob(hash.clone()), int(now.secs()), int(expires)],
            )?;
            Ok(UnixTime::from_secs(expires))
        })
    }

    /// Verifies a one-time code through the same pipeline as
    /// [`Store::verify`] (fraud → lockout → check → counters → log). A code
    /// is consumed at most once, from any server.
    ///
    /// # Errors
    /// Database errors.
    pub fn verify_code(
        &self,
        user: &str,
        channel: Channel,
        code: &str,
        now: UnixTime,
        ctx: &VerifyContext,
    ) -> Result<VerifyOutcome, Error> {
        let hash = self.keys.code_hash(channel.as_str(), user, code);
        let class = match channel {
            Channel::Sms => FactorClass::SmsCode,
            Channel::Voice => FactorClass::VoiceCall,
        };
        self.pipeline(user, now, ctx, channel.mode(), class, |tx| {
            let sql = format!(
                "SELECT hash, expires_at, consumed_at, created_at FROM one_time_codes WHERE user_id = $1 AND channel = $2{}",
                tx.for_update()
            );
            let Some(r) = tx.query_opt("one_time_codes", &sql, &[user.into(), channel.as_str().into()])? else {
                return Ok(Checked {
                    outcome: denied(DenialReason::CodeWrong),
                    counts: Some(false),
                });
            };
            let matches: bool = r.blob(0, "hash")?.as_slice().ct_eq(hash.as_slice()).into();
            // A one-time code's "step" is the time it was created.
            let replayed = DenialReason::CodeReplayed {
                step: r.u64(3, "created_at")?,
            };
            let reason = if !matches {
                DenialReason::CodeWrong
            } else if r.opt_i64(2, "consumed_at")?.is_some() {
                replayed
            } else if now.secs() >= r.u64(1, "expires_at")? {
                DenialReason::CodeExpired
            } else {
                let n = tx.exec(
                    "UPDATE one_time_codes SET consumed_at = $1 WHERE user_id = $2 AND channel = $3 AND consumed_at IS NULL",
                    &[int(now.secs()), user.into(), channel.as_str().into()],
                )?;
                if n == 1 {
                    return Ok(Checked {
                        outcome: VerifyOutcome {
                            result: AuthResult::Success,
                            serial: None,
                            step: None,
                        },
                        counts: Some(true),
                    });
                }
                replayed
            };
            Ok(Checked {
                outcome: denied(reason),
                counts: Some(false),
            })
        })
    }
}
