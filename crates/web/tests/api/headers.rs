//! Headers every answer must carry, checked on every route over real HTTP.

use reqwest::Method;

use crate::support::{ROLES, TestApp};

/// An id that names nothing.
const UNKNOWN: &str = "0190c6e2-7d1a-7cc0-9a4e-2f1c3b5d6e7f";

/// Every `(method, path)` the served OpenAPI document lists, each path
/// parameter replaced by a real id of its kind and, again, by an unknown one
/// (a 404 is about someone too: it says what a role may not see).
async fn documented_requests(app: &TestApp) -> Vec<(Method, String)> {
    let doc: serde_json::Value = app.get("anonymous", "/api/v1/openapi.json").await.json().await.unwrap();
    let paths = doc["paths"].as_object().expect("the document has paths");
    assert!(paths.len() >= 10, "the walk covers the document: {}", paths.len());
    let mut out = Vec::new();
    for (path, ops) in paths {
        let real = if path.starts_with("/api/v1/persons/") {
            app.persons.a_own.to_string()
        } else if path.starts_with("/api/v1/tracing-requests/") {
            app.persons.request.to_string()
        } else {
            UNKNOWN.to_owned()
        };
        for method in ops.as_object().unwrap().keys() {
            let method: Method = method.to_uppercase().parse().unwrap();
            for id in [real.as_str(), UNKNOWN] {
                out.push((method.clone(), path.replace("{id}", id)));
            }
        }
    }
    out.sort_by(|a, b| (a.1.as_str(), a.0.as_str()).cmp(&(b.1.as_str(), b.0.as_str())));
    out.dedup();
    out
}

/// Routes the document does not describe: the account API, the pages, a
/// path that does not exist.
fn other_requests(app: &TestApp) -> Vec<(Method, String)> {
    let p = app.persons;
    [
        ("GET", "/api/v1/me".to_owned()),
        ("GET", "/api/v1/users".to_owned()),
        ("GET", "/api/v1/stats".to_owned()),
        ("GET", "/home".to_owned()),
        ("GET", "/login".to_owned()),
        ("GET", "/registry".to_owned()),
        ("POST", "/registry".to_owned()),
        ("GET", format!("/registry/{}", p.a_own)),
        ("GET", format!("/registry/{UNKNOWN}")),
        ("GET", "/import".to_owned()),
        ("GET", format!("/import/{UNKNOWN}")),
        ("GET", format!("/import/{UNKNOWN}/progress")),
        ("GET", "/tracing".to_owned()),
        ("POST", "/tracing".to_owned()),
        ("GET", format!("/tracing/{}", p.request)),
        ("GET", format!("/tracing/{UNKNOWN}")),
        ("GET", "/search".to_owned()),
        ("POST", "/search".to_owned()),
        ("GET", "/public/log".to_owned()),
        ("GET", "/no/such/page".to_owned()),
    ]
    .into_iter()
    .map(|(m, p)| (m.parse().unwrap(), p))
    .collect()
}

/// Finding 1 of the review (issue 20): listings, the access log, the user
/// list and `/api/v1/me` answered without `Cache-Control`, so a shared proxy
/// or the browser's disk could keep them. Every answer to every role, on
/// every documented route and every page, success or error, is `no-store`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_answer_on_every_route_is_no_store() {
    let app = TestApp::start().await;
    let mut requests = documented_requests(&app).await;
    requests.extend(other_requests(&app));
    let mut failures = Vec::new();
    let mut n = 0;
    for role in ROLES {
        for (method, path) in &requests {
            let mut req = app.request(role, method.clone(), path).header("accept", "text/html");
            if *method == Method::POST {
                req = req.json(&serde_json::json!({}));
            }
            let resp = req.send().await.unwrap();
            n += 1;
            let status = resp.status().as_u16();
            let cache = resp.headers().get("cache-control").map(|v| v.to_str().unwrap().to_owned());
            if !cache.as_deref().is_some_and(|c| c.split(',').any(|d| d.trim() == "no-store")) {
                failures.push(format!("{role:>10} {method} {path} -> {status}: cache-control {cache:?}"));
            }
        }
    }
    assert!(n > 300, "{n} requests");
    assert!(failures.is_empty(), "{} of {n} answers may be cached:\n{}", failures.len(), failures.join("\n"));

    // What is public and the same for everyone keeps its own caching.
    let css = app.get("officer-a", "/static/homeward.css").await;
    assert_eq!(css.headers()["cache-control"], "public, max-age=3600");
}

/// Finding 10f of the review (issue 20): with `hsts` on, every answer on
/// every route carries `Strict-Transport-Security`; off (the default), none.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hsts_is_on_every_answer_when_set_and_on_none_when_not() {
    for on in [false, true] {
        let app = TestApp::start_with(crate::support::Options { hsts: on, ..Default::default() }).await;
        let mut requests = documented_requests(&app).await;
        requests.extend(other_requests(&app));
        requests.push((Method::GET, "/static/homeward.css".into()));
        requests.push((Method::GET, "/healthz".into()));
        for role in ["mediator", "family", "anonymous"] {
            for (method, path) in &requests {
                let resp = app.request(role, method.clone(), path).send().await.unwrap();
                let hsts = resp.headers().get("strict-transport-security").map(|v| v.to_str().unwrap().to_owned());
                let want = on.then(|| "max-age=31536000".to_owned());
                assert_eq!(hsts, want, "hsts {on}: {role} {method} {path} -> {}", resp.status());
            }
        }
    }
}
