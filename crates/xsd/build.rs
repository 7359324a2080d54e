//! Links the system libxml2 (libxml2-dev). No bindgen: the few functions used
//! are declared by hand in `src/lib.rs`.
fn main() {
    println!("cargo:rerun-if-changed=build.rs");
    println!("cargo:rustc-link-lib=xml2");
}
