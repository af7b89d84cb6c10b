//! The seed's "First request": create a sandbox, start it, run a command,
//! print its output, destroy it. With `MIOSA_API_KEY` set it talks to MIOSA;
//! without it, to a local emulator started in-process.

use miosa::Client;
use miosa::api::{ExecRunParams, SandboxesCreateParams};

fn main() -> Result<(), Box<dyn std::error::Error>> {
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
    let api = client.blocking();

    let sandbox = api
        .sandboxes()
        .create(SandboxesCreateParams::default().name("quick-exec"))?;
    let id = sandbox.id;
    api.computer().start(&id, Default::default())?;
    let result = api.exec().run(
        &id,
        ExecRunParams::default().command("python3 -c 'print(1 + 1)'"),
    )?;
    print!("{}", result.text());
    api.computer().destroy(&id, Default::default())?;
    Ok(())
}
