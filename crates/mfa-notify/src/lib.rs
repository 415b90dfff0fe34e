#![doc = include_str!("../README.md")]
#![forbid(unsafe_code)]

mod code;
mod command;
mod config;
mod error;
mod notifier;
mod smtp;
mod store_code;
mod template;
mod webhook;

pub use code::{CodeChannel, OneTimeCode};
pub use config::{
    DEFAULT_BLOCKED_BODY, DEFAULT_BLOCKED_SUBJECT, DEFAULT_FRAUD_BODY, DEFAULT_FRAUD_SUBJECT,
    DEFAULT_SMS, DEFAULT_VOICE, MAX_FRAUD_EMAILS, NotifyConfig, SETTINGS, Setting, SmtpTls,
    setting,
};
pub use error::{Cause, Error, Transport};
pub use notifier::{FraudDelivery, Notifier, RecipientOutcome};
pub use store_code::{SmsCode, Withdrawal};
pub use template::MAX_TEMPLATE_LEN;

#[cfg(test)]
mod tests {
    #[test]
    fn a_notifier_is_shared_between_threads() {
        fn send_sync<T: Send + Sync>() {}
        send_sync::<crate::Notifier>();
        send_sync::<crate::Error>();
        send_sync::<crate::NotifyConfig>();
    }
}
