//! Mutation tests of every decoder (share links, CSV and idx uploads with gzip, model files):
//! hundreds of mutants of a valid input each (`kindling_core::mutations`), none of which may
//! panic or make the decoder allocate beyond its stated limit, nor beyond a small multiple of
//! its input (so that a length field cannot make a small input allocate much). The same
//! mutants run in wasm32 in the app's `decoder_tests.rs`.
//!
//! Allocation is measured with a counting global allocator: the peak of the bytes held during
//! one decode, above those held before it (a `realloc` counts as its size change). The tests
//! of this binary take turns (a lock), so the count is theirs alone.

use std::alloc::{GlobalAlloc, Layout, System};
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;

use kindling_core::data::csv::MAX_CLASSES;
use kindling_core::data::idx::encode_idx;
use kindling_core::data::upload::{decode_upload, MAX_UPLOAD_BYTES};
use kindling_core::link::{decode_link, LinkError, MAX_LINK_CHARS};
use kindling_core::model::weights::weights_of;
use kindling_core::mutations::{
    gzip_of_zeros, link_of_payload, mutants, sample_run, targets, Mutant,
};

/// The system allocator, counting the bytes it holds and their peak.
struct Counting;

static HELD: AtomicUsize = AtomicUsize::new(0);
static PEAK: AtomicUsize = AtomicUsize::new(0);

fn grew(bytes: usize) {
    let held = HELD.fetch_add(bytes, Ordering::Relaxed) + bytes;
    PEAK.fetch_max(held, Ordering::Relaxed);
}

fn shrank(bytes: usize) {
    HELD.fetch_sub(bytes, Ordering::Relaxed);
}

// SAFETY: every call is passed to `System` unchanged; the counters only observe sizes.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        let p = unsafe { System.alloc(layout) };
        if !p.is_null() {
            grew(layout.size());
        }
        p
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        let p = unsafe { System.alloc_zeroed(layout) };
        if !p.is_null() {
            grew(layout.size());
        }
        p
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        unsafe { System.dealloc(ptr, layout) };
        shrank(layout.size());
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        let p = unsafe { System.realloc(ptr, layout, new_size) };
        if !p.is_null() {
            if new_size >= layout.size() {
                grew(new_size - layout.size());
            } else {
                shrank(layout.size() - new_size);
            }
        }
        p
    }
}

#[global_allocator]
static ALLOCATOR: Counting = Counting;

/// One measurement at a time.
static TURN: Mutex<()> = Mutex::new(());

/// Runs `f`, returning what it returned and the most bytes it held at once beyond those held
/// before it.
fn peak_of<T>(f: impl FnOnce() -> T) -> (T, usize) {
    let before = HELD.load(Ordering::Relaxed);
    PEAK.store(before, Ordering::Relaxed);
    let out = f();
    (out, PEAK.load(Ordering::Relaxed).saturating_sub(before))
}

/// Mutants per target: 300, or `KINDLING_MUTANTS` (a longer search).
fn mutant_count() -> usize {
    std::env::var("KINDLING_MUTANTS")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(300)
}

/// The weights of [`sample_run`]'s model.
fn sample_weights() -> Vec<u8> {
    let run = sample_run();
    let device = burn::tensor::Device::flex();
    let model = run.config.model.init(&device).unwrap();
    kindling_core::block_on(weights_of(&model, &run.config.model)).unwrap()
}

#[test]
fn mutants_of_every_decoder_never_panic_nor_allocate_beyond_their_limits() {
    let _turn = TURN.lock().unwrap_or_else(|e| e.into_inner());
    let mut failures = Vec::new();
    let mut summary = Vec::new();
    let count = mutant_count();
    for (seed, target) in targets(sample_weights()).into_iter().enumerate() {
        // The valid input itself decodes.
        if let Err(e) = (target.decode)(&(target.prepare)(&target.valid)) {
            failures.push(format!("{}: the valid input is refused: {e}", target.name));
        }
        let (mut accepted, mut most, mut most_by) = (0, 0usize, String::new());
        for mutant in mutants(&target.valid, &target.length_fields, seed as u64, count) {
            let describe = |m: &Mutant| format!("{}: {m}", target.name);
            let input = (target.prepare)(&mutant.bytes);
            let run = catch_unwind(AssertUnwindSafe(|| peak_of(|| (target.decode)(&input))));
            match run {
                Err(panic) => {
                    let message = panic
                        .downcast_ref::<String>()
                        .cloned()
                        .or_else(|| panic.downcast_ref::<&str>().map(|s| s.to_string()))
                        .unwrap_or_default();
                    failures.push(format!("{} panicked: {message}", describe(&mutant)));
                }
                Ok((result, peak)) => {
                    accepted += usize::from(result.is_ok());
                    let bound = (target.bound)(input.len()).min(target.stated_limit);
                    if peak as u64 > bound {
                        failures.push(format!(
                            "{} allocated {peak} bytes, more than {bound}",
                            describe(&mutant)
                        ));
                    }
                    if peak > most {
                        (most, most_by) = (peak, describe(&mutant));
                    }
                }
            }
        }
        summary.push(format!(
            "{}: {count} mutants, {accepted} accepted, peak {most} bytes ({most_by})",
            target.name
        ));
    }
    println!("{}", summary.join("\n"));
    let shown: Vec<&String> = failures.iter().take(40).collect();
    assert!(
        failures.is_empty(),
        "{} failures, the first {}:\n{}",
        failures.len(),
        shown.len(),
        shown
            .iter()
            .map(|s| s.as_str())
            .collect::<Vec<_>>()
            .join("\n")
    );
}

/// One MB of margin over a stated limit: the dataset's labels, names and error messages.
const MARGIN: usize = 1 << 20;

#[test]
fn a_gzip_bomb_stops_at_the_upload_limit() {
    let _turn = TURN.lock().unwrap_or_else(|e| e.into_inner());
    // 300 MB of zero pixels behind an idx header that claims them, in about 300 kB with
    // flate2's miniz backend and 3 MB with zlib-rs (which burn-store's PyTorch reader turns
    // on natively): a hundredth of what it inflates to either way.
    let pixels = 300 << 20;
    let header = encode_idx(&[300 << 10, 32, 32], &[]);
    let bomb = gzip_of_zeros(&header, pixels);
    assert!(bomb.len() < pixels / 100, "{} bytes", bomb.len());
    let labels = encode_idx(&[300 << 10], &vec![0; 300 << 10]);
    let (result, peak) = peak_of(|| decode_upload(&[("bomb.idx3.gz", &bomb), ("l.idx1", &labels)]));
    let e = result.unwrap_err().to_string();
    assert_eq!(
        e,
        "bomb.idx3.gz, byte 0: inflates to more than 200 MB, the limit of an upload"
    );
    assert!(peak <= MAX_UPLOAD_BYTES + 1 + MARGIN, "{peak} bytes");
    println!("a 300 MB gzip bomb: refused after holding {peak} bytes at most");

    // Two files that inflate to 150 MB each: the second stops at what is left (50 MB).
    let half = gzip_of_zeros(&encode_idx(&[150 << 10, 32, 32], &[]), 150 << 20);
    let (result, peak) = peak_of(|| decode_upload(&[("a.gz", &half), ("b.gz", &half)]));
    let e = result.unwrap_err().to_string();
    assert!(
        e.starts_with("b.gz, byte 0: inflates to more than ")
            && e.contains("what is left of the 200 MB an upload may have after a.gz"),
        "{e}"
    );
    assert!(peak <= MAX_UPLOAD_BYTES + 1 + MARGIN, "{peak} bytes");
}

#[test]
fn a_many_class_csv_is_refused_with_its_limit() {
    let _turn = TURN.lock().unwrap_or_else(|e| e.into_inner());
    let rows: String = (0..5000).map(|i| format!("{i},class{i}\n")).collect();
    let csv = format!("x,label\n{rows}");
    let (result, peak) = peak_of(|| decode_upload(&[("many.csv", csv.as_bytes())]));
    let e = result.unwrap_err().to_string();
    assert!(
        e.starts_with("many.csv, line 1002, column 2 (label): label \"class1000\"")
            && e.contains(&format!("than the {MAX_CLASSES} classes")),
        "{e}"
    );
    assert!(peak < 32 * csv.len() + (256 << 10), "{peak} bytes");
}

#[test]
fn a_link_that_inflates_too_far_is_refused_within_its_limit() {
    let _turn = TURN.lock().unwrap_or_else(|e| e.into_inner());
    // 16 MB of zeros deflate to about 16 kB: a link just under its length limit.
    let fragment = link_of_payload(&vec![0; 10 << 20]);
    assert!(fragment.len() < MAX_LINK_CHARS, "{}", fragment.len());
    let (result, peak) = peak_of(|| decode_link(&fragment));
    assert!(matches!(result, Err(LinkError::Oversized(_))), "{result:?}");
    assert!(peak < 4 << 20, "{peak} bytes");
}
