//! No personal data in any URL (review issue 20, finding 2): every page of
//! every role, fetched over HTTP with demo persons in the registry and a
//! name typed into each search, is read for its forms and links.

use reqwest::Method;

use crate::imports::demo_csv;
use crate::support::{ROLES, TestApp};

/// The value of `name="..."` in one tag (the templates quote with `"`).
fn attr(tag: &str, name: &str) -> Option<String> {
    let key = format!(" {name}=\"");
    let start = tag.find(&key)? + key.len();
    let len = tag[start..].find('"')?;
    Some(tag[start..start + len].replace("&amp;", "&"))
}

/// Every tag `<name ...>` in `html`, as its text up to the `>`.
fn tags<'a>(html: &'a str, name: &str) -> Vec<&'a str> {
    let open = format!("<{name}");
    html.match_indices(&open)
        .filter(|(i, _)| html[i + open.len()..].starts_with([' ', '>', '\n']))
        .map(|(i, _)| &html[i..i + html[i..].find('>').unwrap_or(html.len() - i) + 1])
        .collect()
}

/// Each `<form>` with its body.
fn forms(html: &str) -> Vec<(&str, &str)> {
    let mut out = Vec::new();
    let mut rest = html;
    while let Some(i) = rest.find("<form") {
        let open_end = i + rest[i..].find('>').unwrap() + 1;
        let close = open_end + rest[open_end..].find("</form>").expect("every form is closed");
        out.push((&rest[i..open_end], &rest[open_end..close]));
        rest = &rest[close..];
    }
    out
}

fn percent_decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'%' if i + 2 < bytes.len() => {
                match std::str::from_utf8(&bytes[i + 1..i + 3]).ok().and_then(|h| u8::from_str_radix(h, 16).ok()) {
                    Some(b) => out.push(b),
                    None => out.extend_from_slice(&bytes[i..i + 3]),
                }
                i += 3;
                continue;
            }
            b'+' => out.push(b' '),
            b => out.push(b),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// Every name of the demo persons (family, given, patronymic), as written
/// and in two Latin transliterations, lower-cased; with the test's own.
fn demo_names(csv: &[u8]) -> Vec<String> {
    use homeward_matching::{Scheme, transliterate};
    let text = std::str::from_utf8(csv).unwrap();
    let mut names = vec!["коваленко".to_owned(), "шевченко".into(), "бондаренко".into(), "олександр".into()];
    // The demo quotes only later fields: the first columns split on commas.
    for line in text.lines().skip(1) {
        names.extend(line.split(',').skip(1).take(3).flat_map(|f| f.split(' ')).map(str::to_owned));
    }
    let mut all = Vec::new();
    for n in names.into_iter().filter(|n| n.chars().count() >= 4) {
        for form in [n.clone(), transliterate(&n, Scheme::Ukrainian2010), transliterate(&n, Scheme::Icao9303)] {
            all.push(form.to_lowercase());
        }
    }
    all.sort();
    all.dedup();
    all
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_form_sends_text_by_get_and_no_link_carries_a_name() {
    let app = TestApp::start().await;
    // 120 demo persons registered by A: A's registry runs to a second page.
    let csv = demo_csv(120);
    let names = demo_names(&csv);
    let resp = app
        .request("officer-a", Method::POST, "/api/v1/imports/persons")
        .header("content-type", "text/csv")
        .body(csv.clone())
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200, "{}", resp.text().await.unwrap());
    let typed = demo_names(&demo_csv(1)).into_iter().find(|n| n.chars().any(|c| c.is_alphabetic())).unwrap();
    let job: serde_json::Value = app
        .request("officer-a", Method::POST, "/api/v1/imports/persons")
        .header("content-type", "text/csv")
        .header("prefer", "respond-async")
        .body(csv)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let job = job["id"].as_str().unwrap().to_owned();
    let p = app.persons;
    let form = "application/x-www-form-urlencoded";
    let encoded: String = typed.bytes().map(|b| format!("%{b:02X}")).collect();
    let pages: Vec<(Method, String, Option<String>)> = vec![
        (Method::GET, "/home".into(), None),
        (Method::GET, "/login".into(), None),
        (Method::GET, "/registry".into(), None),
        (Method::POST, "/registry".into(), Some(format!("q={encoded}"))),
        (Method::POST, "/registry".into(), Some("q=&status=&power=&source=".into())),
        (Method::POST, "/registry".into(), Some(format!("q=&status=held&power=&source=&after={}", p.a_own))),
        (Method::GET, format!("/registry/{}", p.held_by_a), None),
        (Method::GET, "/import".into(), None),
        (Method::GET, format!("/import/{job}"), None),
        (Method::GET, "/tracing".into(), None),
        (Method::GET, format!("/tracing/{}", p.request), None),
        (Method::GET, "/search".into(), None),
        (Method::POST, "/search".into(), Some(format!("family_name={encoded}"))),
        (Method::GET, "/public/log".into(), None),
    ];
    let (mut failures, mut seen_forms, mut seen_links, mut next_pages) = (Vec::new(), 0, 0, 0);
    for role in ROLES {
        for (method, path, body) in &pages {
            let mut req = app.request(role, method.clone(), path).header("accept", "text/html");
            if let Some(b) = body {
                req = req.header("content-type", form).body(b.clone());
            }
            let resp = req.send().await.unwrap();
            let what = format!("{role} {method} {path}");
            let referrer = resp.headers().get("referrer-policy").map(|v| v.to_str().unwrap().to_owned());
            if !matches!(referrer.as_deref(), Some("same-origin" | "no-referrer")) {
                failures.push(format!("{what}: Referrer-Policy {referrer:?}"));
            }
            if let Some(location) = resp.headers().get("location") {
                let location = location.to_str().unwrap().to_lowercase();
                if names.iter().any(|n| percent_decode(&location).to_lowercase().contains(n.as_str())) {
                    failures.push(format!("{what}: a name in the redirect {location}"));
                }
            }
            let html = resp.text().await.unwrap();
            for (open, inner) in forms(&html) {
                seen_forms += 1;
                let method = attr(open, "method").unwrap_or_else(|| "get".into()).to_lowercase();
                if attr(open, "hx-get").is_some() {
                    failures.push(format!("{what}: a form that htmx sends by GET: {open}"));
                }
                if method != "post" {
                    let fields: Vec<&str> = tags(inner, "input")
                        .into_iter()
                        .filter(|t| {
                            !matches!(attr(t, "type").as_deref(), Some("submit" | "button" | "reset" | "image"))
                        })
                        .chain(tags(inner, "textarea"))
                        .chain(tags(inner, "select"))
                        .collect();
                    if !fields.is_empty() {
                        failures.push(format!("{what}: a {method} form with fields {fields:?}: {open}"));
                    }
                }
                if attr(open, "class").as_deref() == Some("next") {
                    next_pages += 1;
                }
            }
            for tag in tags(&html, "a").into_iter().chain(tags(&html, "link")) {
                let Some(href) = attr(tag, "href") else { continue };
                seen_links += 1;
                let Some((_, query)) = href.split_once('?') else { continue };
                let query = percent_decode(query).to_lowercase();
                if let Some(n) = names.iter().find(|n| query.contains(n.as_str())) {
                    failures.push(format!("{what}: the link {href} carries the name {n}"));
                }
            }
            for tag in tags(&html, "section").into_iter().chain(tags(&html, "div")) {
                if let Some(url) = attr(tag, "hx-get").filter(|u| u.contains('?')) {
                    failures.push(format!("{what}: htmx fetches {url}"));
                }
            }
        }
    }
    assert!(failures.is_empty(), "{} problems:\n{}", failures.len(), failures.join("\n"));
    assert!(seen_forms > 50 && seen_links > 100, "the walk read pages: {seen_forms} forms, {seen_links} links");
    assert!(next_pages >= 2, "the registry's next page was offered ({next_pages})");
}

#[test]
fn the_readers_find_what_they_look_for() {
    let html = r#"<form method="get" action="/x" class="a"><input id="q" name="q"><select name="s"></select></form>
        <form method="post" action="/y"><input type="hidden" name="after" value="1"><button>ok</button></form>
        <a href="/registry?q=%D0%BA%D0%BE%D0%B2%D0%B0%D0%BB%D0%B5%D0%BD%D0%BA%D0%BE&amp;x=1">n</a>"#;
    let f = forms(html);
    assert_eq!(f.len(), 2);
    assert_eq!(attr(f[0].0, "method").as_deref(), Some("get"));
    assert_eq!(tags(f[0].1, "input").len(), 1);
    assert_eq!(tags(f[0].1, "select").len(), 1);
    assert_eq!(attr(tags(f[1].1, "input")[0], "type").as_deref(), Some("hidden"));
    let href = attr(tags(html, "a")[0], "href").unwrap();
    assert_eq!(percent_decode(href.split_once('?').unwrap().1), "q=коваленко&x=1");
}
