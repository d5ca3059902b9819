//! The page's Content-Security-Policy, applied to trunk's output by a post-build hook
//! (`Trunk.toml`: `cargo xtask csp`): trunk writes the app's start-up (and, when serving, its
//! reload client) as inline scripts, so the hook moves each into a script file of its own,
//! named by its hash, and puts the policy in a `<meta>` tag first in `<head>`. The page then
//! runs no inline script at all.

use std::path::Path;

use anyhow::{bail, Context, Result};
use kindling_formats::manifest::sha256_hex;

/// What the page may load and run: its own origin, plus `'wasm-unsafe-eval'` (compiling
/// WebAssembly) and inline styles (leptos sets `style` attributes; they cannot run code).
/// `frame-ancestors` is ignored in a meta tag, so it is not given.
pub const POLICY: &str = "default-src 'self'; script-src 'self' 'wasm-unsafe-eval'; \
     style-src 'self' 'unsafe-inline'; img-src 'self' data: blob:; connect-src 'self'; \
     worker-src 'self'; object-src 'none'; base-uri 'none'; form-action 'none'";

/// Applies the policy to `index.html` in trunk's staging folder (`$TRUNK_STAGING_DIR`).
pub fn apply_to_staged_build() -> Result<()> {
    let staging = std::env::var_os("TRUNK_STAGING_DIR")
        .context("`cargo xtask csp` is trunk's post-build hook: TRUNK_STAGING_DIR is not set")?;
    let public_url = std::env::var("TRUNK_PUBLIC_URL").unwrap_or_else(|_| "/".into());
    apply(Path::new(&staging), &public_url)
}

/// Rewrites `dir/index.html`: every inline script becomes `dir/inline-<hash>.js`, and the
/// policy's meta tag opens `<head>`.
pub fn apply(dir: &Path, public_url: &str) -> Result<()> {
    let path = dir.join("index.html");
    let html =
        std::fs::read_to_string(&path).with_context(|| format!("reading {}", path.display()))?;
    let (html, scripts) = externalise_scripts(&html, public_url)?;
    for (name, body) in scripts {
        std::fs::write(dir.join(&name), body).with_context(|| format!("writing {name}"))?;
    }
    std::fs::write(&path, with_policy(&html)?)
        .with_context(|| format!("writing {}", path.display()))
}

/// The page with each inline `<script>` replaced by one that loads a file, and those files
/// (name, contents).
fn externalise_scripts(html: &str, public_url: &str) -> Result<(String, Vec<(String, String)>)> {
    let mut out = String::with_capacity(html.len());
    let mut files = Vec::new();
    let mut rest = html;
    while let Some(start) = find_ignoring_case(rest, "<script") {
        out.push_str(&rest[..start]);
        let tag_end = rest[start..]
            .find('>')
            .map(|i| start + i + 1)
            .context("a <script> tag is not closed")?;
        let open_tag = &rest[start..tag_end];
        let close = find_ignoring_case(&rest[tag_end..], "</script>")
            .map(|i| tag_end + i)
            .context("a <script> element has no </script>")?;
        let body = &rest[tag_end..close];
        if find_ignoring_case(open_tag, "src=").is_some() || body.trim().is_empty() {
            out.push_str(&rest[start..close + "</script>".len()]);
        } else {
            let name = format!("inline-{}.js", &sha256_hex(body.as_bytes())[..16]);
            let base = public_url.trim_end_matches('/');
            let attributes = open_tag["<script".len()..open_tag.len() - 1].trim();
            let attributes = if attributes.is_empty() {
                String::new()
            } else {
                format!(" {attributes}")
            };
            out.push_str(&format!(
                "<script{attributes} src=\"{base}/{name}\"></script>"
            ));
            files.push((name, body.to_string()));
        }
        rest = &rest[close + "</script>".len()..];
    }
    out.push_str(rest);
    Ok((out, files))
}

/// The page with the policy's meta tag first in `<head>` (it covers only what follows it).
fn with_policy(html: &str) -> Result<String> {
    if html.contains("Content-Security-Policy") {
        bail!("index.html already has a Content-Security-Policy");
    }
    let head = find_ignoring_case(html, "<head>").context("index.html has no <head>")?;
    let at = head + "<head>".len();
    Ok(format!(
        "{}\n    <meta http-equiv=\"Content-Security-Policy\" content=\"{POLICY}\" />{}",
        &html[..at],
        &html[at..]
    ))
}

fn find_ignoring_case(haystack: &str, needle: &str) -> Option<usize> {
    haystack
        .as_bytes()
        .windows(needle.len())
        .position(|w| w.eq_ignore_ascii_case(needle.as_bytes()))
}

#[cfg(test)]
mod tests {
    use super::*;

    const TRUNK_OUTPUT: &str = r#"<!doctype html>
<html lang="en">
  <head>
    <meta charset="utf-8" />
<script type="module">
import init from '/kindling-page-1.js';
await init({ module_or_path: '/kindling-page-1_bg.wasm' });
</script>
  <link rel="modulepreload" href="/kindling-page-1.js"></head>
  <body><script src="/kept.js"></script><SCRIPT>reload()</SCRIPT></body>
</html>"#;

    #[test]
    fn inline_scripts_become_files_and_the_policy_comes_first() {
        let dir = std::env::temp_dir().join(format!("kindling-csp-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join("index.html"), TRUNK_OUTPUT).unwrap();
        apply(&dir, "/").unwrap();
        let html = std::fs::read_to_string(dir.join("index.html")).unwrap();
        let (rewritten, files) = externalise_scripts(TRUNK_OUTPUT, "/").unwrap();
        assert_eq!(files.len(), 2, "{rewritten}");
        for (name, body) in &files {
            assert_eq!(&std::fs::read_to_string(dir.join(name)).unwrap(), body);
            assert!(html.contains(&format!("src=\"/{name}\"")), "{html}");
        }
        assert!(
            html.contains(r#"<script type="module" src="/inline-"#),
            "{html}"
        );
        assert!(
            html.contains(r#"<script src="/kept.js"></script>"#),
            "{html}"
        );
        assert!(
            !html.contains("import init"),
            "no inline script left: {html}"
        );
        let meta = html.find("Content-Security-Policy").unwrap();
        assert!(meta < html.find("<script").unwrap() && meta < html.find("<link").unwrap());
        assert!(apply(&dir, "/").is_err(), "applied twice");
        std::fs::remove_dir_all(&dir).ok();
    }

    #[test]
    fn the_policy_allows_only_the_origin_and_wasm() {
        assert!(!POLICY.contains("'unsafe-eval'"));
        let script = POLICY
            .split(';')
            .find(|d| d.trim().starts_with("script-src"))
            .unwrap();
        assert_eq!(script.trim(), "script-src 'self' 'wasm-unsafe-eval'");
    }
}
