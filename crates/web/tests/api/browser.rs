//! Browser journeys in headless Debian chromium through chromedriver: each
//! role logs in, walks its main page, tries one forbidden thing, and every
//! page is saved as a screenshot under `test-output/`.
//!
//! Skipped when `/usr/bin/chromedriver` is missing, except with CI=true
//! (`.ci/run` installs chromium and chromium-driver).

use std::path::PathBuf;
use std::process::{Child, Command, Stdio};

use fantoccini::{Client, ClientBuilder, Locator};

use crate::support::{PASSWORD, TestApp};

const CHROMEDRIVER: &str = "/usr/bin/chromedriver";

struct Driver {
    child: Child,
    url: String,
    _profile: tempfile::TempDir,
}

impl Drop for Driver {
    fn drop(&mut self) {
        // Our own child, by its handle: nothing else is touched.
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn driver() -> Option<Driver> {
    if !std::path::Path::new(CHROMEDRIVER).exists() {
        assert!(std::env::var("CI").as_deref() != Ok("true"), "CI=true but chromium-driver is not installed");
        eprintln!("skipped: {CHROMEDRIVER} is missing (apt-get install chromium chromium-driver)");
        return None;
    }
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let child = Command::new(CHROMEDRIVER)
        .arg(format!("--port={port}"))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("chromedriver starts");
    Some(Driver { child, url: format!("http://127.0.0.1:{port}"), _profile: tempfile::tempdir().unwrap() })
}

async fn browser(driver: &Driver) -> Client {
    let profile = tempfile::tempdir_in(driver._profile.path()).unwrap().keep();
    let caps = serde_json::json!({
        "goog:chromeOptions": {
            "binary": "/usr/bin/chromium",
            "args": [
                "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                "--disable-component-update", "--disable-sync", "--no-first-run", "--window-size=412,915",
                format!("--user-data-dir={}", profile.display()),
            ]
        }
    });
    let caps: serde_json::Map<String, serde_json::Value> = caps.as_object().unwrap().clone();
    // chromedriver needs a moment to listen.
    for _ in 0..50 {
        let connector = hyper_util::client::legacy::connect::HttpConnector::new();
        match ClientBuilder::new(connector).capabilities(caps.clone()).connect(&driver.url).await {
            Ok(c) => return c,
            Err(_) => tokio::time::sleep(std::time::Duration::from_millis(100)).await,
        }
    }
    panic!("cannot start a chromium session");
}

fn out_dir() -> PathBuf {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../test-output");
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

async fn shot(c: &Client, name: &str) {
    let png = c.screenshot().await.unwrap();
    std::fs::write(out_dir().join(format!("{name}.png")), png).unwrap();
}

async fn login(c: &Client, app: &TestApp, user: &str) {
    c.goto(&app.url("/login")).await.unwrap();
    c.find(Locator::Id("username")).await.unwrap().send_keys(user).await.unwrap();
    c.find(Locator::Id("password")).await.unwrap().send_keys(PASSWORD).await.unwrap();
    c.find(Locator::Css("main button[type=submit]")).await.unwrap().click().await.unwrap();
    // The home page's navigation shows once the redirect after login has loaded.
    c.wait().for_element(Locator::Css("main nav")).await.unwrap();
    let url = c.current_url().await.unwrap();
    assert!(url.path().ends_with("/home"), "{user} lands on the home page, not {url}");
}

async fn text(c: &Client) -> String {
    c.find(Locator::Css("body")).await.unwrap().text().await.unwrap()
}

/// Uploads 50,000 demo rows, two of them bad, through the form: the job's
/// page shows the progress bar, then the report with the rejected rows.
async fn upload_and_watch(c: &Client) {
    use crate::imports::{demo_csv, spoil};
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("list.csv");
    std::fs::write(&file, spoil(&spoil(&demo_csv(50_000), 40_001, 1, ""), 49_001, 5, "1990-02-30")).unwrap();
    c.find(Locator::Id("file")).await.unwrap().send_keys(&file.display().to_string()).await.unwrap();
    c.find(Locator::Css("main form button[type=submit]")).await.unwrap().click().await.unwrap();
    let bar = c.wait().for_element(Locator::Css("#job progress#import-progress")).await.unwrap();
    assert!(bar.attr("aria-valuenow").await.unwrap().is_some(), "the bar tells assistive technology its value");
    assert!(c.current_url().await.unwrap().path().starts_with("/import/"));
    // Let the bar move before the picture: htmx swaps the fragment every second.
    for _ in 0..100 {
        // htmx may be swapping the fragment in this instant: look again.
        let Ok(now) = c.find(Locator::Css("#job")).await else {
            tokio::time::sleep(std::time::Duration::from_millis(100)).await;
            continue;
        };
        let value: u64 = match now.find(Locator::Css("progress")).await {
            Ok(p) => p.attr("value").await.ok().flatten().unwrap_or_default().parse().unwrap_or(0),
            Err(_) => break,
        };
        if value > 0 {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    shot(c, "officer-a-import-progress").await;
    let done = c
        .wait()
        .at_most(std::time::Duration::from_secs(300))
        .for_element(Locator::Css("#job[data-state=rejected]"))
        .await
        .unwrap();
    let report = done.text().await.unwrap();
    assert!(report.contains("Nothing was written"), "{report}");
    let rows = c.find(Locator::Id("rejections")).await.unwrap().text().await.unwrap();
    assert!(rows.contains("40001") && rows.contains("family_name"), "{rows}");
    assert!(rows.contains("49001") && rows.contains("birth_date"), "{rows}");
    shot(c, "officer-a-import-report").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_role_walks_its_pages_in_chromium() {
    let Some(driver) = driver() else { return };
    let app = TestApp::start().await;
    let p = app.persons;
    for user in ["mediator", "officer-a", "officer-b", "caseworker", "family", "auditor", "admin"] {
        let c = browser(&driver).await;
        login(&c, &app, user).await;
        shot(&c, &format!("{user}-home")).await;
        match user {
            "mediator" | "officer-a" | "officer-b" => {
                c.find(Locator::LinkText("Registry")).await.unwrap().click().await.unwrap();
                c.wait().for_element(Locator::Id("results")).await.unwrap();
                let body = text(&c).await;
                assert!(body.contains("Бондаренко"), "{user} sees the person held by A");
                shot(&c, &format!("{user}-registry")).await;
                // Type in the search box: htmx narrows the list in place.
                c.find(Locator::Id("q")).await.unwrap().send_keys("bondarenko").await.unwrap();
                tokio::time::sleep(std::time::Duration::from_millis(800)).await;
                let results = c.find(Locator::Id("results")).await.unwrap().text().await.unwrap();
                assert!(results.contains("Бондаренко") && !results.contains("Коваленко"), "{user}: search narrows");
                c.find(Locator::XPath("//a[contains(., 'Бондаренко')]")).await.unwrap().click().await.unwrap();
                c.wait().for_element(Locator::Css("ol.timeline")).await.unwrap();
                assert!(text(&c).await.contains("Bondarenko"), "Latin form beside Cyrillic");
                shot(&c, &format!("{user}-person")).await;
                // The forbidden thing: the other party's own person.
                let forbidden = match user {
                    "officer-a" => Some(p.b_own),
                    "officer-b" => Some(p.a_own),
                    _ => None,
                };
                if let Some(id) = forbidden {
                    c.goto(&app.url(&format!("/registry/{id}"))).await.unwrap();
                    let body = text(&c).await;
                    assert!(body.contains("there is nothing here"), "{user}: {body}");
                    shot(&c, &format!("{user}-forbidden")).await;
                    c.goto(&app.url("/import")).await.unwrap();
                    assert!(text(&c).await.contains("Import a CSV file"));
                    shot(&c, &format!("{user}-import")).await;
                    if user == "officer-a" {
                        upload_and_watch(&c).await;
                    }
                } else {
                    // The mediator registers no persons.
                    c.goto(&app.url("/import")).await.unwrap();
                    assert!(text(&c).await.contains("there is nothing here"));
                    shot(&c, &format!("{user}-forbidden")).await;
                }
            }
            _ => {
                c.goto(&app.url("/registry")).await.unwrap();
                assert!(text(&c).await.contains("there is nothing here"), "{user} sees no registry");
                shot(&c, &format!("{user}-forbidden")).await;
            }
        }
        c.goto(&app.url("/public/log")).await.unwrap();
        assert!(text(&c).await.contains("How to verify"));
        shot(&c, &format!("{user}-public-log")).await;
        c.close().await.unwrap();
    }
    // Anonymous: the registry sends the browser to the login page; the language menu works.
    let c = browser(&driver).await;
    c.goto(&app.url("/registry")).await.unwrap();
    assert!(c.current_url().await.unwrap().path().ends_with("/login"));
    c.goto(&app.url("/public/log")).await.unwrap();
    c.find(Locator::Css("#lang option[value=uk]")).await.unwrap().click().await.unwrap();
    c.find(Locator::Css("form[action='/language'] button")).await.unwrap().click().await.unwrap();
    c.wait().for_element(Locator::Css("html[lang=uk]")).await.unwrap();
    assert!(text(&c).await.contains("Як перевірити"), "Ukrainian after choosing it");
    shot(&c, "anonymous-public-log-uk").await;
    c.close().await.unwrap();
}

/// A family files a request in the browser; background matching proposes;
/// a caseworker sees the candidate beside the request and confirms with a
/// disclosure level; the family then reads the disclosed status. The
/// mediator uses the staff search page.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_family_files_and_a_caseworker_confirms_in_chromium() {
    let Some(driver) = driver() else { return };
    let app = TestApp::start().await;
    let resp = app
        .post_json(
            "officer-a",
            "/api/v1/persons",
            &serde_json::json!({
                "record_id": "A-600",
                "identity": {"family_name": "Гнатюк", "given_names": "Олександр", "birth_date": "1996-04-12",
                             "power": "B", "category": "military"},
                "status": {"status": "captured", "occurred_on": "2026-05-03", "place": "Sector 9"}
            }),
        )
        .await;
    assert_eq!(resp.status().as_u16(), 201);

    // The family files.
    let c = browser(&driver).await;
    login(&c, &app, "family").await;
    c.find(Locator::LinkText("Tracing requests")).await.unwrap().click().await.unwrap();
    c.wait().for_element(Locator::Id("file-request")).await.unwrap();
    for (id, value) in [
        ("enquirer_name", "Olha Hnatiuk"),
        ("relationship", "mother"),
        ("contact", "olha@example.org"),
        ("family_name", "Hnatiuk"),
        ("given_names", "Sasha"),
        ("birth_date", "12.04.1996"),
    ] {
        c.find(Locator::Id(id)).await.unwrap().send_keys(value).await.unwrap();
    }
    c.find(Locator::Id("consent")).await.unwrap().click().await.unwrap();
    shot(&c, "family-file-request").await;
    c.find(Locator::Css("#file-request button[type=submit]")).await.unwrap().click().await.unwrap();
    c.wait().for_element(Locator::Css("p.ok")).await.unwrap();
    let body = text(&c).await;
    assert!(body.contains("Your request was received") && body.contains("We are searching"), "{body}");
    assert!(!body.contains("Гнатюк"), "nothing from the registry before a confirmation");
    shot(&c, "family-requests-searching").await;
    // The forbidden thing: the staff search.
    c.goto(&app.url("/search")).await.unwrap();
    assert!(text(&c).await.contains("there is nothing here"));
    c.close().await.unwrap();

    // Background matching proposes the candidate.
    let t = std::time::Instant::now();
    let request = loop {
        let list: serde_json::Value = app.get("caseworker", "/api/v1/tracing-requests").await.json().await.unwrap();
        let found = list["items"]
            .as_array()
            .unwrap()
            .iter()
            .find(|r| r["status"] == "candidates" && r["sought"]["family_name"] == "Hnatiuk")
            .cloned();
        if let Some(r) = found {
            break r["id"].as_str().unwrap().to_owned();
        }
        assert!(t.elapsed() < std::time::Duration::from_secs(10), "no candidate: {list}");
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    };

    // The caseworker reviews and confirms.
    let c = browser(&driver).await;
    login(&c, &app, "caseworker").await;
    c.find(Locator::LinkText("Tracing requests")).await.unwrap().click().await.unwrap();
    c.wait().for_element(Locator::Css("table")).await.unwrap();
    shot(&c, "caseworker-desk-queue").await;
    c.goto(&app.url(&format!("/tracing/{request}"))).await.unwrap();
    c.wait().for_element(Locator::Css("article.candidate")).await.unwrap();
    let body = text(&c).await;
    assert!(body.contains("Гнатюк") && body.contains("(Gnatiuk Oleksandr)"), "Latin beside Cyrillic: {body}");
    assert!(body.contains("family name"), "the explanation: {body}");
    shot(&c, "caseworker-request-candidates").await;
    c.find(Locator::Css("form.decide input[value=status]")).await.unwrap().click().await.unwrap();
    c.find(Locator::XPath("//form[contains(@class,'decide')]//button[contains(., 'Confirm')]"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    c.wait().for_element(Locator::XPath("//strong[@id='status' and text()='confirmed']")).await.unwrap();
    shot(&c, "caseworker-confirmed").await;
    // The forbidden thing: the registry.
    c.goto(&app.url("/registry")).await.unwrap();
    assert!(text(&c).await.contains("there is nothing here"));
    c.close().await.unwrap();

    // The family reads the disclosed status: the status and date, not the place.
    let c = browser(&driver).await;
    login(&c, &app, "family").await;
    c.goto(&app.url(&format!("/tracing/{request}"))).await.unwrap();
    c.wait().for_element(Locator::Id("state")).await.unwrap();
    let state = c.find(Locator::Id("state")).await.unwrap().text().await.unwrap();
    assert!(state.contains("Captured") && state.contains("2026-05-03"), "{state}");
    assert!(!text(&c).await.contains("Sector"));
    shot(&c, "family-request-found").await;
    c.close().await.unwrap();

    // The mediator's staff search, in Latin, finds the Cyrillic record.
    let c = browser(&driver).await;
    login(&c, &app, "mediator").await;
    c.find(Locator::LinkText("Search the registry")).await.unwrap().click().await.unwrap();
    c.find(Locator::Id("family_name")).await.unwrap().send_keys("Hnatiuk").await.unwrap();
    c.find(Locator::Id("given_names")).await.unwrap().send_keys("Oleksandr").await.unwrap();
    c.find(Locator::Css("main form button[type=submit]")).await.unwrap().click().await.unwrap();
    c.wait().for_element(Locator::Css("ol.hits")).await.unwrap();
    assert!(text(&c).await.contains("Гнатюк"));
    shot(&c, "mediator-search").await;
    c.close().await.unwrap();
}
