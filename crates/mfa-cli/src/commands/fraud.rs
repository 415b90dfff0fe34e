//! `mfa fraud …`: report, block, unblock, status.

use clap::{Subcommand, ValueEnum};
use mfa_store::mfa_fraud;
use serde_json::json;

use super::{actor, ctx, effects_text};
use crate::Failure;
use crate::ctx::{Global, format_time, now};
use crate::output::{Output, Report};

/// `mfa fraud …`
#[derive(Debug, Subcommand)]
pub(crate) enum FraudCommand {
    /// Record a fraud report by the user, as the app or the phone call
    /// delivers it (the configured policy decides whether it blocks), and
    /// e-mail it to `notify.fraud_emails` (and, with
    /// `notify.fraud_user_email=on`, to the blocked user), printing the
    /// outcome per recipient. Exit status 1 when the report was recorded
    /// but an e-mail due was not delivered.
    #[command(
        after_help = "Examples:\n  mfa fraud report helga@contoso.com --channel app\n  \
        mfa fraud report helga@contoso.com --channel phone --keys '0#1'   (fraud code, #, 1 to confirm the block)"
    )]
    Report {
        /// The user id.
        user: String,
        /// Where the report came from.
        #[arg(long, value_enum, default_value = "app")]
        channel: ChannelArg,
        /// Phone: the keys the user pressed (`0#` reports, a following `1`
        /// confirms the block when auto-block is on).
        #[arg(long)]
        keys: Option<String>,
        /// App: the user confirmed the block.
        #[arg(long)]
        confirm_block: bool,
    },
    #[command(
        after_help = "Example:\n  mfa fraud block helga@contoso.com --reason \"phone reported stolen\""
    )]
    /// Block a user by hand; the reason is logged.
    Block {
        /// The user id.
        user: String,
        /// Why (logged).
        #[arg(long)]
        reason: String,
    },
    #[command(
        after_help = "Example:\n  mfa fraud unblock helga@contoso.com --reason \"reviewed with the user\""
    )]
    /// Unblock a user; the reason is logged.
    Unblock {
        /// The user id.
        user: String,
        /// Why (logged).
        #[arg(long)]
        reason: String,
    },
    #[command(after_help = "Example:\n  mfa fraud status helga@contoso.com")]
    /// Whether a user is at high risk.
    Status {
        /// The user id.
        user: String,
    },
}

#[derive(Debug, Clone, Copy, ValueEnum)]
pub(crate) enum ChannelArg {
    App,
    Phone,
}

pub(crate) fn run(g: &Global, cmd: FraudCommand, out: &mut Output<'_>) -> Result<(), Failure> {
    let store = g.open()?;
    let db = |e| Failure::store(&g.db, e);
    match cmd {
        FraudCommand::Report {
            user,
            channel,
            keys,
            confirm_block,
        } => {
            let (channel, confirmed) = match (channel, keys) {
                (ChannelArg::Phone, Some(keys)) => {
                    match mfa_fraud::parse_keypad(&store.config().fraud, &keys)
                        .map_err(|e| Failure::input(format!("--keys {keys:?}: {e}")))?
                    {
                        mfa_fraud::Keypad::Report { block_confirmed } => {
                            (mfa_fraud::Channel::Phone, block_confirmed)
                        }
                        other => {
                            return Err(Failure::input(format!(
                                "--keys {keys:?} is not a fraud report ({other:?})"
                            )));
                        }
                    }
                }
                (ChannelArg::Phone, None) => {
                    return Err(Failure::input("--channel phone needs --keys (e.g. '0#1')"));
                }
                (ChannelArg::App, Some(_)) => {
                    return Err(Failure::input("--keys is for --channel phone"));
                }
                (ChannelArg::App, None) => (mfa_fraud::Channel::App, confirm_block),
            };
            let (store, mail) = crate::notify::prepare_fraud(g, store)?;
            let effects = store
                .report_fraud(&user, channel, confirmed, now(), &ctx()?)
                .map_err(db)?;
            let state = store.fraud_state(&user).map_err(db)?;
            let sent = crate::notify::deliver_fraud(&store, &g.db, &user, &effects, mail)?;
            out.print(&Report::new(json!({"user": user, "reported": true, "blocked": state.block.is_some(), "high_risk": state.risk.is_some(),
                    "effects": effects.iter().map(|e| format!("{e:?}")).collect::<Vec<_>>(),
                    "delivery": sent.json, "delivery_note": sent.note}), format!(
                    "{user}: fraud reported{}\n{}",
                    effects_text(&effects),
                    sent.text
                )))?;
            match sent.failure {
                None => Ok(()),
                Some(why) => Err(Failure::denied(why)),
            }
        }
        FraudCommand::Block { user, reason } => {
            let effects = store
                .fraud_block(&user, &actor(), &reason, now(), &ctx()?)
                .map_err(db)?;
            out.print(&Report::new(
                json!({"user": user, "blocked": true}),
                format!("{user}: blocked ({reason}){}", effects_text(&effects)),
            ))
        }
        FraudCommand::Unblock { user, reason } => {
            let effects = store
                .fraud_unblock(&user, &actor(), &reason, now(), &ctx()?)
                .map_err(db)?;
            out.print(&Report::new(
                json!({"user": user, "blocked": false}),
                format!("{user}: unblocked ({reason}){}", effects_text(&effects)),
            ))
        }
        FraudCommand::Status { user } => {
            let state = store.fraud_state(&user).map_err(db)?;
            let block = state
                .block
                .as_ref()
                .map(|b| format!("blocked until {}", format_time(b.until)));
            out.print(&Report::new(json!({"user": user, "blocked": state.block.is_some(), "blocked_until": state.block.as_ref().map(|b| b.until.secs()), "high_risk": state.risk.is_some()}), format!(
                    "{user}: {}, {}",
                    block.as_deref().unwrap_or("not blocked"),
                    if state.risk.is_some() {
                        "high risk"
                    } else {
                        "no risk"
                    }
                )))
        }
    }
}
