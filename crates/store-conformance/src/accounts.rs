//! The account cases: each an async function over the registry store (to
//! set up the conflict whose parties officers belong to) and the
//! [`AccountStore`] of the same database. `tests/accounts.rs` runs them on
//! every backend.

use std::sync::Arc;

use homeward_domain::{Role, Username};
use homeward_store::{
    AccountStore, LoginFailures, NewApiToken, NewSession, NewUser, SecretHash, StoreError, TokenId, User,
    truncate_to_millis,
};
use time::{Duration, OffsetDateTime};

use crate::{DynStore, code, setup};

pub type DynAccounts = Arc<dyn AccountStore>;

fn name(s: &str) -> Username {
    Username::parse(s).expect("valid username")
}

fn now() -> OffsetDateTime {
    truncate_to_millis(OffsetDateTime::now_utc())
}

fn hash(seed: u8) -> SecretHash {
    SecretHash([seed; 32])
}

fn officer(party: &str) -> Role {
    Role::PartyOfficer { party: code(party) }
}

async fn add_user(accounts: &DynAccounts, username: &str, role: Role) -> User {
    accounts
        .create_user(NewUser {
            username: name(username),
            role,
            password_hash: format!("$argon2id$v=19$m=19456,t=2,p=1$fake-for-{username}"),
            created_at: now(),
        })
        .await
        .expect("create user")
}

pub async fn users_are_created_found_and_listed(store: DynStore, accounts: DynAccounts) {
    store.set_conflict(&setup()).await.unwrap();
    let before = now();
    let a = add_user(&accounts, "officer-a", officer("A")).await;
    let m = add_user(&accounts, "mediator", Role::Mediator).await;
    assert_eq!(a.role, officer("A"));
    assert!(!a.disabled);
    assert!(a.created_at >= before);
    let creds = accounts.user_credentials(&name("officer-a")).await.unwrap().expect("found");
    assert_eq!(creds.user, a);
    assert!(creds.password_hash.ends_with("fake-for-officer-a"));
    assert!(accounts.user_credentials(&name("nobody")).await.unwrap().is_none());
    assert_eq!(accounts.list_users().await.unwrap(), vec![m, a]);
}

pub async fn a_username_is_taken_once(store: DynStore, accounts: DynAccounts) {
    store.set_conflict(&setup()).await.unwrap();
    add_user(&accounts, "caseworker", Role::Caseworker { bureau: None }).await;
    let again =
        NewUser { username: name("Caseworker"), role: Role::Admin, password_hash: "x".into(), created_at: now() };
    let err = accounts.create_user(again.clone()).await.unwrap_err();
    assert!(matches!(err, StoreError::Refused(homeward_store::Refusal::UsernameTaken)), "{err}");
    assert_eq!(accounts.list_users().await.unwrap().len(), 1);

    // Two at once: exactly one wins.
    let (a, b) = {
        let (x, y) = (accounts.clone(), accounts.clone());
        let mut n1 = again.clone();
        n1.username = name("twin");
        let n2 = n1.clone();
        tokio::join!(
            tokio::spawn(async move { x.create_user(n1).await }),
            tokio::spawn(async move { y.create_user(n2).await })
        )
    };
    let (a, b) = (a.unwrap(), b.unwrap());
    assert!(a.is_ok() != b.is_ok(), "exactly one of two concurrent creations succeeds");
}

pub async fn a_party_officer_needs_a_known_party(store: DynStore, accounts: DynAccounts) {
    let new = |role| NewUser { username: name("officer"), role, password_hash: "x".into(), created_at: now() };
    let err = accounts.create_user(new(officer("A"))).await.unwrap_err();
    assert!(matches!(err, StoreError::NoConflict), "{err}");
    // Other roles need no conflict: an admin exists before the setup.
    accounts.create_user(NewUser { username: name("admin"), ..new(Role::Admin) }).await.unwrap();
    store.set_conflict(&setup()).await.unwrap();
    let err = accounts.create_user(new(officer("Z"))).await.unwrap_err();
    assert!(matches!(err, StoreError::UnknownParty { field: "party", .. }), "{err}");
    accounts.create_user(new(officer("B"))).await.unwrap();
}

pub async fn sessions_expire_idle_out_and_end(store: DynStore, accounts: DynAccounts) {
    store.set_conflict(&setup()).await.unwrap();
    let user = add_user(&accounts, "mediator", Role::Mediator).await;
    let t0 = now();
    let idle = Duration::minutes(30);
    accounts
        .create_session(NewSession {
            hash: hash(1),
            user: user.id,
            created_at: t0,
            expires_at: t0 + Duration::hours(8),
        })
        .await
        .unwrap();
    let s = accounts.session(&hash(1), t0 + Duration::minutes(1), idle).await.unwrap().expect("live");
    assert_eq!(s.user, user);
    assert_eq!((s.created_at, s.last_seen, s.expires_at), (t0, t0, t0 + Duration::hours(8)));
    assert!(accounts.session(&hash(2), t0, idle).await.unwrap().is_none(), "unknown secret");

    // Idle for longer than allowed: gone, unless touched in between.
    assert!(accounts.session(&hash(1), t0 + Duration::minutes(31), idle).await.unwrap().is_none());
    accounts.touch_session(&hash(1), t0 + Duration::minutes(20)).await.unwrap();
    accounts.touch_session(&hash(1), t0 + Duration::minutes(10)).await.unwrap();
    let s = accounts.session(&hash(1), t0 + Duration::minutes(31), idle).await.unwrap().expect("touched");
    assert_eq!(s.last_seen, t0 + Duration::minutes(20), "last_seen never goes back");

    // The absolute end holds whatever the activity.
    accounts.touch_session(&hash(1), t0 + Duration::hours(8)).await.unwrap();
    assert!(accounts.session(&hash(1), t0 + Duration::hours(8), idle).await.unwrap().is_none());

    // Logout.
    accounts
        .create_session(NewSession {
            hash: hash(3),
            user: user.id,
            created_at: t0,
            expires_at: t0 + Duration::hours(8),
        })
        .await
        .unwrap();
    accounts.delete_session(&hash(3)).await.unwrap();
    accounts.delete_session(&hash(3)).await.unwrap();
    assert!(accounts.session(&hash(3), t0, idle).await.unwrap().is_none());
}

pub async fn disabling_ends_sessions_and_tokens(store: DynStore, accounts: DynAccounts) {
    store.set_conflict(&setup()).await.unwrap();
    let user = add_user(&accounts, "officer-b", officer("B")).await;
    let other = add_user(&accounts, "officer-a", officer("A")).await;
    let t0 = now();
    let session =
        |h, u: &User| NewSession { hash: hash(h), user: u.id, created_at: t0, expires_at: t0 + Duration::hours(1) };
    accounts.create_session(session(1, &user)).await.unwrap();
    accounts.create_session(session(2, &other)).await.unwrap();
    accounts
        .create_token(NewApiToken {
            hash: hash(9),
            name: "sync".into(),
            user: user.id,
            scope: user.role.clone(),
            created_at: t0,
        })
        .await
        .unwrap();
    assert!(accounts.token(&hash(9)).await.unwrap().is_some());

    let disabled = accounts.disable_user(&name("officer-b")).await.unwrap();
    assert!(disabled.disabled);
    assert!(accounts.disable_user(&name("officer-b")).await.unwrap().disabled, "idempotent");
    assert!(matches!(accounts.disable_user(&name("nobody")).await, Err(StoreError::NotFound(_))));
    assert!(accounts.session(&hash(1), t0, Duration::hours(1)).await.unwrap().is_none());
    assert!(accounts.token(&hash(9)).await.unwrap().is_none());
    assert!(accounts.session(&hash(2), t0, Duration::hours(1)).await.unwrap().is_some(), "others keep theirs");
    let creds = accounts.user_credentials(&name("officer-b")).await.unwrap().expect("still found");
    assert!(creds.user.disabled);
}

pub async fn tokens_are_scoped_listed_and_revoked(store: DynStore, accounts: DynAccounts) {
    store.set_conflict(&setup()).await.unwrap();
    let user = add_user(&accounts, "officer-a", officer("A")).await;
    let t0 = now();
    let new =
        |h, scope| NewApiToken { hash: hash(h), name: format!("token {h}"), user: user.id, scope, created_at: t0 };
    let own = accounts.create_token(new(1, officer("A"))).await.unwrap();
    let audit = accounts.create_token(new(2, Role::Auditor)).await.unwrap();
    for wider in [Role::Mediator, officer("B"), Role::Admin] {
        let err = accounts.create_token(new(3, wider)).await.unwrap_err();
        assert!(matches!(err, StoreError::Refused(homeward_store::Refusal::TokenScope { .. })), "{err}");
    }
    assert_eq!((own.scope.clone(), own.revoked_at, own.created_at), (officer("A"), None, t0));
    assert_eq!(accounts.list_tokens(user.id).await.unwrap(), vec![own.clone(), audit.clone()]);

    let (found, owner) = accounts.token(&hash(2)).await.unwrap().expect("live");
    assert_eq!((found, owner), (audit.clone(), user.clone()));

    let revoked = accounts.revoke_token(own.id, t0 + Duration::seconds(5)).await.unwrap();
    assert_eq!(revoked.revoked_at, Some(t0 + Duration::seconds(5)));
    let again = accounts.revoke_token(own.id, t0 + Duration::seconds(9)).await.unwrap();
    assert_eq!(again.revoked_at, Some(t0 + Duration::seconds(5)), "the first revocation stands");
    assert!(accounts.token(&hash(1)).await.unwrap().is_none());
    assert!(accounts.token(&hash(2)).await.unwrap().is_some(), "the other token still works");
    let unknown = accounts.revoke_token(TokenId(uuid::Uuid::now_v7()), t0).await.unwrap_err();
    assert!(matches!(unknown, StoreError::NotFound(_)), "{unknown}");
    assert_eq!(accounts.list_tokens(user.id).await.unwrap().len(), 2, "revoked tokens stay listed");
}

/// A caseworker at a party's bureau keeps its bureau, in the account and in
/// the scope of its tokens; one at the mediator's desk has none; an unknown
/// bureau is refused like an unknown party.
pub async fn a_caseworker_may_belong_to_a_bureau(store: DynStore, accounts: DynAccounts) {
    store.set_conflict(&setup()).await.unwrap();
    let bureau = Role::Caseworker { bureau: Some(code("B")) };
    let desk_b = add_user(&accounts, "desk-b", bureau.clone()).await;
    let desk_m = add_user(&accounts, "desk-mediator", Role::Caseworker { bureau: None }).await;
    assert_eq!(desk_b.role, bureau);
    assert_eq!(accounts.user_credentials(&name("desk-b")).await.unwrap().expect("found").user.role, bureau);
    assert_eq!(
        accounts.user_credentials(&name("desk-mediator")).await.unwrap().expect("found").user.role,
        Role::Caseworker { bureau: None }
    );
    let token =
        NewApiToken { hash: hash(7), name: "desk".into(), user: desk_b.id, scope: bureau.clone(), created_at: now() };
    accounts.create_token(token).await.unwrap();
    let (found, owner) = accounts.token(&hash(7)).await.unwrap().expect("live");
    assert_eq!((found.scope, owner.id), (bureau, desk_b.id));
    // A token of the mediator's desk is no bureau's.
    let wider = NewApiToken {
        hash: hash(8),
        name: "wider".into(),
        user: desk_m.id,
        scope: Role::Caseworker { bureau: Some(code("A")) },
        created_at: now(),
    };
    assert!(matches!(
        accounts.create_token(wider).await.unwrap_err(),
        StoreError::Refused(homeward_store::Refusal::TokenScope { .. })
    ));
    let unknown = NewUser {
        username: name("desk-z"),
        role: Role::Caseworker { bureau: Some(code("Z")) },
        password_hash: "x".into(),
        created_at: now(),
    };
    let err = accounts.create_user(unknown).await.unwrap_err();
    assert!(matches!(err, StoreError::UnknownParty { field: "party", .. }), "{err}");
}

pub async fn login_failures_are_counted_per_key_and_forgotten(_store: DynStore, accounts: DynAccounts) {
    let t0 = now();
    let (account, address) = (hash(1), hash(2));
    assert_eq!(accounts.login_failures(&account, t0).await.unwrap(), LoginFailures::default());
    for i in 0..3 {
        let at = t0 + Duration::seconds(i);
        accounts.record_login_failure(&[account, address], at, at - Duration::minutes(15)).await.unwrap();
    }
    accounts.record_login_failure(&[address], t0 + Duration::seconds(3), t0).await.unwrap();
    let f = accounts.login_failures(&account, t0).await.unwrap();
    assert_eq!(f, LoginFailures { count: 3, oldest: Some(t0) });
    assert_eq!(accounts.login_failures(&address, t0).await.unwrap().count, 4);
    // Outside the window.
    let f = accounts.login_failures(&account, t0 + Duration::seconds(1)).await.unwrap();
    assert_eq!(f, LoginFailures { count: 2, oldest: Some(t0 + Duration::seconds(1)) });

    // A later failure forgets what is older than its window.
    let later = t0 + Duration::hours(1);
    accounts.record_login_failure(&[account], later, later - Duration::minutes(15)).await.unwrap();
    assert_eq!(accounts.login_failures(&account, t0).await.unwrap(), LoginFailures { count: 1, oldest: Some(later) });

    accounts.clear_login_failures(&account).await.unwrap();
    assert_eq!(accounts.login_failures(&account, t0).await.unwrap().count, 0);
    assert_eq!(accounts.login_failures(&address, t0).await.unwrap().count, 4, "other keys are kept");
}

/// Every account case, by name, for the backend test macro.
#[macro_export]
macro_rules! for_each_account_case {
    ($m:ident) => {
        $m!(
            users_are_created_found_and_listed,
            a_username_is_taken_once,
            a_party_officer_needs_a_known_party,
            sessions_expire_idle_out_and_end,
            disabling_ends_sessions_and_tokens,
            tokens_are_scoped_listed_and_revoked,
            a_caseworker_may_belong_to_a_bureau,
            login_failures_are_counted_per_key_and_forgotten
        );
    };
}
