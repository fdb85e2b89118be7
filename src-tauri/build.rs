//! Tauri's build step. Every command in the role table gets an `allow-…` permission generated, and
//! the capability file grants exactly those: the window can call the app's commands and nothing else.

fn main() {
    let names: Vec<&'static str> = pops_domain::command::Command::ALL.iter().map(|c| c.name()).collect();
    let names: &'static [&'static str] = Box::leak(names.into_boxed_slice());
    let attributes = tauri_build::Attributes::new().app_manifest(tauri_build::AppManifest::new().commands(names));
    if let Err(e) = tauri_build::try_build(attributes) {
        println!("cargo::error=tauri build step failed: {e:#}");
        std::process::exit(1);
    }
}
