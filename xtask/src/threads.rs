//! The training worker's threaded build: burn's CPU device on every core of the tab.
//!
//! Threads in WebAssembly need a shared memory, so std must be rebuilt with atomics, which
//! only a nightly toolchain does (`-Z build-std`). The pinned nightly is the one on the
//! machine image; it is installed, with its `rust-src`, when missing. Only this build uses
//! it: the page, the single-threaded worker and every native crate stay on stable.
//!
//! The build goes without WebGPU (`--no-default-features`: wgpu's WebGPU backend cannot be
//! built for a shared memory). wasm-bindgen writes it for ES modules (`--target web`), which
//! the worker's rayon pool needs to start its thread workers (app/src/worker/pool_workers.js),
//! into `target/worker-threads/`; trunk's post-build hook (`cargo xtask stage-threads`,
//! Trunk.toml) copies it into the site's `threads/` folder beside
//! `public/threads/worker_start.js`. The page runs it where it is cross-origin isolated (app/src/session/worker_kind.rs). See ../shared/notes/wasm-threads.md
//! for the recipe and what it measured.

use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{bail, Context, Result};

use crate::{root, run_command, say};

/// The nightly the threaded build is made with (rustc 1.97.0-nightly, e50aa6fba).
const NIGHTLY_DATE: &str = "2026-05-19";
/// What `rustc --version` of that nightly contains.
const NIGHTLY_RUSTC: &str = "(e50aa6fba 2026-05-19)";
/// The code generation flags of a shared-memory build. All of them: with `+atomics` alone
/// this nightly neither imports a shared memory nor exports the thread-local symbols, and
/// wasm-bindgen then writes single-threaded glue without a word.
const RUSTFLAGS: &str = "-C target-feature=+atomics,+bulk-memory,+mutable-globals,+simd128 \
     -C link-arg=--shared-memory -C link-arg=--max-memory=4294967296 \
     -C link-arg=--import-memory -C link-arg=--export=__wasm_init_tls \
     -C link-arg=--export=__tls_size -C link-arg=--export=__tls_align \
     -C link-arg=--export=__tls_base";

/// Where wasm-bindgen writes the threaded worker (the hook copies it into the site).
pub fn output_dir() -> PathBuf {
    root().join("target").join("worker-threads")
}

/// The toolchain to build with: the machine's `nightly` when it is the pinned one, else the
/// pinned nightly by date, installed when missing. Its `rust-src` is added when missing.
fn toolchain() -> Result<String> {
    let rustc_version = |toolchain: &str| {
        Command::new("rustc")
            .arg(format!("+{toolchain}"))
            .arg("--version")
            .output()
            .ok()
            .filter(|o| o.status.success())
            .map(|o| String::from_utf8_lossy(&o.stdout).into_owned())
            .unwrap_or_default()
    };
    let dated = format!("nightly-{NIGHTLY_DATE}");
    let toolchain = if rustc_version("nightly").contains(NIGHTLY_RUSTC) {
        "nightly".to_string()
    } else {
        if !rustc_version(&dated).contains(NIGHTLY_RUSTC) {
            run_command(
                &format!(
                    "installing the pinned nightly toolchain {dated} for the worker's threaded \
                     build (rustup: a few minutes, once)"
                ),
                "rustup",
                &["toolchain", "install", &dated, "--profile", "minimal"],
                &[],
            )?;
        }
        dated
    };
    let sysroot = Command::new("rustc")
        .arg(format!("+{toolchain}"))
        .args(["--print", "sysroot"])
        .output()
        .context("cannot run rustc")?;
    let sysroot = PathBuf::from(String::from_utf8_lossy(&sysroot.stdout).trim());
    if !sysroot.join("lib/rustlib/src/rust/library/std").is_dir() {
        run_command(
            "adding rust-src to the nightly (std is rebuilt with atomics from it; seconds, once)",
            "rustup",
            &["component", "add", "rust-src", "--toolchain", &toolchain],
            &[],
        )?;
    }
    Ok(toolchain)
}

/// The build folder of the threaded worker: its own, so that its flags never invalidate the
/// stable builds' cache.
fn target_dir() -> PathBuf {
    std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| root().join("target"))
        .join("threads")
}

/// Builds the threaded worker into [`output_dir`].
pub fn build() -> Result<()> {
    let toolchain = toolchain()?;
    let target_dir = target_dir();
    let target = target_dir.display().to_string();
    run_command(
        "building the training worker's threaded build (nightly, std rebuilt with atomics, no \
         WebGPU: about 10 minutes on 2 cores the first time, seconds after)",
        "cargo",
        &[
            &format!("+{toolchain}"),
            "build",
            "--release",
            "--target",
            "wasm32-unknown-unknown",
            "-Z",
            "build-std=panic_abort,std",
            "-p",
            "kindling-app",
            "--bin",
            "worker",
            "--no-default-features",
            "--features",
            "threads",
            "--target-dir",
            &target,
        ],
        &[
            ("RUSTFLAGS", RUSTFLAGS),
            // Clippy lints the stable builds; a nightly's clippy has lints of its own.
            ("RUSTC_WORKSPACE_WRAPPER", ""),
            ("CLIPPY_ARGS", ""),
        ],
    )?;
    let wasm = target_dir.join("wasm32-unknown-unknown/release/worker.wasm");
    let out = output_dir();
    if out.exists() {
        std::fs::remove_dir_all(&out).with_context(|| format!("clearing {}", out.display()))?;
    }
    run_command(
        "writing its JavaScript glue for ES modules (wasm-bindgen --target web: seconds)",
        "wasm-bindgen",
        &[
            "--target",
            "web",
            "--remove-name-section",
            "--out-dir",
            &out.display().to_string(),
            "--out-name",
            "worker",
            &wasm.display().to_string(),
        ],
        &[],
    )?;
    if !out.join("worker_bg.wasm").is_file() {
        bail!(
            "wasm-bindgen wrote no worker_bg.wasm into {}",
            out.display()
        );
    }
    Ok(())
}

/// trunk's post-build hook: copies the threaded worker (when it was built) and its start
/// script into `threads/` of trunk's staging folder. Without a threaded build the site has
/// no `threads/` folder, and the page runs the single-threaded worker.
pub fn stage() -> Result<()> {
    let staging = std::env::var_os("TRUNK_STAGING_DIR").context(
        "`cargo xtask stage-threads` is trunk's post-build hook: TRUNK_STAGING_DIR is not set",
    )?;
    stage_into(
        &output_dir(),
        &root().join("public/threads"),
        Path::new(&staging),
    )
}

fn stage_into(built: &Path, public: &Path, site: &Path) -> Result<()> {
    if !built.join("worker_bg.wasm").is_file() {
        println!(
            "no threaded worker in {} (cargo xtask serve and test build it): the site trains \
             on one thread",
            built.display()
        );
        return Ok(());
    }
    let into = site.join("threads");
    std::fs::create_dir_all(&into)?;
    for dir in [built, public] {
        for entry in std::fs::read_dir(dir).with_context(|| format!("reading {}", dir.display()))? {
            let path = entry?.path();
            if path.is_file() {
                let name = path.file_name().expect("a file has a name");
                std::fs::copy(&path, into.join(name))
                    .with_context(|| format!("copying {}", path.display()))?;
            } else if path.is_dir() {
                // wasm-bindgen's snippets (the pool's worker script).
                copy_dir(
                    &path,
                    &into.join(path.file_name().expect("a folder has a name")),
                )?;
            }
        }
    }
    say(&format!(
        "staged the threaded worker into {}",
        into.display()
    ));
    Ok(())
}

fn copy_dir(from: &Path, to: &Path) -> Result<()> {
    std::fs::create_dir_all(to)?;
    for entry in std::fs::read_dir(from)? {
        let path = entry?.path();
        let target = to.join(path.file_name().expect("an entry has a name"));
        if path.is_dir() {
            copy_dir(&path, &target)?;
        } else {
            std::fs::copy(&path, &target)?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn staging_copies_the_build_its_snippets_and_the_start_script_or_nothing() {
        let base = std::env::temp_dir().join(format!("kindling-stage-{}", std::process::id()));
        let (built, public, site) = (base.join("built"), base.join("public"), base.join("site"));
        for dir in [&built, &public, &site] {
            std::fs::create_dir_all(dir).unwrap();
        }
        std::fs::write(public.join("worker_start.js"), "start").unwrap();
        // Nothing built: nothing staged.
        stage_into(&built, &public, &site).unwrap();
        assert!(!site.join("threads").exists());
        std::fs::write(built.join("worker.js"), "glue").unwrap();
        std::fs::write(built.join("worker_bg.wasm"), "wasm").unwrap();
        let snippet = built.join("snippets/kindling-app-0123abcd/src/worker");
        std::fs::create_dir_all(&snippet).unwrap();
        std::fs::write(snippet.join("pool_workers.js"), "helpers").unwrap();
        stage_into(&built, &public, &site).unwrap();
        let staged = site.join("threads");
        for (file, text) in [
            ("worker.js", "glue"),
            ("worker_bg.wasm", "wasm"),
            ("worker_start.js", "start"),
            (
                "snippets/kindling-app-0123abcd/src/worker/pool_workers.js",
                "helpers",
            ),
        ] {
            assert_eq!(std::fs::read_to_string(staged.join(file)).unwrap(), text);
        }
        std::fs::remove_dir_all(&base).unwrap();
    }
}
