//! The seed's "White-label integrator flow": brand the tenant, point previews
//! at a custom domain, subscribe a webhook, cap an end user's quota, create a
//! sandbox attributed to that user, wait for it, write files, mint a preview
//! token and a share link, read usage, destroy. Against MIOSA when
//! `MIOSA_API_KEY` is set, else a local emulator.

use miosa::api::{
    QuotasSetParams, SandboxShareCreateParams, SandboxesCreateParams, SandboxesPreviewTokenParams,
    SandboxesWaitUntilReadyParams, TenantSetBrandingParams, UsageGetParams, WebhooksCreateParams,
};
use miosa::{Client, FileWrite};
use serde_json::json;

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let (client, _emulator) = if std::env::var_os("MIOSA_API_KEY").is_some() {
        (Client::from_env()?, None)
    } else {
        let emulator = miosa_emulator::Emulator::start(miosa_emulator::Config::default()).await?;
        eprintln!(
            "MIOSA_API_KEY is not set: using a local miosa-emulator at {}",
            emulator.base_url()
        );
        let client = Client::builder(emulator.api_key())
            .base_url(emulator.base_url())
            .header("x-tenant-id", "acme-corp")
            .build()?;
        (client, Some(emulator))
    };
    let end_user = "usr_123";

    let branding = json!({"product_name": "Acme Cloud", "primary_color": "#0050ff"});
    client
        .tenant()
        .set_branding(
            TenantSetBrandingParams::default().branding(serde_json::from_value(branding)?),
        )
        .await?;
    client
        .tenant()
        .set_preview_domain("preview.acme.dev")
        .await?;

    let webhook = client
        .webhooks()
        .create(
            WebhooksCreateParams::default()
                .url("https://hooks.acme.dev/miosa")
                .events(vec!["sandbox.ready".into(), "sandbox.destroyed".into()]),
        )
        .await?;
    println!(
        "webhook {} (secret shown once: {} chars)",
        webhook.id,
        webhook.secret.map_or(0, |s| s.len())
    );

    client
        .quotas()
        .set(end_user, QuotasSetParams::default().max_sandboxes(5))
        .await?;

    let sandbox = client
        .sandboxes()
        .create(
            SandboxesCreateParams::default()
                .name("acme-user-workspace")
                .external_user_id(end_user)
                .external_workspace_id("ws_acme"),
        )
        .await?;
    let id = sandbox.id;
    let ready = client
        .sandboxes()
        .wait_until_ready(&id, SandboxesWaitUntilReadyParams::default().timeout(60.0))
        .await?;
    println!("sandbox {id} ready: {ready}");

    // Content is bytes or text; the client does the base64.
    let files = vec![
        FileWrite::new("/workspace/index.html", "<h1>Acme</h1>\n"),
        FileWrite::new("/workspace/app.py", &b"print('hi')\n"[..]),
    ];
    let written = client.sandbox().files().write_many(&id, files).await?;
    println!("written: {}", written.written.len());

    let token = client
        .sandboxes()
        .preview_token(
            &id,
            SandboxesPreviewTokenParams::default()
                .expires_in(3600)
                .scope("read"),
        )
        .await?;
    println!("preview url: {}", token.url);
    let share = client
        .sandbox()
        .share()
        .create(&id, SandboxShareCreateParams::default().scope("read"))
        .await?;
    println!("share url: {}", share.share_url);

    let usage = client
        .usage()
        .get(UsageGetParams::default().group_by("external_user_id"))
        .await?;
    println!("usage rows: {}", usage.results.len());

    client.sandboxes().delete(&id).await?;
    println!("destroyed {id}");
    Ok(())
}
