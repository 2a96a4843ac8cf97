//! Every access-log case on both backends (`common`).

mod common;

macro_rules! access_tests {
    ($($case:ident),* $(,)?) => {
        on_both_backends!(homeward_store_conformance::access, |s| (s.clone(), s.clone(), s); $($case),*);
    };
}

homeward_store_conformance::for_each_access_case!(access_tests);
