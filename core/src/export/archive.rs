//! An export packed for one framework: a zip archive holding one folder with that framework's
//! script, the weights and the data file, as the page offers it for download (the CLI writes
//! the same files into a folder instead).

use std::io::{Cursor, Write};

use zip::write::SimpleFileOptions;
use zip::{CompressionMethod, ZipWriter};

use super::{Export, ExportError, ExportFile};

/// The framework an archive is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum Framework {
    /// PyTorch (`<run>-pytorch.py`).
    PyTorch,
    /// Keras 3 (`<run>-keras.py`).
    Keras,
}

impl Framework {
    /// Its name, as file names spell it.
    pub fn slug(self) -> &'static str {
        match self {
            Framework::PyTorch => "pytorch",
            Framework::Keras => "keras",
        }
    }
}

impl Export {
    /// The script of `framework` with the weights and the data file, as
    /// `<run>-<framework>.zip` holding the folder `<run>-<framework>/`: unzipped, the script
    /// runs where it lies (`python <run>-<framework>/<run>-<framework>.py`). Scripts are
    /// deflated; the safetensors files are stored as they are (float weights barely shrink).
    pub fn archive(&self, framework: Framework) -> Result<ExportFile, ExportError> {
        let script = match framework {
            Framework::PyTorch => &self.pytorch,
            Framework::Keras => &self.keras,
        };
        let folder = script.name.trim_end_matches(".py").to_string();
        let unzip_error = |e: zip::result::ZipError| ExportError::Archive(e.to_string());
        let mut zip = ZipWriter::new(Cursor::new(Vec::new()));
        for (file, method) in [
            (script, CompressionMethod::Deflated),
            (&self.weights, CompressionMethod::Stored),
            (&self.data, CompressionMethod::Stored),
        ] {
            let options = SimpleFileOptions::default()
                .compression_method(method)
                .large_file(file.bytes.len() >= u32::MAX as usize)
                .unix_permissions(if file.name.ends_with(".py") {
                    0o755
                } else {
                    0o644
                });
            zip.start_file(format!("{folder}/{}", file.name), options)
                .map_err(unzip_error)?;
            zip.write_all(&file.bytes)
                .map_err(|e| ExportError::Archive(e.to_string()))?;
        }
        let bytes = zip.finish().map_err(unzip_error)?.into_inner();
        Ok(ExportFile {
            name: format!("{folder}.zip"),
            bytes,
        })
    }
}

#[cfg(test)]
mod tests {
    use std::io::Read;

    use super::*;

    fn file(name: &str, bytes: &[u8]) -> ExportFile {
        ExportFile {
            name: name.into(),
            bytes: bytes.to_vec(),
        }
    }

    fn export() -> Export {
        Export {
            weights: file("run-1.safetensors", &[1, 2, 3, 4]),
            data: file("run-1-data.safetensors", &[5; 1000]),
            pytorch: file("run-1-pytorch.py", b"import torch\n".repeat(50).as_slice()),
            keras: file("run-1-keras.py", b"import keras\n"),
        }
    }

    #[test]
    fn an_archive_holds_one_framework_script_the_weights_and_the_data_in_one_folder() {
        let export = export();
        for (framework, script) in [
            (Framework::PyTorch, &export.pytorch),
            (Framework::Keras, &export.keras),
        ] {
            let archive = export.archive(framework).unwrap();
            let folder = format!("run-1-{}", framework.slug());
            assert_eq!(archive.name, format!("{folder}.zip"));
            let mut zip = zip::ZipArchive::new(Cursor::new(archive.bytes)).unwrap();
            let mut names: Vec<String> =
                zip.file_names().map(|n| n.unwrap().into_owned()).collect();
            names.sort();
            assert_eq!(
                names,
                [
                    format!("{folder}/run-1-data.safetensors"),
                    format!("{folder}/{}", script.name),
                    format!("{folder}/run-1.safetensors"),
                ]
            );
            for original in [script, &export.weights, &export.data] {
                let mut entry = zip.by_name(&format!("{folder}/{}", original.name)).unwrap();
                let mut bytes = Vec::new();
                entry.read_to_end(&mut bytes).unwrap();
                assert_eq!(bytes, original.bytes, "{} unpacks unchanged", original.name);
            }
        }
    }

    #[test]
    fn scripts_are_compressed_and_weights_stored() {
        let export = export();
        let archive = export.archive(Framework::PyTorch).unwrap();
        let mut zip = zip::ZipArchive::new(Cursor::new(archive.bytes)).unwrap();
        let script = zip.by_name("run-1-pytorch/run-1-pytorch.py").unwrap();
        assert_eq!(script.compression(), CompressionMethod::Deflated);
        assert!(script.compressed_size() < script.size() / 5);
        drop(script);
        let weights = zip.by_name("run-1-pytorch/run-1.safetensors").unwrap();
        assert_eq!(weights.compression(), CompressionMethod::Stored);
    }
}
