//! Writes `include/miosa.h` from the crate's exports with cbindgen. The header
//! is checked in; `scripts/test-c.sh` fails when a build changes it. On Linux it
//! also gives libmiosa.so its SONAME.

use std::path::PathBuf;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let crate_dir = PathBuf::from(std::env::var("CARGO_MANIFEST_DIR")?);
    println!("cargo:rerun-if-changed=src");
    println!("cargo:rerun-if-changed=cbindgen.toml");
    // A hand edit of the header is undone by the next build (cbindgen writes only on change).
    println!("cargo:rerun-if-changed=include/miosa.h");
    // ELF shared objects carry the major version in their SONAME, so programs linked
    // against libmiosa.so.N keep loading it across compatible upgrades.
    if std::env::var("CARGO_CFG_TARGET_OS")? == "linux" {
        let major = std::env::var("CARGO_PKG_VERSION_MAJOR")?;
        println!("cargo:rustc-cdylib-link-arg=-Wl,-soname,libmiosa.so.{major}");
    }
    let config = cbindgen::Config::from_file(crate_dir.join("cbindgen.toml"))?;
    cbindgen::Builder::new()
        .with_crate(&crate_dir)
        .with_config(config)
        .generate()?
        .write_to_file(crate_dir.join("include").join("miosa.h"));
    Ok(())
}
