//! Files in and out of the page: downloads (CSV, model files) and files the user picks.

use kindling_core::data::upload::{too_big_message, MAX_UPLOAD_BYTES};
use kindling_core::data::DataError;
use kindling_core::model::WEIGHTS_EXTENSION;
use kindling_core::record::MAX_MODEL_FILE_BYTES;
use wasm_bindgen::JsCast;
use wasm_bindgen_futures::JsFuture;

/// Offers `bytes` as a file download named `name`.
pub fn download(name: &str, mime: &str, bytes: &[u8]) -> Result<(), String> {
    let array = js_sys::Uint8Array::from(bytes);
    let parts = js_sys::Array::of1(&array);
    let options = web_sys::BlobPropertyBag::new();
    options.set_type(mime);
    let blob = web_sys::Blob::new_with_u8_array_sequence_and_options(&parts, &options)
        .map_err(|e| format!("{e:?}"))?;
    let url = web_sys::Url::create_object_url_with_blob(&blob).map_err(|e| format!("{e:?}"))?;
    let document = web_sys::window()
        .and_then(|w| w.document())
        .ok_or("no document")?;
    let a: web_sys::HtmlElement = document
        .create_element("a")
        .map_err(|e| format!("{e:?}"))?
        .dyn_into()
        .map_err(|_| "not an element")?;
    let _ = a.set_attribute("href", &url);
    let _ = a.set_attribute("download", name);
    a.click();
    let _ = web_sys::Url::revoke_object_url(&url);
    Ok(())
}

/// What the files chosen in one input may weigh: a model file's limit for an input that
/// accepts model files (`.bpk`), otherwise an upload's (its files together).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ChosenLimit {
    /// At most [`MAX_MODEL_FILE_BYTES`] a file.
    ModelFile,
    /// At most [`MAX_UPLOAD_BYTES`] in all.
    Upload,
}

impl ChosenLimit {
    /// The limit of an input that accepts `accept` (its `accept` attribute).
    pub fn of_accept(accept: &str) -> Self {
        let model = accept
            .split(',')
            .any(|a| a.trim() == format!(".{WEIGHTS_EXTENSION}"));
        if model {
            ChosenLimit::ModelFile
        } else {
            ChosenLimit::Upload
        }
    }

    /// Why files of these `(name, bytes)` sizes are refused, if they are, before any is read:
    /// a file alone beyond the limit names itself; an upload's files beyond it together name
    /// the first, as [`kindling_core::data::upload::decode_upload`] does.
    pub fn refusal(self, sizes: &[(String, u64)]) -> Option<String> {
        match self {
            ChosenLimit::ModelFile => sizes
                .iter()
                .find(|(_, size)| *size > MAX_MODEL_FILE_BYTES as u64)
                .map(|(name, size)| {
                    format!(
                        "{name} cannot be imported: it is {:.1} MB, more than the {} MB a model \
                         file may have",
                        *size as f64 / (1024.0 * 1024.0),
                        MAX_MODEL_FILE_BYTES / (1024 * 1024)
                    )
                }),
            ChosenLimit::Upload => {
                let limit = MAX_UPLOAD_BYTES as u64;
                let total = sizes.iter().fold(0u64, |t, (_, s)| t.saturating_add(*s));
                let (name, size) = sizes
                    .iter()
                    .find(|(_, size)| *size > limit)
                    .map(|(n, s)| (n.clone(), *s))
                    .or_else(|| (total > limit).then(|| (sizes[0].0.clone(), total)))?;
                Some(
                    DataError::Malformed {
                        file: name,
                        position: 0,
                        message: too_big_message(size, limit),
                    }
                    .to_string(),
                )
            }
        }
    }
}

/// The files chosen in a file input, each with its name and bytes (None when none is
/// chosen). The input is cleared, so choosing the same files again is seen as a new choice.
///
/// The files' sizes are checked before any is read, against the limit of what the input
/// accepts ([`ChosenLimit::of_accept`]): a file beyond it is refused with the message its
/// decoder would give, without being read.
pub async fn read_chosen_files(
    input: &web_sys::HtmlInputElement,
) -> Option<Result<Vec<(String, Vec<u8>)>, String>> {
    read_chosen_files_within(input, ChosenLimit::of_accept(&input.accept())).await
}

/// [`read_chosen_files`] under `limit`.
pub async fn read_chosen_files_within(
    input: &web_sys::HtmlInputElement,
    limit: ChosenLimit,
) -> Option<Result<Vec<(String, Vec<u8>)>, String>> {
    let files = js_sys::Array::from(&js_sys::Reflect::get(input, &"files".into()).ok()?);
    if files.length() == 0 {
        return None;
    }
    input.set_value("");
    let chosen: Vec<(String, web_sys::Blob)> = files
        .iter()
        .map(|file| {
            let name = js_sys::Reflect::get(&file, &"name".into())
                .ok()
                .and_then(|n| n.as_string())
                .unwrap_or_else(|| "the file".into());
            (name, file.unchecked_into())
        })
        .collect();
    // Blob.size is a double: a whole number of bytes, up to 2^53.
    let sizes: Vec<(String, u64)> = chosen
        .iter()
        .map(|(name, blob)| (name.clone(), blob.size().max(0.0) as u64))
        .collect();
    if let Some(refusal) = limit.refusal(&sizes) {
        return Some(Err(refusal));
    }
    let mut read = Vec::new();
    for (name, blob) in chosen {
        match JsFuture::from(blob.array_buffer()).await {
            Ok(buffer) => read.push((name, js_sys::Uint8Array::new(&buffer).to_vec())),
            Err(e) => return Some(Err(format!("{name} could not be read: {e:?}"))),
        }
    }
    Some(Ok(read))
}
