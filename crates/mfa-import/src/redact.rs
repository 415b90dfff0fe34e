//! What a report may show of input that may hold a secret.

use std::borrow::Cow;

/// True if `cell` looks like it holds an otpauth URI or a `secret=`
/// parameter (a secret in a place where no secret belongs).
pub(crate) fn looks_secret(cell: &str) -> bool {
    let l = cell.to_ascii_lowercase();
    l.contains("otpauth") || l.contains("secret") || l.contains("data=")
}

/// `cell` itself, or its redacted form when it looks like it holds a
/// secret: a URI without its `secret` and `data` values (see
/// [`mfa_oath::redact_uri`]), anything else that names a secret as
/// `REDACTED`.
pub(crate) fn cell(cell: &str) -> Cow<'_, str> {
    if !looks_secret(cell) {
        return Cow::Borrowed(cell);
    }
    if cell.contains("://") {
        // Only the label and the issuer/algorithm/digits/period/counter
        // values survive.
        return Cow::Owned(mfa_oath::redact_uri(cell));
    }
    Cow::Borrowed("REDACTED")
}
