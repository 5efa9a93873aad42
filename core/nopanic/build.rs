//! The program defines its own `_start`; the C runtime's must not be linked.
fn main() {
    println!("cargo:rustc-link-arg-bins=-nostartfiles");
}
