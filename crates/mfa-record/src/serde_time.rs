//! `mfa_oath::UnixTime` as Unix seconds in serde formats (mfa-oath has no
//! serde support of its own).

use mfa_oath::UnixTime;
use serde::{Deserialize, Deserializer, Serializer};

pub(crate) fn serialize<S: Serializer>(t: &UnixTime, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_u64(t.secs())
}

pub(crate) fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<UnixTime, D::Error> {
    u64::deserialize(d).map(UnixTime::from_secs)
}

pub(crate) mod option {
    use super::*;

    #[allow(clippy::ref_option)] // serde's `with` passes `&Option<T>`
    pub(crate) fn serialize<S: Serializer>(t: &Option<UnixTime>, s: S) -> Result<S::Ok, S::Error> {
        match t {
            Some(t) => s.serialize_some(&t.secs()),
            None => s.serialize_none(),
        }
    }

    pub(crate) fn deserialize<'de, D: Deserializer<'de>>(
        d: D,
    ) -> Result<Option<UnixTime>, D::Error> {
        Option::<u64>::deserialize(d).map(|o| o.map(UnixTime::from_secs))
    }
}
