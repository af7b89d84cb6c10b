//! `Page::next_page`: a page a list call returned fetches the page after it,
//! for cursor lists and lists paged by number, until the last says there is none.

mod common;

use miosa::api::{
    SandboxesCreateParams, UsageSessionsParams, WebhooksCreateParams, WebhooksListParams,
};
use miosa::{ErrorKind, Page};

use common::{env, log_for};

/// Walks from `first` with `next_page` and returns every page, bounded.
async fn walk<T: serde::de::DeserializeOwned + Clone>(first: Page<T>) -> Vec<Page<T>> {
    let mut pages = vec![first];
    while let Some(next) = pages
        .last()
        .expect("a page")
        .next_page()
        .await
        .expect("next page")
    {
        pages.push(next);
        assert!(pages.len() <= 10, "the walk does not end");
    }
    pages
}

#[tokio::test]
async fn a_cursor_page_fetches_the_next_until_the_last() {
    let env = env();
    let webhooks = env.client.webhooks();
    for i in 0..7 {
        webhooks
            .create(
                WebhooksCreateParams::default()
                    .url(format!("https://example.com/hook/{i}"))
                    .events(vec!["sandbox.created".to_owned()]),
            )
            .await
            .expect("created");
    }
    let all: Vec<String> = webhooks
        .iter(WebhooksListParams::default())
        .expect("pager")
        .collect_all()
        .await
        .expect("all")
        .into_iter()
        .map(|w| w.id)
        .collect();
    assert!(all.len() >= 7, "{all:?}");
    let limit = i64::try_from(all.len().div_ceil(3)).expect("small");
    let first = webhooks
        .list(WebhooksListParams::default().limit(limit))
        .await
        .expect("page 1");
    let pages = walk(first).await;
    assert_eq!(pages.len(), 3, "{} webhooks by {limit}", all.len());
    assert!(!pages[2].has_next_page());
    let ids: Vec<String> = pages
        .iter()
        .flat_map(|p| p.items.iter().map(|w| w.id.clone()))
        .collect();
    assert_eq!(ids, all, "every webhook once, in the pager's order");
}

#[tokio::test]
async fn a_page_numbered_page_fetches_the_next_until_the_last() {
    let env = env();
    for i in 0..3 {
        env.client
            .sandboxes()
            .create(SandboxesCreateParams::default().name(format!("billed-{i}")))
            .await
            .expect("created");
    }
    let usage = env.client.usage();
    let total = usage
        .sessions_iter(UsageSessionsParams::default())
        .expect("pager")
        .collect_all()
        .await
        .expect("every session")
        .len();
    let per_page = i64::try_from(total.div_ceil(3)).expect("small");
    let before = log_for(&env, "/usage/sessions").await.len();
    let first = usage
        .sessions(UsageSessionsParams::default().per_page(per_page))
        .await
        .expect("page 1");
    let pages = walk(first).await;
    assert_eq!(pages.len(), 3);
    let log = log_for(&env, "/usage/sessions").await;
    let sent: Vec<_> = log[before..]
        .iter()
        .map(|e| {
            (
                e["query"].get("page").cloned(),
                e["query"].get("per_page").cloned(),
            )
        })
        .collect();
    let per_page = serde_json::Value::String(per_page.to_string());
    assert_eq!(
        sent,
        vec![
            (None, Some(per_page.clone())),
            (Some("2".into()), Some(per_page.clone())),
            (Some("3".into()), Some(per_page)),
        ],
        "the next pages keep the first call's parameters"
    );
}

#[tokio::test]
async fn a_page_built_by_hand_has_no_call_to_repeat() {
    let page =
        Page::from_body(&serde_json::json!({"items": [1], "next_cursor": "c2"})).expect("page");
    let err = page.next_page().await.expect_err("refused");
    assert_eq!(err.kind(), ErrorKind::Usage);
}
