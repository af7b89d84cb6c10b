//! Pagination against the emulator: one `cursor` keyword whatever the wire
//! name, page by page or item by item, and lists paged by number walked to
//! their last page.

mod common;

use miosa::api::{AuditLogListParams, SandboxesCreateParams, UsageSessionsParams};

use common::{env, log_for};

#[tokio::test]
async fn a_page_numbered_list_of_three_pages_is_walked_to_the_end() {
    let env = env();
    for i in 0..3 {
        env.client
            .sandboxes()
            .create(SandboxesCreateParams::default().name(format!("billed-{i}")))
            .await
            .expect("created");
    }
    let usage = env.client.usage();
    let everything: Vec<String> = usage
        .sessions_iter(UsageSessionsParams::default())
        .expect("pager")
        .collect_all()
        .await
        .expect("every session")
        .into_iter()
        .map(|s| s.id)
        .collect();
    assert!(everything.len() >= 3, "{everything:?}");
    let per_page = i64::try_from(everything.len().div_ceil(3)).expect("small");

    let first = usage
        .sessions(UsageSessionsParams::default().per_page(per_page))
        .await
        .expect("page 1");
    assert_eq!(first.next_cursor.as_deref(), Some("2"));
    let second = usage
        .sessions(
            UsageSessionsParams::default()
                .per_page(per_page)
                .cursor("2"),
        )
        .await
        .expect("page 2 through the cursor keyword");

    let before = log_for(&env, "/usage/sessions").await.len();
    let pager = usage
        .sessions_iter(UsageSessionsParams::default().per_page(per_page))
        .expect("pager");
    let mut pages = Vec::new();
    while let Some(page) = pager.next_page().await.expect("a page") {
        pages.push(page);
        assert!(pages.len() <= 3, "no page after the last");
    }
    assert_eq!(pages.len(), 3);
    assert_eq!(pages[1].items, second.items);
    let walked: Vec<String> = pages
        .into_iter()
        .flat_map(|p| p.items)
        .map(|s| s.id)
        .collect();
    assert_eq!(walked, everything, "every page, in order, nothing twice");
    let log = log_for(&env, "/usage/sessions").await;
    let sent: Vec<_> = log[before..]
        .iter()
        .map(|e| e["query"].get("page").cloned())
        .collect();
    assert_eq!(
        sent,
        vec![None, Some("2".into()), Some("3".into())],
        "{log:?}"
    );
}

#[tokio::test]
async fn the_cursor_keyword_goes_out_under_the_wire_name() {
    let env = env();
    let audit = env.admin.audit_log();
    let first = audit
        .list(AuditLogListParams::default().limit(2))
        .await
        .expect("page 1");
    let cursor = first
        .next_cursor
        .clone()
        .expect("the fixture log spans pages");
    let second = audit
        .list(
            AuditLogListParams::default()
                .limit(2)
                .cursor(cursor.clone()),
        )
        .await
        .expect("page 2");
    assert!(second.items.iter().all(|e| !first.items.contains(e)));
    let log = log_for(&env, "/audit-log").await;
    let last = log.last().expect("recorded");
    assert_eq!(last["query"]["after"], cursor.as_str());
    assert!(last["query"].get("cursor").is_none(), "{last}");

    // A pager started at that cursor walks the rest, and `close` ends it.
    let rest = audit
        .iter(AuditLogListParams::default().limit(2).cursor(cursor))
        .expect("pager");
    let page = rest.next_page().await.expect("page").expect("not the end");
    assert_eq!(page.items, second.items);
    rest.close();
    assert!(rest.next_page().await.expect("closed").is_none());
}
