//! The page: its header, the layout of its panels, and mounting it. The state and what
//! changes it live in [`crate::session`]; each panel in [`crate::components`].

use kindling_core::train::threads_label;
use kindling_core::DeviceChoice;
use leptos::prelude::*;

use crate::components::{
    about::About, builder::BuilderPanel, runs::RunsPanel, sweep::SweepPanel,
    training::TrainingPanel, try_it::TryItPanel,
};
use crate::session::{provide_session, use_builder, use_current_run, use_worker, DeviceWanted};

fn device_label(device: DeviceChoice) -> &'static str {
    match device {
        DeviceChoice::Wgpu => "WebGPU",
        DeviceChoice::Cpu => "CPU (wasm SIMD)",
        DeviceChoice::Ndarray => "CPU (ndarray)",
    }
}

/// The device a run trained on, with the CPU's threads: "CPU (wasm SIMD), 2 threads".
fn used_label(device: DeviceChoice, threads: u32) -> String {
    match device {
        DeviceChoice::Cpu => format!("{}, {}", device_label(device), threads_label(threads)),
        other => device_label(other).into(),
    }
}

/// The header: name, device picker and what the current run trains on.
#[component]
fn Header() -> impl IntoView {
    let builder = use_builder();
    let run = use_current_run();
    let worker = use_worker();
    view! {
        <header class="top">
            <div class="brand">
                <svg class="logo" viewBox="0 0 64 64" width="22" height="22" aria-hidden="true">
                    <path d="M32 4c4 10 16 16 16 32a16 16 0 0 1-32 0c0-8 4-12 8-16 0 6 2 10 6 12-2-10 2-20 2-28z" fill="#f26b1d"></path>
                    <path d="M32 30c2 6 8 8 8 16a8 8 0 0 1-16 0c0-5 3-7 5-9 0 3 1 5 3 6-1-5 0-9 0-13z" fill="#ffc04d"></path>
                </svg>
                <h1>"Kindling"</h1>
                <span class="tagline">"train real neural networks in your browser"</span>
            </div>
            <div class="device-box" data-lesson="device">
                <label for="device">"Device"</label>
                <select
                    id="device"
                    data-testid="device"
                    on:change=move |ev| {
                        let value = event_target_value(&ev);
                        builder.device.set(match DeviceChoice::parse(&value) {
                            Some(device) => DeviceWanted::Chosen(device),
                            None => DeviceWanted::Fastest,
                        });
                    }
                >
                    <option value="auto" selected=move || builder.device.get() == DeviceWanted::Fastest>
                        "Fastest here (measured)"
                    </option>
                    <option
                        value="wgpu"
                        selected=move || builder.device.get() == DeviceWanted::Chosen(DeviceChoice::Wgpu)
                        disabled=move || worker.webgpu.get() != Some(true)
                    >
                        {move || match worker.webgpu.get() {
                            Some(false) => "WebGPU (not available here)",
                            _ => "WebGPU",
                        }}
                    </option>
                    <option value="cpu" selected=move || builder.device.get() == DeviceWanted::Chosen(DeviceChoice::Cpu)>
                        "CPU (wasm SIMD)"
                    </option>
                </select>
                <span
                    class="cpu-threads"
                    data-testid="cpu-threads"
                    title=move || worker.threads.get().map(|t| t.note).unwrap_or_default()
                >
                    {move || worker.threads.get().map(|t| format!(
                        "CPU: {} ({})",
                        threads_label(t.available),
                        t.reason
                    ))}
                </span>
                <span class="device-status" data-testid="device-status">
                    {move || match (worker.ready.get(), run.device_used.get()) {
                        (false, _) => "starting the worker…".to_string(),
                        (true, Some((d, _))) if run.trying_threads.get() => format!(
                            "last run on {}, trying 1 thread against {} on its first batches",
                            device_label(d),
                            threads_label(worker.cpu_threads_available())
                        ),
                        (true, Some((d, threads))) => match run.device_speeds.get().filter(|s| !s.speeds.is_empty()) {
                            Some(speeds) => format!(
                                "last run on {}, the faster for its model ({})",
                                used_label(d, threads),
                                speeds.summary()
                            ),
                            None => format!("last run on {}", used_label(d, threads)),
                        },
                        (true, None) => match worker.webgpu.get() {
                            Some(true) => "WebGPU adapter found".to_string(),
                            _ => "no WebGPU adapter: CPU only".to_string(),
                        },
                    }}
                </span>
            </div>
        </header>
    }
}

/// The whole page.
#[component]
pub fn App() -> impl IntoView {
    provide_session();
    view! {
        <Header />
        <crate::components::lesson::LessonBanner />
        <main class="layout">
            <BuilderPanel />
            <TrainingPanel />
            <TryItPanel />
            <RunsPanel />
            <SweepPanel />
        </main>
        <About />
    }
}

/// Mounts the page on `<body>`.
pub fn mount() {
    leptos::mount::mount_to_body(App);
}
