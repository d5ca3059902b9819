//! Exports `__wasm_call_ctors` from the page's wasm: lld then leaves the module's exports alone
//! instead of wrapping each one to re-run every static constructor (burn's dependencies register
//! hundreds with `inventory`) on every call from JavaScript into wasm, which made each event
//! handler of the page cost 100-400 ms in headless Chromium. The page needs none of those
//! registrations (it never touches tensors).
fn main() {
    if std::env::var("CARGO_CFG_TARGET_ARCH").as_deref() == Ok("wasm32") {
        println!("cargo:rustc-link-arg-cdylib=--export=__wasm_call_ctors");
    }
}
