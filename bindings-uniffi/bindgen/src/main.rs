//! `uniffi-bindgen generate <libmiosa_uniffi.so> -l kotlin -l swift ...`: the
//! generator must be the exact UniFFI version the library was built with.

fn main() {
    uniffi::uniffi_bindgen_main()
}
