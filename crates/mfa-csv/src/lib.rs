#![doc = include_str!("../README.md")]
#![no_std]
#![forbid(unsafe_code)]

extern crate alloc;

use alloc::borrow::Cow;
use alloc::format;

/// Characters that make a spreadsheet treat a cell as a formula when they
/// start it, plus the quote used to neutralise them (so neutralising can be
/// undone exactly).
pub const FORMULA_TRIGGERS: [char; 12] = [
    '=', '+', '-', '@', '\t', '\r', '\n', '\'', '\u{FF1D}', '\u{FF0B}', '\u{FF0D}', '\u{FF20}',
];

/// Makes a cell safe to open in a spreadsheet: a cell that starts with one
/// of [`FORMULA_TRIGGERS`] gets a leading `'`.
///
/// ```
/// assert_eq!(mfa_csv::neutralise_cell("+14255551234"), "'+14255551234");
/// assert_eq!(mfa_csv::neutralise_cell("\tx"), "'\tx");
/// assert_eq!(mfa_csv::neutralise_cell("1234567"), "1234567");
/// ```
pub fn neutralise_cell(value: &str) -> Cow<'_, str> {
    match value.chars().next() {
        Some(c) if FORMULA_TRIGGERS.contains(&c) => Cow::Owned(format!("'{value}")),
        _ => Cow::Borrowed(value),
    }
}

/// Undoes [`neutralise_cell`]: removes one leading `'`.
///
/// ```
/// assert_eq!(mfa_csv::unneutralise_cell("'=1"), "=1");
/// assert_eq!(mfa_csv::unneutralise_cell("x"), "x");
/// ```
pub fn unneutralise_cell(cell: &str) -> &str {
    cell.strip_prefix('\'').unwrap_or(cell)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::indexing_slicing)]
    use super::*;
    extern crate std;
    use std::string::String;

    #[test]
    fn every_trigger_is_neutralised_and_restored() {
        for c in FORMULA_TRIGGERS {
            let cell: String = [c, '1', '+', '1'].iter().collect();
            let n = neutralise_cell(&cell);
            assert!(n.starts_with('\''), "{c:?}");
            assert_eq!(unneutralise_cell(&n), cell);
        }
    }

    #[test]
    fn ordinary_cells_are_untouched() {
        for cell in ["", "helga", "1234567", " =1", "a=1", "\u{FF21}"] {
            assert!(
                matches!(neutralise_cell(cell), Cow::Borrowed(_)),
                "{cell:?}"
            );
        }
    }

    #[test]
    fn the_union_of_both_former_copies_is_covered() {
        // mfa-import had = + - @ tab CR; mfa-record had those, LF and '.
        for c in ['=', '+', '-', '@', '\t', '\r', '\n', '\''] {
            assert!(FORMULA_TRIGGERS.contains(&c));
        }
    }
}
