//! Main-thread tasks of their own: rendering and saving are kept out of the task that handles a
//! worker message (and apart from each other), so that no single task holds the page's thread
//! for long. Each such task is timed, and one that runs long names itself in the console.

/// A task that runs longer than this is reported in the console (the target is none over 50 ms).
const SLOW_TASK_MS: f64 = 40.0;

/// Runs `task` in a main-thread task of its own (a zero-delay timer; timers run in the order
/// they were set). `label` names it in the console when it, with the effects it wakes, runs
/// longer than [`SLOW_TASK_MS`].
pub fn in_own_task(label: &'static str, task: impl FnOnce() + 'static) {
    leptos::prelude::set_timeout(
        move || {
            let started = js_sys::Date::now();
            task();
            // Effects run in microtasks queued behind this one: it sees the whole task.
            wasm_bindgen_futures::spawn_local(async move {
                let took = js_sys::Date::now() - started;
                if took > SLOW_TASK_MS {
                    web_sys::console::warn_1(
                        &format!("kindling: the {label} task took {took:.0} ms").into(),
                    );
                }
            });
        },
        std::time::Duration::ZERO,
    );
}
