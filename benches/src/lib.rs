//! Criterion benches of mfa-kit; see `benches/`.
