//! The access-log cases: entries are appended, read newest first, paged and
//! filtered by person, with the reader's username joined in.

use std::sync::Arc;

use homeward_domain::{PersonId, Role, Username};
use homeward_store::{AccessEntry, AccessLogStore, AccessQuery, AccountStore, NewUser, truncate_to_millis};
use time::OffsetDateTime;

use crate::{DynStore, setup};

pub type DynAccess = Arc<dyn AccessLogStore>;

/// Runs `$m!(case, ...)` with every access case, for the per-backend test file.
#[macro_export]
macro_rules! for_each_access_case {
    ($m:ident) => {
        $m!(accesses_are_appended_and_read_newest_first);
    };
}

pub async fn accesses_are_appended_and_read_newest_first(
    store: DynStore,
    accounts: Arc<dyn AccountStore>,
    access: DynAccess,
) {
    store.set_conflict(&setup()).await.unwrap();
    let now = truncate_to_millis(OffsetDateTime::now_utc());
    let user = accounts
        .create_user(NewUser {
            username: Username::parse("reader").unwrap(),
            role: Role::Mediator,
            password_hash: "$argon2id$fake".into(),
            created_at: now,
        })
        .await
        .unwrap();
    let (p1, p2) = (PersonId::new(), PersonId::new());
    let entry = |person, endpoint: &str| AccessEntry {
        at: now,
        user: user.id,
        role: "mediator".into(),
        person,
        endpoint: endpoint.into(),
        outcome: homeward_store::AccessOutcome::Shown,
    };
    access.record_access(&[]).await.unwrap();
    access.record_access(&[entry(p1, "GET /api/v1/persons/{id}")]).await.unwrap();
    access.record_access(&[entry(p1, "GET /api/v1/persons"), entry(p2, "GET /api/v1/persons")]).await.unwrap();

    let all = access.access_log(&AccessQuery { limit: 10, ..Default::default() }).await.unwrap();
    assert_eq!(all.len(), 3);
    assert!(all[0].seq > all[1].seq && all[1].seq > all[2].seq, "newest first");
    assert_eq!(all[2].person, p1);
    assert_eq!(all[2].endpoint, "GET /api/v1/persons/{id}");
    assert_eq!(all[2].at, now);
    assert_eq!(all[2].user, user.id);
    assert_eq!(all[2].username.as_deref(), Some("reader"));

    let older = access.access_log(&AccessQuery { before: Some(all[0].seq), limit: 1, person: None }).await.unwrap();
    assert_eq!(older.len(), 1);
    assert_eq!(older[0].seq, all[1].seq);

    let of_p1 = access.access_log(&AccessQuery { person: Some(p1), limit: 10, before: None }).await.unwrap();
    assert_eq!(of_p1.len(), 2);
    assert!(of_p1.iter().all(|r| r.person == p1));
}
