//! CSV imports as background jobs, over real HTTP: `Prefer: respond-async`,
//! the job's progress while it runs, its report, who may see it, bad files,
//! the web form's job page, and jobs a stopped server left running.

use std::time::{Duration, Instant};

use reqwest::{Method, StatusCode};

use crate::support::TestApp;

/// `n` demo persons as the import CSV (names in several scripts, contacts).
pub fn demo_csv(n: usize) -> Vec<u8> {
    let mut out = Vec::new();
    homeward_demo::write_csv(homeward_demo::demo_persons(7, n), &mut out).unwrap();
    out
}

/// `csv` with field `column` (0-based) of line `line` (1-based, the header
/// is line 1) set to `value`. The demo quotes only later fields, so a split on
/// commas keeps every field before them.
pub fn spoil(csv: &[u8], line: usize, column: usize, value: &str) -> Vec<u8> {
    let text = std::str::from_utf8(csv).unwrap();
    let mut lines: Vec<String> = text.lines().map(str::to_owned).collect();
    let mut fields: Vec<String> = lines[line - 1].split(',').map(str::to_owned).collect();
    fields[column] = value.to_owned();
    lines[line - 1] = fields.join(",");
    (lines.join("\n") + "\n").into_bytes()
}

async fn post_async(app: &TestApp, role: &str, csv: Vec<u8>) -> reqwest::Response {
    app.request(role, Method::POST, "/api/v1/imports/persons")
        .header("content-type", "text/csv")
        .header("prefer", "respond-async, wait=5")
        .body(csv)
        .send()
        .await
        .unwrap()
}

/// Polls the job until it ends; returns every state seen and the last body.
async fn follow(app: &TestApp, role: &str, location: &str) -> (Vec<serde_json::Value>, serde_json::Value) {
    let mut seen = Vec::new();
    let deadline = Instant::now() + Duration::from_secs(300);
    loop {
        let resp = app.get(role, location).await;
        assert_eq!(resp.status(), StatusCode::OK);
        let job: serde_json::Value = resp.json().await.unwrap();
        let state = job["state"].as_str().unwrap().to_owned();
        seen.push(job.clone());
        if state != "queued" && state != "running" {
            return (seen, job);
        }
        assert!(Instant::now() < deadline, "the job ends");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_large_upload_runs_as_a_job_whose_progress_can_be_watched() {
    let app = TestApp::start().await;
    let before = app.total_persons().await;
    let csv = demo_csv(50_000);
    let total = csv.len() as u64;
    let resp = post_async(&app, "officer-a", csv).await;
    assert_eq!(resp.status(), StatusCode::ACCEPTED);
    assert_eq!(resp.headers()["preference-applied"], "respond-async");
    let location = resp.headers()["location"].to_str().unwrap().to_owned();
    let queued: serde_json::Value = resp.json().await.unwrap();
    let id = queued["id"].as_str().unwrap();
    assert_eq!(location, format!("/api/v1/imports/{id}"));
    assert!(matches!(queued["state"].as_str(), Some("queued" | "running")), "{queued}");
    assert_eq!(queued["total_bytes"].as_u64(), Some(total));
    assert_eq!(queued["source"], "A");

    // Others cannot see the job; the mediator can; an id that is no UUID is a 400.
    assert_eq!(app.get("officer-b", &location).await.status(), StatusCode::NOT_FOUND);
    assert_eq!(app.get("caseworker", &location).await.status(), StatusCode::NOT_FOUND);
    assert_eq!(app.get("anonymous", &location).await.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(app.get("mediator", &location).await.status(), StatusCode::OK);
    assert_eq!(app.get("officer-a", "/api/v1/imports/not-a-uuid").await.status(), StatusCode::BAD_REQUEST);

    let (seen, done) = follow(&app, "officer-a", &location).await;
    let partial: Vec<&serde_json::Value> = seen
        .iter()
        .filter(|j| j["state"] == "running" && j["bytes_read"].as_u64().is_some_and(|b| b > 0 && b < total))
        .collect();
    assert!(!partial.is_empty(), "progress was seen part way: {} polls", seen.len());
    assert!(partial.iter().all(|j| j["rows_read"].as_u64().unwrap() > 0));
    let rows: Vec<u64> = seen.iter().map(|j| j["rows_read"].as_u64().unwrap()).collect();
    assert!(rows.windows(2).all(|w| w[0] <= w[1]), "rows read only grow: {rows:?}");

    assert_eq!(done["state"], "committed", "{done}");
    assert_eq!(done["rows_read"].as_u64(), Some(50_000));
    assert_eq!(done["bytes_read"].as_u64(), Some(total));
    let report = &done["report"];
    assert_eq!(report["committed"], true);
    assert_eq!(report["created"].as_u64(), Some(50_000));
    assert_eq!(app.total_persons().await, before + 50_000);
    assert_eq!(std::fs::read_dir(&app.import_dir).unwrap().count(), 0, "the spooled file is removed");

    // The outcome stays readable, by the mediator too.
    let later: serde_json::Value = app.get("mediator", &location).await.json().await.unwrap();
    assert_eq!(later["state"], "committed");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_bad_file_is_reported_row_by_row_and_nothing_is_stored() {
    let app = TestApp::start().await;
    let before = app.total_persons().await;
    // Line 101: no family name. Line 2001: a date that is not on the calendar.
    let csv = spoil(&spoil(&demo_csv(3_000), 101, 1, ""), 2001, 5, "1990-02-30");
    let csv = String::from_utf8(csv).unwrap();

    let resp = post_async(&app, "officer-a", csv.clone().into_bytes()).await;
    assert_eq!(resp.status(), StatusCode::ACCEPTED);
    let location = resp.headers()["location"].to_str().unwrap().to_owned();
    let (_, done) = follow(&app, "officer-a", &location).await;
    assert_eq!(done["state"], "rejected", "{done}");
    let report = &done["report"];
    assert_eq!(report["committed"], false);
    let rejections: Vec<(u64, &str)> = report["rejections"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| (r["line"].as_u64().unwrap(), r["field"].as_str().unwrap()))
        .collect();
    assert_eq!(rejections, vec![(101, "family_name"), (2001, "birth_date")]);
    assert!(!done.to_string().contains("1990-02-30"), "the report quotes no value");
    assert_eq!(app.total_persons().await, before, "nothing stored");

    // The same file without Prefer: answered at once, as before jobs existed.
    let resp = app
        .request("officer-a", Method::POST, "/api/v1/imports/persons")
        .header("content-type", "text/csv")
        .body(csv)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let body: serde_json::Value = resp.json().await.unwrap();
    assert_eq!(body["report"]["rejections"].as_array().unwrap().len(), 2);
    assert_eq!(app.total_persons().await, before, "nothing stored");

    // Too large even for a job.
    let huge = vec![b'a'; homeward_web::v1::imports::MAX_UPLOAD + 1];
    assert_eq!(post_async(&app, "officer-a", huge).await.status(), StatusCode::PAYLOAD_TOO_LARGE);
    assert_eq!(std::fs::read_dir(&app.import_dir).unwrap().count(), 0, "no spooled file is left behind");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_web_form_sends_the_browser_to_the_jobs_page() {
    let app = TestApp::start().await;
    let form = reqwest::multipart::Form::new()
        .part("file", reqwest::multipart::Part::bytes(demo_csv(20_000)).file_name("list.csv"));
    let resp = app.request("officer-a", Method::POST, "/import").multipart(form).send().await.unwrap();
    assert_eq!(resp.status(), StatusCode::SEE_OTHER);
    let page = resp.headers()["location"].to_str().unwrap().to_owned();
    assert!(page.starts_with("/import/"), "{page}");

    let html = |role: &'static str, path: String| {
        let app = &app;
        async move {
            let resp = app.request(role, Method::GET, &path).header("accept", "text/html").send().await.unwrap();
            (resp.status().as_u16(), resp.text().await.unwrap())
        }
    };
    let (status, first) = html("officer-a", page.clone()).await;
    assert_eq!(status, 200);
    if first.contains("data-state=\"running\"") || first.contains("data-state=\"queued\"") {
        assert!(first.contains("<progress id=\"import-progress\""), "{first}");
        assert!(first.contains("aria-valuenow="));
        assert!(first.contains("hx-get=\"/import/"), "htmx polls the fragment");
        assert!(first.contains("<noscript><meta http-equiv=\"refresh\""), "and without scripts the page refreshes");
    }
    let deadline = Instant::now() + Duration::from_secs(300);
    let done = loop {
        let (status, fragment) = html("officer-a", format!("{page}/progress")).await;
        assert_eq!(status, 200);
        if !fragment.contains("hx-get") {
            break fragment;
        }
        assert!(Instant::now() < deadline);
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    assert!(done.contains("data-state=\"committed\"") && done.contains("Imported."), "{done}");
    let (_, full) = html("officer-a", page.clone()).await;
    assert!(!full.contains("http-equiv=\"refresh\""), "a finished job's page does not refresh");
    assert_eq!(html("officer-b", page.clone()).await.0, 404, "not the other party's to see");
    assert_eq!(html("mediator", page).await.0, 200);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn jobs_left_running_by_a_stopped_server_are_marked_interrupted() {
    use homeward_store::{AccountStore, ImportJobId, ImportJobStore, JobProgress, JobState, NewImportJob};
    let app = TestApp::start().await;
    let users = app.store.list_users().await.unwrap();
    let user = users.iter().find(|u| u.username.to_string() == "officer-a").unwrap().id;
    let id = ImportJobId::new();
    app.store
        .create_import_job(&NewImportJob {
            id,
            started_by: user,
            source: "A".into(),
            dry_run: false,
            total_bytes: 10,
            created_at: time::OffsetDateTime::now_utc(),
        })
        .await
        .unwrap();
    let progress = JobProgress { rows_read: 4, bytes_read: 5 };
    app.store.update_import_job(id, JobState::Running, progress, None, time::OffsetDateTime::now_utc()).await.unwrap();
    std::fs::create_dir_all(&app.import_dir).unwrap();
    let spooled = app.import_dir.join(format!("{id}.csv"));
    std::fs::write(&spooled, "record_id\n").unwrap();
    std::fs::write(app.import_dir.join("stray.part"), "half").unwrap();

    // What `homeward serve` does before it listens.
    let jobs = homeward_web::jobs::ImportJobs::new(&app.import_dir);
    assert_eq!(jobs.recover(app.store.as_ref()).await.unwrap(), vec![id]);
    assert!(!spooled.exists(), "the spooled file is removed");
    assert_eq!(std::fs::read_dir(&app.import_dir).unwrap().count(), 0);

    let job: serde_json::Value = app.get("officer-a", &format!("/api/v1/imports/{id}")).await.json().await.unwrap();
    assert_eq!(job["state"], "interrupted");
    assert_eq!(job["message"], homeward_web::jobs::INTERRUPTED);
    assert!(job["message"].as_str().unwrap().contains("nothing was stored"));
    assert_eq!(job["rows_read"].as_u64(), Some(4));
    assert!(job["report"].is_null());
}
