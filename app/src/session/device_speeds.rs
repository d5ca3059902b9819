//! The figures that picked the faster device, kept per model shape in the browser's
//! `localStorage` so that a model is measured once, not at every run (a reload keeps them; a
//! fresh profile measures again).

use kindling_core::train::DeviceSpeeds;

/// The `localStorage` item: a JSON list of [`DeviceSpeeds`], newest last.
const STORAGE_KEY: &str = "kindling.device-speeds.v1";
/// Model shapes kept at most (the oldest go first): a sweep over hidden sizes adds one each.
const KEPT: usize = 64;

fn storage() -> Option<web_sys::Storage> {
    web_sys::window()?.local_storage().ok().flatten()
}

fn all() -> Vec<DeviceSpeeds> {
    storage()
        .and_then(|s| s.get_item(STORAGE_KEY).ok().flatten())
        .and_then(|text| serde_json::from_str(&text).ok())
        .unwrap_or_default()
}

/// The figures kept for the model shape `key`, if any (unreadable ones count as none).
pub(super) fn known(key: &str) -> Option<DeviceSpeeds> {
    all().into_iter().find(|s| s.key == key)
}

/// Keeps `speeds` (replacing older figures of the same shape). A browser that refuses
/// storage (private mode, quota) only loses the shortcut: the next run measures again.
/// Figures with a failed device are not kept: the failure may pass (a busy GPU, a lost
/// device), and the next run of the model measures again.
pub(super) fn remember(speeds: &DeviceSpeeds) {
    if speeds.speeds.is_empty() || speeds.speeds.iter().any(|s| s.failure.is_some()) {
        return;
    }
    let mut kept = all();
    kept.retain(|s| s.key != speeds.key);
    kept.push(speeds.clone());
    let excess = kept.len().saturating_sub(KEPT);
    kept.drain(..excess);
    if let (Some(storage), Ok(text)) = (storage(), serde_json::to_string(&kept)) {
        let _ = storage.set_item(STORAGE_KEY, &text);
    }
}
