//! Bad input answers a 4xx problem, never a 500, and stores nothing.

use reqwest::Method;

use crate::support::{TestApp, register_body};

async fn problem(resp: reqwest::Response) -> (u16, serde_json::Value) {
    let status = resp.status().as_u16();
    assert_eq!(resp.headers().get("content-type").unwrap(), "application/problem+json");
    (status, resp.json().await.unwrap())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_bodies_are_4xx_problems_and_store_nothing() {
    let app = TestApp::start().await;
    let before = app.person_count().await;
    // `Connection: close`: the server answers 413 without reading the body and
    // closes; a pooled connection would fail the next request under load.
    let post = |body: Vec<u8>, ct: &'static str| {
        app.request("officer-a", Method::POST, "/api/v1/persons")
            .header("content-type", ct)
            .header("connection", "close")
            .body(body)
            .send()
    };
    let cases: Vec<(&str, Vec<u8>, &str, u16)> = vec![
        ("malformed JSON", b"{\"record_id\": ".to_vec(), "application/json", 400),
        ("invalid UTF-8", b"{\"record_id\": \"\xff\xfe\"}".to_vec(), "application/json", 400),
        ("not JSON at all", b"\x00\x01\x02".to_vec(), "application/json", 400),
        (
            "wrong type",
            br#"{"record_id": 5, "identity": {}, "status": {"status": "held"}}"#.to_vec(),
            "application/json",
            422,
        ),
        (
            "unknown field",
            serde_json::to_vec(&{
                let mut b = register_body("X-1", "B");
                b["identity"]["nickname"] = "Sasha".into();
                b
            })
            .unwrap(),
            "application/json",
            422,
        ),
        ("missing fields", b"{}".to_vec(), "application/json", 422),
        ("form, not JSON", b"record_id=1".to_vec(), "application/x-www-form-urlencoded", 415),
        ("oversized", vec![b' '; 200 * 1024], "application/json", 413),
    ];
    for (what, body, ct, want) in cases {
        let (status, body) = problem(post(body, ct).await.unwrap()).await;
        assert_eq!(status, want, "{what}: {body}");
        let text = body.to_string();
        assert!(!text.contains("Sasha") && !text.contains("nickname"), "{what} echoes the request: {text}");
    }

    // Invalid fields: every one named, none quoted.
    let mut bad = register_body("X-2", "B");
    bad["identity"]["family_name"] = "".into();
    bad["identity"]["birth_date"] = "1998-13-45".into();
    bad["identity"]["category"] = "pirate".into();
    bad["status"]["status"] = "home".into();
    let (status, body) = problem(app.post_json("officer-a", "/api/v1/persons", &bad).await).await;
    assert_eq!(status, 422, "{body}");
    let fields: Vec<&str> = body["errors"].as_array().unwrap().iter().map(|e| e["field"].as_str().unwrap()).collect();
    assert_eq!(fields, vec!["family_name", "birth_date", "category", "status.status"]);
    assert!(!body.to_string().contains("pirate"));

    // A first status a record cannot start with: 422 with the reason.
    let mut bad = register_body("X-3", "B");
    bad["status"]["status"] = "repatriated".into();
    let (status, body) = problem(app.post_json("officer-a", "/api/v1/persons", &bad).await).await;
    assert_eq!(status, 422);
    assert!(body["detail"].as_str().unwrap().contains("must start as one of"), "{body}");

    // A party that is not in the conflict.
    let (status, body) = problem(app.post_json("officer-a", "/api/v1/persons", &register_body("X-4", "Z")).await).await;
    assert_eq!(status, 422, "{body}");

    assert_eq!(app.person_count().await, before, "nothing stored");

    // The same record id twice: the second is a conflict.
    assert_eq!(app.post_json("officer-a", "/api/v1/persons", &register_body("X-5", "B")).await.status(), 201);
    let (status, _) = problem(app.post_json("officer-a", "/api/v1/persons", &register_body("X-5", "B")).await).await;
    assert_eq!(status, 409);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_ids_queries_and_transitions_are_4xx_problems() {
    let app = TestApp::start().await;
    for path in [
        "/api/v1/persons/not-a-uuid",
        "/api/v1/persons/%FF",
        "/api/v1/persons?limit=0",
        "/api/v1/persons?limit=x",
        "/api/v1/persons?status=home",
        "/api/v1/persons?after=1",
        "/api/v1/persons?power=%FF",
        "/api/v1/persons?bogus=1",
    ] {
        let (status, _) = problem(app.get("mediator", path).await).await;
        assert_eq!(status, 400, "{path}");
    }
    let (status, _) = problem(app.get("mediator", "/api/v1/access-log?person=x").await).await;
    assert_eq!(status, 400);

    // An illegal transition: 422 with the reason, and the timeline unchanged.
    let id = app.persons.a_own;
    let path = format!("/api/v1/persons/{id}/status");
    let (status, body) =
        problem(app.post_json("officer-a", &path, &serde_json::json!({"status": "handed_over"})).await).await;
    assert_eq!(status, 422);
    assert!(body["detail"].as_str().unwrap().contains("exchange list"), "{body}");
    let (status, _) = problem(app.post_json("officer-a", &path, &serde_json::json!({"status": 3})).await).await;
    assert_eq!(status, 422);
    let (status, _) = problem(
        app.post_json("officer-a", "/api/v1/persons/nope/status", &serde_json::json!({"status": "held"})).await,
    )
    .await;
    assert_eq!(status, 400);
    let record: serde_json::Value = app.get("officer-a", &format!("/api/v1/persons/{id}")).await.json().await.unwrap();
    assert_eq!(record["timeline"].as_array().unwrap().len(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn imports_report_rejections_by_line_and_refuse_other_sources() {
    let app = TestApp::start().await;
    let before = app.person_count().await;
    let csv = |body: Vec<u8>| {
        app.request("officer-a", Method::POST, "/api/v1/imports/persons")
            .header("content-type", "text/csv")
            .body(body)
            .send()
    };
    let file = "record_id,family_name,given_names,power,category,status,source\n\
                R-1,Ткаченко,Петро,A,military,missing,\n\
                R-2,,Петро,A,military,missing,\n\
                R-3,Ткаченко,Петро,A,military,missing,B\n";
    let (status, body) = problem(csv(file.as_bytes().to_vec()).await.unwrap()).await;
    assert_eq!(status, 422, "{body}");
    let report = &body["report"];
    assert_eq!(report["committed"], false);
    let rejections: Vec<(u64, &str)> = report["rejections"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| (r["line"].as_u64().unwrap(), r["field"].as_str().unwrap()))
        .collect();
    assert_eq!(rejections, vec![(3, "family_name"), (4, "source")]);
    assert!(!body.to_string().contains("Ткаченко"));

    let mut invalid = b"record_id,family_name,given_names,power,category\nR-1,".to_vec();
    invalid.extend_from_slice(b"\xff\xfe,x,A,military\n");
    let (status, body) = problem(csv(invalid).await.unwrap()).await;
    assert_eq!(status, 422, "{body}");

    let huge = vec![b'a'; homeward_web::v1::imports::MAX_CSV_BODY + 1];
    let (status, _) = problem(csv(huge).await.unwrap()).await;
    assert_eq!(status, 413);
    let resp = app
        .request("officer-a", Method::POST, "/api/v1/imports/persons")
        .header("content-type", "application/json")
        .body("{}")
        .send()
        .await
        .unwrap();
    assert_eq!(problem(resp).await.0, 415);
    assert_eq!(app.person_count().await, before, "nothing stored");

    let ok = "record_id,family_name,given_names,power,category,status\nR-9,Ткаченко,Петро,B,military,held\n";
    let resp = csv(ok.as_bytes().to_vec()).await.unwrap();
    assert_eq!(resp.status(), 200);
    let report: serde_json::Value = resp.json().await.unwrap();
    assert_eq!((report["created"].as_u64(), report["committed"].as_bool()), (Some(1), Some(true)));
    assert_eq!(app.person_count().await, before + 1);
}

/// Found by schemathesis: the log's proof endpoints answered problems without
/// `type`, a member the OpenAPI document requires.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn log_proof_problems_have_the_documented_shape() {
    let app = TestApp::start().await;
    for path in [
        "/api/v1/log/proof/inclusion?index=9223372036854775808",
        "/api/v1/log/proof/consistency?old=9223372036854775808",
    ] {
        let (status, body) = problem(app.get("auditor", path).await).await;
        assert_eq!(status, 400, "{path}");
        for member in ["type", "title", "status", "detail"] {
            assert!(body.get(member).is_some(), "{path}: no {member} in {body}");
        }
    }
}

/// Finding 10a of the review (issue 20): an enquirer name with a NUL was
/// stored. Every free-text field of every input follows the person fields'
/// rule (`homeward_domain::text`): a control character is refused, naming
/// the field, and nothing is stored.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn control_characters_in_any_text_field_are_refused_by_name() {
    let auth = homeward_web::AuthSettings { family_searches_per_hour: 1000, ..Default::default() };
    let app = crate::support::TestApp::start_with(crate::support::Options { auth, ..Default::default() }).await;
    let requests_before =
        homeward_store::TracingStore::tracing_requests(app.store.as_ref(), &Default::default()).await.unwrap().len();
    let good = serde_json::json!({
        "enquirer_name": "Ганна Мельник", "relationship": "mother", "contact": "+380 67 765 43 21", "consent": true,
        "sought": {"family_name": "Мельник", "given_names": "Іван", "patronymic": "Петрович",
                   "mother_maiden_name": "Коваль", "place_of_birth": "Полтава", "service_number": "AB-1", "unit": "1st"}
    });
    let text_fields = [
        "enquirer_name",
        "relationship",
        "contact",
        "sought.family_name",
        "sought.given_names",
        "sought.patronymic",
        "sought.mother_maiden_name",
        "sought.place_of_birth",
        "sought.service_number",
        "sought.unit",
    ];
    for field in text_fields {
        for bad in ["Ган\u{0}на", "Ганна\u{1b}[2J", "Ганна\rМельник"] {
            let mut body = good.clone();
            let slot = match field.split_once('.') {
                Some((_, inner)) => &mut body["sought"][inner],
                None => &mut body[field],
            };
            *slot = bad.into();
            let (status, answer) = problem(app.post_json("family", "/api/v1/tracing-requests", &body).await).await;
            assert_eq!(status, 422, "{field} {bad:?}: {answer}");
            let named: Vec<&str> =
                answer["errors"].as_array().unwrap().iter().map(|e| e["field"].as_str().unwrap()).collect();
            assert_eq!(named, vec![field], "{answer}");
            assert!(!answer.to_string().contains("Ган"), "the value is not quoted: {answer}");
        }
    }
    // The form on the page follows the same rule.
    let resp = app
        .request("family", Method::POST, "/tracing")
        .header("content-type", "application/x-www-form-urlencoded")
        .body("enquirer_name=%D0%93%D0%B0%00&relationship=mother&contact=x&family_name=Melnyk&consent=yes")
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 422);
    assert!(resp.text().await.unwrap().contains("enquirer_name: contains control characters"));
    let requests_after =
        homeward_store::TracingStore::tracing_requests(app.store.as_ref(), &Default::default()).await.unwrap().len();
    assert_eq!(requests_after, requests_before, "nothing stored");
    // And the control is no new rule for the good body: it is filed.
    assert_eq!(app.post_json("family", "/api/v1/tracing-requests", &good).await.status(), 202);

    // A status event's place and details, and a search, by the same rule.
    let path = format!("/api/v1/persons/{}/status", app.persons.a_own);
    for (field, body) in [
        ("place", serde_json::json!({"status": "held", "place": "Camp\u{0}3"})),
        ("details", serde_json::json!({"status": "held", "details": "ok\u{7}"})),
    ] {
        let (status, answer) = problem(app.post_json("officer-a", &path, &body).await).await;
        assert_eq!(status, 422, "{answer}");
        assert_eq!(answer["errors"][0]["field"], field, "{answer}");
    }
    let (status, answer) = problem(
        app.post_json("mediator", "/api/v1/search", &serde_json::json!({"family_name": "Ко\u{0}валенко"})).await,
    )
    .await;
    assert_eq!(status, 422, "{answer}");
    assert_eq!(answer["errors"][0]["field"], "family_name", "{answer}");
    // An import's status place: the row is rejected by line and field.
    let csv = "record_id,family_name,given_names,power,category,status,status_place\n\
               C-1,Ткаченко,Петро,A,military,held,Camp\u{1}3\n";
    let resp = app
        .request("officer-a", Method::POST, "/api/v1/imports/persons")
        .header("content-type", "text/csv")
        .body(csv)
        .send()
        .await
        .unwrap();
    let (status, body) = problem(resp).await;
    assert_eq!(status, 422, "{body}");
    assert_eq!(body["report"]["rejections"][0]["field"], "status_place", "{body}");
    assert_eq!(app.person_count().await, 3, "nothing stored");
}
