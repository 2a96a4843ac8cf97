//! Every account case on both backends (`common`).

mod common;

macro_rules! account_tests {
    ($($case:ident),* $(,)?) => {
        on_both_backends!(homeward_store_conformance::accounts, |s| (s.clone(), s); $($case),*);
    };
}

homeward_store_conformance::for_each_account_case!(account_tests);
