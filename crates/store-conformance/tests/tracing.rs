//! Every tracing case on both backends (`common`).

mod common;

macro_rules! tracing_tests {
    ($($case:ident),* $(,)?) => {
        on_both_backends!(homeward_store_conformance::tracing, |s| (s.clone(), s); $($case),*);
    };
}

homeward_store_conformance::for_each_tracing_case!(tracing_tests);
