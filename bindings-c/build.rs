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
    let mut config = cbindgen::Config::from_file(crate_dir.join("cbindgen.toml"))?;
    config.after_includes = Some(version_macros()?);
    cbindgen::Builder::new()
        .with_crate(&crate_dir)
        .with_config(config)
        .generate()?
        .write_to_file(crate_dir.join("include").join("miosa.h"));
    Ok(())
}

/// The crate version as preprocessor constants, beside `miosa_version()` (the
/// version of the library actually loaded), so a program can check at build
/// time what it compiles against.
fn version_macros() -> Result<String, std::env::VarError> {
    let part = |name: &str| std::env::var(format!("CARGO_PKG_VERSION_{name}"));
    Ok(format!(
        "\n/* The version of this header; miosa_version() gives the loaded library's. */\n\
         #define MIOSA_VERSION_MAJOR {}\n\
         #define MIOSA_VERSION_MINOR {}\n\
         #define MIOSA_VERSION_PATCH {}\n\
         #define MIOSA_VERSION_STRING \"{}\"\n\
         \n\
         /* Initialisers for the caller-allocated structs: the size set, every other field the default.\n\
         \x20* Designated in C, so -Wextra does not warn about the fields left out. */\n\
         #ifdef __cplusplus\n\
         #define MIOSA_OPTIONS_INIT {{ sizeof(miosa_options) }}\n\
         #define MIOSA_STREAM_OPTIONS_INIT {{ sizeof(miosa_stream_options) }}\n\
         #else\n\
         #define MIOSA_OPTIONS_INIT {{ .struct_size = sizeof(miosa_options) }}\n\
         #define MIOSA_STREAM_OPTIONS_INIT {{ .struct_size = sizeof(miosa_stream_options) }}\n\
         #endif\n",
        part("MAJOR")?,
        part("MINOR")?,
        part("PATCH")?,
        std::env::var("CARGO_PKG_VERSION")?,
    ))
}
