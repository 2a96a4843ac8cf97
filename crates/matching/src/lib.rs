//! Cross-script person matching (issue 4). Not yet built.
