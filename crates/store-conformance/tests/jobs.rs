//! Every import-job case on both backends (`common`).

mod common;

macro_rules! job_tests {
    ($($case:ident),* $(,)?) => {
        on_both_backends!(homeward_store_conformance::jobs, |s| (s); $($case),*);
    };
}

homeward_store_conformance::for_each_job_case!(job_tests);
