//! Files in and out of the page: downloads (CSV, model files) and files the user picks.

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

/// The files chosen in a file input, each with its name and bytes (None when none is
/// chosen). The input is cleared, so choosing the same files again is seen as a new choice.
pub async fn read_chosen_files(
    input: &web_sys::HtmlInputElement,
) -> Option<Result<Vec<(String, Vec<u8>)>, String>> {
    let files = js_sys::Array::from(&js_sys::Reflect::get(input, &"files".into()).ok()?);
    if files.length() == 0 {
        return None;
    }
    input.set_value("");
    let mut read = Vec::new();
    for file in files.iter() {
        let name = js_sys::Reflect::get(&file, &"name".into())
            .ok()
            .and_then(|n| n.as_string())
            .unwrap_or_else(|| "the file".into());
        let blob: web_sys::Blob = file.unchecked_into();
        match JsFuture::from(blob.array_buffer()).await {
            Ok(buffer) => read.push((name, js_sys::Uint8Array::new(&buffer).to_vec())),
            Err(e) => return Some(Err(format!("{name} could not be read: {e:?}"))),
        }
    }
    Some(Ok(read))
}
