//! Generated sections of `BENCHMARKS.md`: each command rewrites only the text between its own
//! start and end markers.

use std::path::Path;

use anyhow::{Context, Result};

/// Replaces the text from `start` to `end` in `path` with `section` (which carries both
/// markers), or appends `section` under `heading` when the markers are not there yet.
pub fn write_section(
    path: &Path,
    start: &str,
    end: &str,
    heading: &str,
    section: &str,
) -> Result<()> {
    let text = std::fs::read_to_string(path).unwrap_or_default();
    let new = match (text.find(start), text.find(end)) {
        (Some(a), Some(b)) if b > a => format!(
            "{}{}{}",
            &text[..a],
            section.trim_end(),
            &text[b + end.len()..]
        ),
        _ => format!(
            "{}\n\n{heading}\n\n{}\n",
            text.trim_end(),
            section.trim_end()
        ),
    };
    std::fs::write(path, new).with_context(|| format!("cannot write {}", path.display()))?;
    println!("wrote {}", path.display());
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_section_is_replaced_in_place_or_appended_once() {
        let dir = std::env::temp_dir().join(format!("kindling-report-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("B.md");
        std::fs::write(&path, "# B\n\nintro\n").unwrap();
        let section = |body: &str| format!("<!-- s -->\n{body}\n<!-- e -->\n");
        write_section(&path, "<!-- s -->", "<!-- e -->", "## S", &section("one")).unwrap();
        std::fs::write(
            &path,
            std::fs::read_to_string(&path).unwrap() + "\n## After\n",
        )
        .unwrap();
        write_section(&path, "<!-- s -->", "<!-- e -->", "## S", &section("two")).unwrap();
        let text = std::fs::read_to_string(&path).unwrap();
        assert_eq!(
            text,
            "# B\n\nintro\n\n## S\n\n<!-- s -->\ntwo\n<!-- e -->\n\n## After\n"
        );
        std::fs::remove_dir_all(dir).unwrap();
    }
}
