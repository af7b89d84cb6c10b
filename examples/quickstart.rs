//! The seed's "First request": create a sandbox, run a command in it, print
//! its output, destroy it. With `MIOSA_API_KEY` set it talks to MIOSA;
//! without it, to a local emulator started in-process.

use miosa::Client;
use miosa::api::{SandboxExecRunParams, SandboxesCreateParams};

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let (client, _emulator) = if std::env::var_os("MIOSA_API_KEY").is_some() {
        (Client::from_env()?, None)
    } else {
        let emulator = miosa_emulator::Emulator::try_spawn(miosa_emulator::Config::default())?;
        eprintln!(
            "MIOSA_API_KEY is not set: using a local miosa-emulator at {}",
            emulator.base_url()
        );
        let client = Client::builder(emulator.api_key())
            .base_url(emulator.base_url())
            .build()?;
        (client, Some(emulator))
    };

    // A handle: every `sandbox.*` operation with this sandbox's id bound.
    let sandbox = client
        .sandboxes()
        .create_handle(
            SandboxesCreateParams::default()
                .name("quick-exec")
                .wait(true),
        )
        .await?;
    let result = sandbox
        .exec()
        .run(SandboxExecRunParams::default().command("python3 -c 'print(1 + 1)'"))
        .await?;
    print!("{}", result.text());
    sandbox.destroy().await?;
    Ok(())
}
