#![doc = include_str!("../README.md")]
#![forbid(unsafe_code)]

mod config;
mod error;
mod keypad;
mod state;

pub use config::{DEFAULT_BLOCK_PERIOD_SECS, FraudConfig, MAX_CODE_LEN, ReportingCode};
pub use error::{ConfigField, Error};
pub use keypad::{Keypad, MAX_KEYPAD_LEN, parse_keypad};
pub use state::{
    AuditActivity, Block, BlockCause, Channel, Effect, Event, FraudState, Gate,
    MAX_KEPT_DETECTIONS, MAX_REASON_LEN, Remediation, Risk, RiskDetection, RiskEventType,
    RiskLevel, SignInResult,
};
