//! The one rule for free text that enters homeward: person fields, status
//! places and details, tracing requests, searches, conflict setups.
//!
//! Text is trimmed, bounded, and holds no control characters except the
//! line feed (an address may span lines). A NUL or an escape sequence is
//! never part of a name, a relationship or a phone number; stored, it would
//! travel into exports, CSV files, terminals and other parties' systems,
//! and a NUL truncates the value in C libraries. Every input that takes
//! free text goes through [`free_text`] (or [`has_control`] where the value
//! is not collected into a list of field errors), so the rule cannot differ
//! between one door and another.

use crate::FieldError;

/// The reason given when [`has_control`] is true.
pub const CONTROL_REASON: &str = "contains control characters";

/// Whether `v` holds a control character other than the line feed.
pub fn has_control(v: &str) -> bool {
    v.chars().any(|c| c.is_control() && c != '\n')
}

/// Checks one field: `None` if it is absent or blank, the trimmed value if
/// it passes, otherwise `None` with the problem (naming `field`, never
/// quoting the value) pushed to `errors`.
pub fn free_text(field: &str, value: Option<&str>, max: usize, errors: &mut Vec<FieldError>) -> Option<String> {
    let v = value.map(str::trim).filter(|v| !v.is_empty())?;
    if v.chars().count() > max {
        errors.push(FieldError::new(field, format!("longer than {max} characters")));
        return None;
    }
    if has_control(v) {
        errors.push(FieldError::new(field, CONTROL_REASON));
        return None;
    }
    Some(v.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn control_characters_are_refused_and_named_not_quoted() {
        for bad in ["Ко\0валенко", "a\rb", "\u{1b}[31m", "tab\there", "one\u{85}next line", "\u{7f}"] {
            let mut errors = Vec::new();
            assert_eq!(free_text("enquirer_name", Some(bad), 200, &mut errors), None, "{bad:?}");
            assert_eq!(errors, vec![FieldError::new("enquirer_name", CONTROL_REASON)]);
        }
        let mut errors = Vec::new();
        assert_eq!(
            free_text("address", Some(" вул. Шевченка 1\nПолтава "), 200, &mut errors).as_deref(),
            Some("вул. Шевченка 1\nПолтава")
        );
        assert_eq!(free_text("x", Some("   "), 200, &mut errors), None);
        assert_eq!(free_text("x", Some("abcd"), 3, &mut errors), None);
        assert_eq!(errors, vec![FieldError::new("x", "longer than 3 characters")]);
    }
}
