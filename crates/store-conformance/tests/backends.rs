//! Every registry case on both backends (`common`).

mod common;

macro_rules! registry_tests {
    ($($case:ident),* $(,)?) => {
        on_both_backends!(homeward_store_conformance, |s| (s); $($case),*);
    };
}

homeward_store_conformance::for_each_case!(registry_tests);
