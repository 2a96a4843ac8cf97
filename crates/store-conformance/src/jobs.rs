//! The import-job cases: a job is created queued, moves through running to
//! a final state with its report, cannot leave a final state, and jobs left
//! live by a stopped process are marked interrupted at start-up.

use std::sync::Arc;

use homeward_store::{
    ImportJobId, ImportJobStore, JobProgress, JobState, NewImportJob, StoreError, UserId, truncate_to_millis,
};
use time::OffsetDateTime;
use uuid::Uuid;

pub type DynJobs = Arc<dyn ImportJobStore>;

/// Runs `$m!(case, ...)` with every job case, for the per-backend test file.
#[macro_export]
macro_rules! for_each_job_case {
    ($m:ident) => {
        $m!(a_job_moves_from_queued_to_a_final_state, live_jobs_are_interrupted_at_start_up);
    };
}

fn new_job(by: UserId, total: u64) -> NewImportJob {
    NewImportJob {
        id: ImportJobId::new(),
        started_by: by,
        source: "A".into(),
        dry_run: false,
        total_bytes: total,
        created_at: truncate_to_millis(OffsetDateTime::now_utc()),
    }
}

pub async fn a_job_moves_from_queued_to_a_final_state(jobs: DynJobs) {
    let by = UserId(Uuid::now_v7());
    let new = new_job(by, 5_000_000_000);
    jobs.create_import_job(&new).await.unwrap();
    let job = jobs.import_job(new.id).await.unwrap().expect("stored");
    assert_eq!(job.state, JobState::Queued);
    assert_eq!(job.started_by, by);
    assert_eq!(job.source, "A");
    assert!(!job.dry_run);
    assert_eq!(job.total_bytes, 5_000_000_000, "sizes past 4 GiB survive");
    assert_eq!(job.progress, JobProgress::default());
    assert_eq!(job.report, None);
    assert_eq!(job.created_at, new.created_at);

    let later = new.created_at + time::Duration::seconds(3);
    let progress = JobProgress { rows_read: 2000, bytes_read: 123_456 };
    jobs.update_import_job(new.id, JobState::Running, progress, None, later).await.unwrap();
    let job = jobs.import_job(new.id).await.unwrap().unwrap();
    assert_eq!((job.state, job.progress, job.updated_at), (JobState::Running, progress, later));

    let report = r#"{"rows":3,"rejections":[{"line":2,"field":"family_name","reason":"empty"}],"committed":false}"#;
    let done = JobProgress { rows_read: 3, bytes_read: 200 };
    jobs.update_import_job(new.id, JobState::Rejected, done, Some(report), later).await.unwrap();
    let job = jobs.import_job(new.id).await.unwrap().unwrap();
    assert_eq!(job.state, JobState::Rejected);
    assert_eq!(job.report.as_deref(), Some(report), "the report comes back as written");
    assert_eq!(job.progress, done);

    // A final state is final.
    let again = jobs.update_import_job(new.id, JobState::Committed, done, Some("{}"), later).await;
    assert!(matches!(again, Err(StoreError::NotFound(_))), "{again:?}");
    assert_eq!(jobs.import_job(new.id).await.unwrap().unwrap().state, JobState::Rejected);
    // Unknown ids.
    assert_eq!(jobs.import_job(ImportJobId::new()).await.unwrap(), None);
    let unknown = jobs.update_import_job(ImportJobId::new(), JobState::Running, done, None, later).await;
    assert!(matches!(unknown, Err(StoreError::NotFound(_))));
}

pub async fn live_jobs_are_interrupted_at_start_up(jobs: DynJobs) {
    let by = UserId(Uuid::now_v7());
    let (queued, running, finished) = (new_job(by, 10), new_job(by, 20), new_job(by, 30));
    for j in [&queued, &running, &finished] {
        jobs.create_import_job(j).await.unwrap();
    }
    let now = truncate_to_millis(OffsetDateTime::now_utc());
    let p = JobProgress { rows_read: 1, bytes_read: 5 };
    jobs.update_import_job(running.id, JobState::Running, p, None, now).await.unwrap();
    jobs.update_import_job(finished.id, JobState::Committed, p, Some("{\"committed\":true}"), now).await.unwrap();

    let mut ids = jobs.interrupt_live_import_jobs("{\"stopped\":true}", now).await.unwrap();
    ids.sort();
    let mut want = vec![queued.id, running.id];
    want.sort();
    assert_eq!(ids, want);
    for id in [queued.id, running.id] {
        let job = jobs.import_job(id).await.unwrap().unwrap();
        assert_eq!(job.state, JobState::Interrupted);
        assert_eq!(job.report.as_deref(), Some("{\"stopped\":true}"));
    }
    assert_eq!(jobs.import_job(running.id).await.unwrap().unwrap().progress, p, "progress so far is kept");
    let kept = jobs.import_job(finished.id).await.unwrap().unwrap();
    assert_eq!((kept.state, kept.report.as_deref()), (JobState::Committed, Some("{\"committed\":true}")));
    assert!(jobs.interrupt_live_import_jobs("{}", now).await.unwrap().is_empty(), "nothing left live");
}
