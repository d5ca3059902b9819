"""Summarises a `perf record` profile of Kindling's native training by what the time went to.

Usage: python3 xtask/bench/perf_summary.py PERF_DATA [TITLE]

Prints the share of all samples (both cores) in each kind of work (GEMM, convolution data
movement, dropout masks, element-wise kernels, ...), from the symbols' names, then the top
symbols. BENCHMARKS.md ("Where Kindling falls short") says how each profile was recorded;
the summaries it quotes are kept in benchmarks/profiles/.
"""

import collections
import re
import subprocess
import sys

# First match wins: the order matters where patterns overlap.
KINDS = [
    ("GEMM microkernels (gemm crate)", r"gemm_f32::microkernel|gemm_basic"),
    ("GEMM packing (gemm crate)", r"gemm_common"),
    ("convolution data movement (im2col tiles, NCHW->NHWC, scatter)",
     r"consume_iter|call_mut|conv3d_f32|conv_transpose|im2col"),
    ("dropout masks (random numbers, one thread)",
     r"ElementRandom|Distribution::sampler|TensorData::random|chacha|rand::"),
    ("element-wise kernels (burn flex, SIMD)",
     r"macerator|scalar_op|unary_op|binary_op|zip_apply|zip_map|"
     r"burn_flex::ops::(activation|comparison|mask|reduce)"),
    ("scalar tanh/exp (libm, per element)", r"__tanhf|__expm1f|__expf|__logf|libm"),
    ("copies and fills (memmove, memset, flex's tiled copy)",
     r"memmove|memset|memcpy|copy_2d_tiled"),
    ("page zeroing and faults (kernel)",
     r"clear_page|page_fault|do_anonymous_page|handle_mm_fault|folio"),
    ("scheduling, idle rayon threads (kernel)",
     r"sched|task_switch|spin_unlock|futex|rayon_core"),
    ("allocator", r"_mi_|mi_free|mi_malloc|malloc|cfree"),
    ("batch gathering (Kindling's batcher)", r"from_iter|Dataset::batch"),
    ("autodiff graph bookkeeping (burn autodiff)", r"burn_autodiff"),
]


def main():
    data = sys.argv[1]
    title = sys.argv[2] if len(sys.argv) > 2 else data
    report = subprocess.run(
        ["perf", "report", "-i", data, "--no-children", "--sort", "sym", "--stdio"],
        capture_output=True, text=True, check=True).stdout
    samples = re.search(r"# Samples: (\S+)", report)
    shares = collections.Counter()
    symbols = []
    for line in report.splitlines():
        m = re.match(r"\s+([\d.]+)%\s+\[(.)\]\s+(.*)", line)
        if not m:
            continue
        share, symbol = float(m.group(1)), m.group(3).strip()
        symbols.append((share, symbol))
        kind = next((k for k, rx in KINDS if re.search(rx, symbol)), "other")
        shares[kind] += share
    print(f"# {title}")
    print(f"perf samples: {samples.group(1) if samples else '?'}\n")
    print("share  kind of work")
    for kind in [k for k, _ in KINDS] + ["other"]:
        if shares[kind] >= 0.5:
            print(f"{shares[kind]:5.1f}%  {kind}")
    print("\ntop symbols")
    for share, symbol in symbols[:25]:
        print(f"{share:5.1f}%  {symbol[:150]}")


if __name__ == "__main__":
    main()
