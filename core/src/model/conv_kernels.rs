//! A 2-D convolution and both its gradients as matrix products (im2col), over plain `f32`
//! slices in NCHW layout: what the CPU device runs for [`super::conv_ops`].
//!
//! The batch is cut into groups of a few images, fixed by the geometry alone (never by the
//! number of threads, so a run gives the same numbers on any machine). Each group unfolds its
//! images' patches into one matrix `col` [c*kh*kw, g*oh*ow] and then:
//! - forward: `y = W col + b`, one product [f, c*kh*kw] x [c*kh*kw, g*oh*ow];
//! - weight gradient: `dW += dy col^T`, one product with the group's positions as the inner
//!   dimension, and the bias gradient the sums of `dy`'s rows, per group, added up in group
//!   order;
//! - input gradient: `dcol = W^T dy`, folded back onto the images (col2im).
//!
//! Groups run in parallel on rayon's threads where the build has them (natively, and in the
//! browser worker's threaded build), each product single-threaded inside its group.

use super::parallel;

/// Positions (output pixels) a group aims for: enough columns that a product keeps the
/// GEMM's microkernels busy, few enough that its scratch matrices stay in cache.
const GROUP_POSITIONS: usize = 512;

/// The most images one group holds.
const MAX_GROUP: usize = 16;

/// The most values one group's unfolded patches may hold (64 MiB of `f32`): past it the
/// caller uses burn's own convolution.
const MAX_GROUP_COLUMNS_LEN: usize = 16 << 20;

/// One 2-D convolution's shapes: NCHW input, [filters, channels, kh, kw] kernel, dilation 1
/// and one group.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ConvGeometry {
    /// Images in the batch.
    pub batch: usize,
    /// Input channels.
    pub channels: usize,
    /// Input height and width.
    pub size: [usize; 2],
    /// Output channels.
    pub filters: usize,
    /// Kernel height and width.
    pub kernel: [usize; 2],
    /// Stride along height and width (>= 1).
    pub stride: [usize; 2],
    /// (before, after) padding along height and width.
    pub padding: [(usize, usize); 2],
}

impl ConvGeometry {
    /// The output's height and width, `None` when the kernel does not fit or a stride is 0.
    pub fn output_size(&self) -> Option<[usize; 2]> {
        let side = |d: usize| -> Option<usize> {
            let (before, after) = self.padding[d];
            let padded = self.size[d].checked_add(before)?.checked_add(after)?;
            let stride = self.stride[d];
            (stride > 0 && self.kernel[d] > 0 && padded >= self.kernel[d])
                .then(|| (padded - self.kernel[d]) / stride + 1)
        };
        Some([side(0)?, side(1)?])
    }

    /// Values of one input image.
    fn image_len(&self) -> usize {
        self.channels * self.size[0] * self.size[1]
    }

    /// Rows of the unfolded patches: c * kh * kw.
    fn patch_len(&self) -> usize {
        self.channels * self.kernel[0] * self.kernel[1]
    }

    /// Output positions of one image: oh * ow.
    fn positions(&self) -> usize {
        let [oh, ow] = self.output_size().expect("a checked geometry");
        oh * ow
    }

    /// Images per group.
    fn group(&self) -> usize {
        images_per_group(self.positions()).min(self.batch.max(1))
    }

    /// Whether the matrix kernels can run it: every size fits `usize` on this target with
    /// room to spare and a group's scratch matrices stay small. (Sizes come from tensors that
    /// exist, but products of them can still overflow a 32-bit `usize`.)
    pub fn fits(&self) -> bool {
        let Some([oh, ow]) = self.output_size() else {
            return false;
        };
        let sizes = || -> Option<()> {
            let positions = oh.checked_mul(ow)?;
            let patch = self
                .channels
                .checked_mul(self.kernel[0])?
                .checked_mul(self.kernel[1])?;
            let group = images_per_group(positions);
            let columns = patch.checked_mul(positions)?.checked_mul(group)?;
            let outputs = self.filters.checked_mul(positions)?.checked_mul(group)?;
            let image = self
                .channels
                .checked_mul(self.size[0])?
                .checked_mul(self.size[1])?;
            self.batch.checked_mul(image)?;
            self.batch
                .checked_mul(self.filters)?
                .checked_mul(positions)?;
            self.filters.checked_mul(patch)?;
            (columns <= MAX_GROUP_COLUMNS_LEN && outputs <= MAX_GROUP_COLUMNS_LEN).then_some(())
        };
        self.batch > 0 && self.channels > 0 && self.filters > 0 && sizes().is_some()
    }
}

/// Images per group for images of `positions` output positions (before the batch caps it).
fn images_per_group(positions: usize) -> usize {
    GROUP_POSITIONS
        .div_ceil(positions.max(1))
        .clamp(1, MAX_GROUP)
}

/// A matrix view of a slice: element (i, j) at `i * row_stride + j * column_stride`.
#[derive(Clone, Copy)]
struct View<'a> {
    values: &'a [f32],
    rows: usize,
    columns: usize,
    row_stride: usize,
    column_stride: usize,
}

impl<'a> View<'a> {
    /// A row-major matrix.
    fn rows(values: &'a [f32], rows: usize, columns: usize) -> Self {
        View {
            values,
            rows,
            columns,
            row_stride: columns,
            column_stride: 1,
        }
    }

    /// The transpose of a row-major [columns, rows] matrix.
    fn transposed(values: &'a [f32], rows: usize, columns: usize) -> Self {
        View {
            values,
            rows,
            columns,
            row_stride: 1,
            column_stride: rows,
        }
    }

    /// Whether every element lies inside the slice.
    fn in_bounds(&self) -> bool {
        self.rows == 0
            || self.columns == 0
            || (self.rows - 1) * self.row_stride + (self.columns - 1) * self.column_stride
                < self.values.len()
    }
}

/// `dst` [m, n] (row-major) = `lhs` [m, k] x `rhs` [k, n], added to `dst` when `accumulate`.
/// On the calling thread: the groups are what runs in parallel.
fn matmul(dst: &mut [f32], accumulate: bool, lhs: View, rhs: View) {
    let (m, k, n) = (lhs.rows, lhs.columns, rhs.columns);
    assert_eq!(rhs.rows, k, "inner dimensions of a product");
    assert!(dst.len() >= m * n && lhs.in_bounds() && rhs.in_bounds());
    if m == 0 || n == 0 {
        return;
    }
    if k == 0 {
        if !accumulate {
            dst[..m * n].fill(0.0);
        }
        return;
    }
    // SAFETY: the asserts above keep every element gemm reads in `lhs` and `rhs` and every
    // element it writes in `dst` (row-major [m, n]) inside its slice; `dst` is borrowed
    // mutably, so it aliases neither input.
    unsafe {
        gemm::gemm(
            m,
            n,
            k,
            dst.as_mut_ptr(),
            1,
            n as isize,
            accumulate,
            lhs.values.as_ptr(),
            lhs.column_stride as isize,
            lhs.row_stride as isize,
            rhs.values.as_ptr(),
            rhs.column_stride as isize,
            rhs.row_stride as isize,
            1.0,
            1.0,
            false,
            false,
            false,
            gemm::Parallelism::None,
        );
    }
}

/// The output columns `ox` of one kernel column `kj` that read inside the input row (the
/// others read padding): `lo..hi`.
fn valid_columns(geometry: &ConvGeometry, kj: usize, out_width: usize) -> (usize, usize) {
    let (before, _) = geometry.padding[1];
    let stride = geometry.stride[1];
    let width = geometry.size[1];
    // ix = ox * stride + kj - before must lie in 0..width.
    let lo = before.saturating_sub(kj).div_ceil(stride);
    let hi = (width + before).saturating_sub(kj).div_ceil(stride);
    (lo.min(out_width), hi.min(out_width).max(lo.min(out_width)))
}

/// One output row of one patch row in an image's unfolded patches.
struct PatchRun {
    /// Where in `col` the row's first position lies.
    at: usize,
    /// Where in the image position `valid.0` reads; `None` when every position reads padding.
    source: Option<usize>,
    /// The positions `lo..hi` that read inside the image (the others read padding).
    valid: (usize, usize),
}

/// Walks one image's patches in `col` order: patch row `(c * kh + ki) * kw + kj` (rows
/// `row_stride` apart), output row `oy` (positions `oy * ow..(oy + 1) * ow` of it), reading the
/// input at (`oy * sh + ki - pt`, `ox * sw + kj - pl`). What [`unfold`] and [`fold`] share.
#[inline(always)]
fn walk_patches(geometry: &ConvGeometry, row_stride: usize, mut visit: impl FnMut(PatchRun)) {
    let [height, width] = geometry.size;
    let [kh, kw] = geometry.kernel;
    let [sh, sw] = geometry.stride;
    let (top, _) = geometry.padding[0];
    let (left, _) = geometry.padding[1];
    let [oh, ow] = geometry.output_size().expect("a checked geometry");
    for c in 0..geometry.channels {
        for ki in 0..kh {
            for kj in 0..kw {
                let row_start = ((c * kh + ki) * kw + kj) * row_stride;
                let (lo, hi) = valid_columns(geometry, kj, ow);
                for oy in 0..oh {
                    let iy = (oy * sh + ki).wrapping_sub(top);
                    let source = (iy < height && lo < hi)
                        .then(|| (c * height + iy) * width + lo * sw + kj - left);
                    visit(PatchRun {
                        at: row_start + oy * ow,
                        source,
                        valid: (lo, hi),
                    });
                }
            }
        }
    }
}

/// Unfolds one image's patches into `col` (see [`walk_patches`]): the input value each
/// position reads, or 0 in the padding. Only this image's columns are written.
fn unfold(geometry: &ConvGeometry, image: &[f32], col: &mut [f32], row_stride: usize) {
    let [_, ow] = geometry.output_size().expect("a checked geometry");
    let sw = geometry.stride[1];
    walk_patches(geometry, row_stride, |run| {
        let out = &mut col[run.at..run.at + ow];
        let Some(first) = run.source else {
            out.fill(0.0);
            return;
        };
        let (lo, hi) = run.valid;
        out[..lo].fill(0.0);
        out[hi..].fill(0.0);
        if sw == 1 {
            copy_run(&mut out[lo..hi], &image[first..first + (hi - lo)]);
        } else {
            for (o, ix) in out[lo..hi].iter_mut().zip((first..).step_by(sw)) {
                *o = image[ix];
            }
        }
    });
}

/// Copies `src` into `dst` (equal lengths). The runs of an unfold are short (a row of output
/// positions: 8 values in the seed CNN's second layer, a million runs per batch), so short
/// runs are copied in blocks of 8 inline rather than through a `memcpy` call each.
#[inline(always)]
fn copy_run(dst: &mut [f32], src: &[f32]) {
    if dst.len() > 32 {
        dst.copy_from_slice(src);
        return;
    }
    let mut to = dst.chunks_exact_mut(8);
    let mut from = src.chunks_exact(8);
    for (d, s) in (&mut to).zip(&mut from) {
        d.copy_from_slice(s);
    }
    let (to, from) = (to.into_remainder(), from.remainder());
    let mut to = to.chunks_exact_mut(2);
    let mut from = from.chunks_exact(2);
    for (d, s) in (&mut to).zip(&mut from) {
        d.copy_from_slice(s);
    }
    if let ([a], [x]) = (to.into_remainder(), from.remainder()) {
        *a = *x;
    }
}

/// Folds one image's columns of `dcol` back onto it: the transpose of [`unfold`], adding
/// every patch value to the input element it was read from (`image` is overwritten).
fn fold(geometry: &ConvGeometry, dcol: &[f32], row_stride: usize, image: &mut [f32]) {
    let sw = geometry.stride[1];
    image.fill(0.0);
    walk_patches(geometry, row_stride, |run| {
        let Some(first) = run.source else {
            return;
        };
        let (lo, hi) = run.valid;
        let src = &dcol[run.at + lo..run.at + hi];
        if sw == 1 {
            for (d, s) in image[first..first + (hi - lo)].iter_mut().zip(src) {
                *d += s;
            }
        } else {
            for (s, ix) in src.iter().zip((first..).step_by(sw)) {
                image[ix] += s;
            }
        }
    });
}

/// One group's share of a backward pass: its images, their output gradients and, when the
/// input's gradient is asked for, the images' slice of it.
type GroupOfBackward<'a> = ((&'a [f32], &'a [f32]), Option<&'a mut [f32]>);

/// The gradients of one convolution.
#[derive(Debug, Clone, PartialEq)]
pub struct ConvGradients {
    /// Of the input, [batch, channels, height, width], when asked for.
    pub input: Option<Vec<f32>>,
    /// Of the kernel, [filters, channels, kh, kw].
    pub weight: Vec<f32>,
    /// Of the bias, [filters].
    pub bias: Vec<f32>,
}

/// The convolution of `x` [batch, channels, h, w] with `weight` [filters, channels, kh, kw]
/// plus `bias` [filters]: [batch, filters, oh, ow]. `geometry` must [fit](ConvGeometry::fits).
pub fn conv2d(geometry: &ConvGeometry, x: &[f32], weight: &[f32], bias: &[f32]) -> Vec<f32> {
    assert!(geometry.fits(), "conv2d on a geometry that does not fit");
    let (image, patch, positions) = (
        geometry.image_len(),
        geometry.patch_len(),
        geometry.positions(),
    );
    let (filters, group) = (geometry.filters, geometry.group());
    assert_eq!(x.len(), geometry.batch * image);
    assert_eq!(weight.len(), filters * patch);
    assert_eq!(bias.len(), filters);
    let out_image = filters * positions;
    let mut y = vec![0.0f32; geometry.batch * out_image];
    let scratch = || {
        (
            vec![0.0f32; patch * group * positions],
            vec![0.0f32; filters * group * positions],
        )
    };
    let work = |(col, product): &mut (Vec<f32>, Vec<f32>), (out, images): (&mut [f32], &[f32])| {
        let count = images.len() / image;
        let width = count * positions;
        for (i, one) in images.chunks(image).enumerate() {
            unfold(geometry, one, &mut col[i * positions..], width);
        }
        for (row, b) in product[..filters * width].chunks_mut(width).zip(bias) {
            row.fill(*b);
        }
        matmul(
            &mut product[..filters * width],
            true,
            View::rows(weight, filters, patch),
            View::rows(&col[..patch * width], patch, width),
        );
        // [filters, count * positions] -> [count, filters, positions]
        for (i, out) in out.chunks_mut(out_image).enumerate() {
            for (f, dst) in out.chunks_mut(positions).enumerate() {
                let from = f * width + i * positions;
                dst.copy_from_slice(&product[from..from + positions]);
            }
        }
    };
    let groups = y
        .chunks_mut(group * out_image)
        .zip(x.chunks(group * image))
        .collect();
    parallel::map_init(groups, scratch, work);
    y
}

/// The gradients of [`conv2d`] from the gradient of its output `dy` [batch, filters, oh, ow];
/// the input's only when `input_gradient`.
pub fn conv2d_backward(
    geometry: &ConvGeometry,
    x: &[f32],
    weight: &[f32],
    dy: &[f32],
    input_gradient: bool,
) -> ConvGradients {
    assert!(
        geometry.fits(),
        "conv2d_backward on a geometry that does not fit"
    );
    let (image, patch, positions) = (
        geometry.image_len(),
        geometry.patch_len(),
        geometry.positions(),
    );
    let (filters, group) = (geometry.filters, geometry.group());
    let out_image = filters * positions;
    assert_eq!(x.len(), geometry.batch * image);
    assert_eq!(weight.len(), filters * patch);
    assert_eq!(dy.len(), geometry.batch * out_image);
    let mut dx = if input_gradient {
        vec![0.0f32; x.len()]
    } else {
        Vec::new()
    };
    let scratch = || {
        (
            vec![0.0f32; patch * group * positions],
            vec![0.0f32; filters * group * positions],
        )
    };
    // One group: its partial weight and bias gradients, and its images' input gradients.
    let work = |(col, grouped): &mut (Vec<f32>, Vec<f32>), ((images, dys), dx): GroupOfBackward| {
        let count = images.len() / image;
        let width = count * positions;
        // [count, filters, positions] -> [filters, count * positions]
        for (i, one) in dys.chunks(out_image).enumerate() {
            for (f, src) in one.chunks(positions).enumerate() {
                let to = f * width + i * positions;
                grouped[to..to + positions].copy_from_slice(src);
            }
        }
        let dy_group = &grouped[..filters * width];
        let bias: Vec<f32> = dy_group.chunks(width).map(|row| row.iter().sum()).collect();
        for (i, one) in images.chunks(image).enumerate() {
            unfold(geometry, one, &mut col[i * positions..], width);
        }
        let mut dw = vec![0.0f32; filters * patch];
        matmul(
            &mut dw,
            false,
            View::rows(dy_group, filters, width),
            View::transposed(&col[..patch * width], width, patch),
        );
        if let Some(dx) = dx {
            let dcol = &mut col[..patch * width];
            matmul(
                dcol,
                false,
                View::transposed(weight, patch, filters),
                View::rows(dy_group, filters, width),
            );
            for (i, one) in dx.chunks_mut(image).enumerate() {
                fold(geometry, &dcol[i * positions..], width, one);
            }
        }
        (dw, bias)
    };
    let dx_groups: Vec<Option<&mut [f32]>> = if input_gradient {
        dx.chunks_mut(group * image).map(Some).collect()
    } else {
        (0..geometry.batch.div_ceil(group)).map(|_| None).collect()
    };
    let groups = x
        .chunks(group * image)
        .zip(dy.chunks(group * out_image))
        .zip(dx_groups)
        .collect();
    let partials = parallel::map_init(groups, scratch, work);
    // Added up in group order: the same sums whatever the number of threads.
    let mut partials = partials.into_iter();
    let (mut weight_gradient, mut bias_gradient) = partials
        .next()
        .unwrap_or_else(|| (vec![0.0; filters * patch], vec![0.0; filters]));
    for (dw, db) in partials {
        weight_gradient
            .iter_mut()
            .zip(&dw)
            .for_each(|(a, b)| *a += b);
        bias_gradient.iter_mut().zip(&db).for_each(|(a, b)| *a += b);
    }
    ConvGradients {
        input: input_gradient.then_some(dx),
        weight: weight_gradient,
        bias: bias_gradient,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The convolution written out per number.
    fn direct(g: &ConvGeometry, x: &[f32], w: &[f32], b: &[f32]) -> Vec<f32> {
        let [h, wd] = g.size;
        let [kh, kw] = g.kernel;
        let [oh, ow] = g.output_size().unwrap();
        let mut y = Vec::new();
        for n in 0..g.batch {
            for f in 0..g.filters {
                for oy in 0..oh {
                    for ox in 0..ow {
                        let mut sum = b[f];
                        for c in 0..g.channels {
                            for ki in 0..kh {
                                for kj in 0..kw {
                                    let iy =
                                        (oy * g.stride[0] + ki) as isize - g.padding[0].0 as isize;
                                    let ix =
                                        (ox * g.stride[1] + kj) as isize - g.padding[1].0 as isize;
                                    if iy < 0 || ix < 0 || iy >= h as isize || ix >= wd as isize {
                                        continue;
                                    }
                                    let (iy, ix) = (iy as usize, ix as usize);
                                    sum += x[((n * g.channels + c) * h + iy) * wd + ix]
                                        * w[((f * g.channels + c) * kh + ki) * kw + kj];
                                }
                            }
                        }
                        y.push(sum);
                    }
                }
            }
        }
        y
    }

    fn numbers(len: usize, salt: usize) -> Vec<f32> {
        (0..len)
            .map(|i| (((i * 37 + salt * 11) % 29) as f32 - 14.0) / 9.0)
            .collect()
    }

    fn geometries() -> Vec<ConvGeometry> {
        let g = |batch, channels, size, filters, kernel, stride, padding| ConvGeometry {
            batch,
            channels,
            size,
            filters,
            kernel,
            stride,
            padding,
        };
        vec![
            // The seed CNN's two layers, on a small batch.
            g(3, 1, [28, 28], 4, [5, 5], [1, 1], [(0, 0), (0, 0)]),
            g(5, 3, [12, 12], 6, [5, 5], [1, 1], [(0, 0), (0, 0)]),
            // TensorFlow's "same" padding, asymmetric with stride 2, and a rectangular kernel.
            g(2, 2, [7, 6], 3, [3, 3], [2, 2], [(0, 1), (1, 1)]),
            g(2, 2, [9, 8], 3, [2, 3], [1, 3], [(1, 0), (2, 1)]),
            // Batches that do not divide into groups.
            g(37, 1, [6, 6], 2, [3, 3], [1, 1], [(1, 1), (1, 1)]),
        ]
    }

    fn close(got: &[f32], want: &[f32], what: &str) {
        assert_eq!(got.len(), want.len(), "{what}");
        let scale = want.iter().fold(1.0f32, |m, v| m.max(v.abs()));
        for (i, (a, b)) in got.iter().zip(want).enumerate() {
            assert!((a - b).abs() <= 1e-5 * scale, "{what} [{i}]: {a} vs {b}");
        }
    }

    #[test]
    fn the_product_form_equals_the_convolution_written_out() {
        for g in geometries() {
            assert!(g.fits(), "{g:?}");
            let x = numbers(g.batch * g.image_len(), 1);
            let w = numbers(g.filters * g.patch_len(), 2);
            let b = numbers(g.filters, 3);
            close(
                &conv2d(&g, &x, &w, &b),
                &direct(&g, &x, &w, &b),
                &format!("{g:?}"),
            );
        }
    }

    /// Each gradient is checked as the derivative of `sum(dy * conv(x))`: that sum is linear
    /// in each of x, w and b, so its gradient is exact: the value of the sum with one input
    /// set to a unit vector (others zero where linear) picks out that gradient's element.
    #[test]
    fn the_gradients_are_the_convolutions_derivatives() {
        for g in geometries() {
            let x = numbers(g.batch * g.image_len(), 4);
            let w = numbers(g.filters * g.patch_len(), 5);
            let b = numbers(g.filters, 6);
            let dy = numbers(g.batch * g.filters * g.positions(), 7);
            let grads = conv2d_backward(&g, &x, &w, &dy, true);
            let zero_bias = vec![0.0; g.filters];
            let dot = |y: Vec<f32>| y.iter().zip(&dy).map(|(a, b)| a * b).sum::<f32>();
            let unit = |len: usize, at: usize| {
                let mut v = vec![0.0f32; len];
                v[at] = 1.0;
                v
            };
            let want_dx: Vec<f32> = (0..x.len())
                .map(|i| dot(direct(&g, &unit(x.len(), i), &w, &zero_bias)))
                .collect();
            let want_dw: Vec<f32> = (0..w.len())
                .map(|i| dot(direct(&g, &x, &unit(w.len(), i), &zero_bias)))
                .collect();
            let zero_w = vec![0.0; w.len()];
            let want_db: Vec<f32> = (0..b.len())
                .map(|i| dot(direct(&g, &x, &zero_w, &unit(b.len(), i))))
                .collect();
            close(
                grads.input.as_ref().unwrap(),
                &want_dx,
                &format!("dx {g:?}"),
            );
            close(&grads.weight, &want_dw, &format!("dw {g:?}"));
            close(&grads.bias, &want_db, &format!("db {g:?}"));
            let without = conv2d_backward(&g, &x, &w, &dy, false);
            assert_eq!(without.input, None);
            assert_eq!((without.weight, without.bias), (grads.weight, grads.bias));
        }
    }

    #[test]
    fn geometries_that_overflow_or_do_not_fit_are_refused() {
        let mut g = geometries()[0];
        g.kernel = [29, 5];
        assert!(!g.fits(), "a kernel taller than the image");
        let mut g = geometries()[0];
        g.stride = [0, 1];
        assert!(!g.fits(), "a zero stride");
        let mut g = geometries()[0];
        g.channels = usize::MAX / 3;
        assert!(!g.fits(), "sizes that overflow");
        let mut g = geometries()[0];
        g.channels = 4096;
        g.kernel = [11, 11];
        assert!(!g.fits(), "a group's patches past the cap");
    }
}
