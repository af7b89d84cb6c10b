//! Writes `include/miosa.h` from the crate's exports with cbindgen. The header
//! is checked in; `scripts/test-c.sh` fails when a build changes it.

use std::path::PathBuf;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let crate_dir = PathBuf::from(std::env::var("CARGO_MANIFEST_DIR")?);
    println!("cargo:rerun-if-changed=src");
    println!("cargo:rerun-if-changed=cbindgen.toml");
    // A hand edit of the header is undone by the next build (cbindgen writes only on change).
    println!("cargo:rerun-if-changed=include/miosa.h");
    let config = cbindgen::Config::from_file(crate_dir.join("cbindgen.toml"))?;
    cbindgen::Builder::new()
        .with_crate(&crate_dir)
        .with_config(config)
        .generate()?
        .write_to_file(crate_dir.join("include").join("miosa.h"));
    Ok(())
}
