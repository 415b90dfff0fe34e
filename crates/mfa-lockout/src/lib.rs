#![doc = include_str!("../README.md")]
#![forbid(unsafe_code)]

mod class;
mod error;
mod policy;
mod state;

pub use class::{FactorClass, Policies, UserLockout};
pub use error::{Error, PolicyField, StateField};
pub use policy::{Escalation, MAX_HARD_CAP, Policy};
pub use state::{
    AdminLockCause, Decision, Lock, LockoutParts, LockoutState, MAX_REASON_LEN, ReasonProblem,
    Unblocked, check_reason,
};
