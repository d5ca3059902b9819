//! How a protocol message crosses between the page and the worker: its JSON text alone, or,
//! when it carries bytes (weights), an array `[text, Uint8Array]` whose buffer is transferred
//! rather than copied or spelled out as JSON numbers.

use wasm_bindgen::{JsCast, JsValue};

/// The value to post and the buffers to transfer with it.
pub fn outgoing(text: String, attachment: Option<&[u8]>) -> (JsValue, Option<JsValue>) {
    match attachment {
        None => (JsValue::from_str(&text), None),
        Some(bytes) => {
            let array = js_sys::Uint8Array::from(bytes);
            let transfer = js_sys::Array::of1(&array.buffer());
            (
                js_sys::Array::of2(&JsValue::from_str(&text), &array).into(),
                Some(transfer.into()),
            )
        }
    }
}

/// The JSON text and attached bytes of a received value (None: not a protocol message).
pub fn incoming(data: JsValue) -> Option<(String, Option<Vec<u8>>)> {
    if let Some(text) = data.as_string() {
        return Some((text, None));
    }
    let parts: js_sys::Array = data.dyn_into().ok()?;
    let text = parts.get(0).as_string()?;
    let bytes = parts
        .get(1)
        .dyn_into::<js_sys::Uint8Array>()
        .ok()
        .map(|a| a.to_vec());
    Some((text, bytes))
}
