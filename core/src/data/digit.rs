//! Turns a drawing into the 28x28 input MNIST models read, the way MNIST itself was made:
//! the ink's bounding box is scaled (keeping its aspect) to fit 20x20, with grey levels from
//! area averaging, then placed in a 28x28 field so that its centre of mass is at the centre.

/// MNIST side.
pub const SIDE: usize = 28;
/// Side of the box the digit is scaled into.
pub const BOX: usize = 20;

/// A drawing: ink intensities in [0, 1], row-major, `width` x `height`.
#[derive(Debug, Clone, PartialEq)]
pub struct Drawing {
    /// Width in pixels.
    pub width: usize,
    /// Height in pixels.
    pub height: usize,
    /// Ink per pixel, 0 (paper) to 1 (full ink).
    pub ink: Vec<f32>,
}

/// Area-averaged resampling of the `w` x `h` crop at (`x0`, `y0`) of `src` (row stride
/// `stride`) to `out_w` x `out_h`.
fn resample(
    src: &[f32],
    stride: usize,
    (x0, y0, w, h): (usize, usize, usize, usize),
    out_w: usize,
    out_h: usize,
) -> Vec<f32> {
    let sx = w as f64 / out_w as f64;
    let sy = h as f64 / out_h as f64;
    let mut out = vec![0.0f32; out_w * out_h];
    for oy in 0..out_h {
        let (fy0, fy1) = (oy as f64 * sy, (oy + 1) as f64 * sy);
        for ox in 0..out_w {
            let (fx0, fx1) = (ox as f64 * sx, (ox + 1) as f64 * sx);
            let mut sum = 0.0;
            let mut y = fy0.floor() as usize;
            while (y as f64) < fy1 && y < h {
                let wy = ((y + 1) as f64).min(fy1) - (y as f64).max(fy0);
                let mut x = fx0.floor() as usize;
                while (x as f64) < fx1 && x < w {
                    let wx = ((x + 1) as f64).min(fx1) - (x as f64).max(fx0);
                    sum += wx * wy * src[(y0 + y) * stride + x0 + x] as f64;
                    x += 1;
                }
                y += 1;
            }
            out[oy * out_w + ox] = (sum / (sx * sy)) as f32;
        }
    }
    out
}

impl Drawing {
    /// The 28x28 MNIST-style grey levels (0..=255) of the drawing, or `None` when it has no ink.
    pub fn to_mnist(&self) -> Option<Vec<u8>> {
        let (w, h) = (self.width, self.height);
        if w == 0 || h == 0 || self.ink.len() != w * h {
            return None;
        }
        let inked = |x: usize, y: usize| self.ink[y * w + x] > 0.05;
        let rows: Vec<usize> = (0..h).filter(|&y| (0..w).any(|x| inked(x, y))).collect();
        let cols: Vec<usize> = (0..w).filter(|&x| (0..h).any(|y| inked(x, y))).collect();
        let (&top, &bottom) = (rows.first()?, rows.last()?);
        let (&left, &right) = (cols.first()?, cols.last()?);
        let (bw, bh) = (right - left + 1, bottom - top + 1);
        let scale = BOX as f64 / bw.max(bh) as f64;
        let out_w = ((bw as f64 * scale).round() as usize).clamp(1, BOX);
        let out_h = ((bh as f64 * scale).round() as usize).clamp(1, BOX);
        let small = resample(&self.ink, w, (left, top, bw, bh), out_w, out_h);
        // Centre of mass of the scaled digit.
        let mass: f64 = small.iter().map(|&v| v as f64).sum();
        let (mut cx, mut cy) = (0.0, 0.0);
        for y in 0..out_h {
            for x in 0..out_w {
                let v = small[y * out_w + x] as f64;
                cx += v * (x as f64 + 0.5);
                cy += v * (y as f64 + 0.5);
            }
        }
        let (cx, cy) = (cx / mass, cy / mass);
        let half = SIDE as f64 / 2.0;
        let dx = (half - cx).round() as i64;
        let dy = (half - cy).round() as i64;
        let mut field = vec![0u8; SIDE * SIDE];
        for y in 0..out_h {
            for x in 0..out_w {
                let (tx, ty) = (x as i64 + dx, y as i64 + dy);
                if (0..SIDE as i64).contains(&tx) && (0..SIDE as i64).contains(&ty) {
                    let v = (small[y * out_w + x].clamp(0.0, 1.0) * 255.0).round() as u8;
                    field[ty as usize * SIDE + tx as usize] = v;
                }
            }
        }
        Some(field)
    }
}

/// Averages 2x2 blocks of a `width` x `height` grey image (rounding half up): MNIST's 28x28
/// becomes the homework's 14x14 tinyMNIST.
pub fn downsample_2x2(image: &[u8], width: usize, height: usize) -> Vec<u8> {
    let (ow, oh) = (width / 2, height / 2);
    let mut out = Vec::with_capacity(ow * oh);
    for y in 0..oh {
        for x in 0..ow {
            let sum: u32 = [(0, 0), (0, 1), (1, 0), (1, 1)]
                .iter()
                .map(|(dy, dx)| image[(2 * y + dy) * width + 2 * x + dx] as u32)
                .sum();
            out.push(((sum + 2) / 4) as u8);
        }
    }
    out
}

/// The 14x14 input of tinyMNIST models from a 28x28 image.
pub fn to_tiny(image: &[u8]) -> Vec<u8> {
    downsample_2x2(image, SIDE, SIDE)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn centre_of_mass(img: &[u8]) -> (f64, f64) {
        let (mut m, mut cx, mut cy) = (0.0, 0.0, 0.0);
        for (i, &v) in img.iter().enumerate() {
            let v = v as f64;
            m += v;
            cx += v * ((i % SIDE) as f64 + 0.5);
            cy += v * ((i / SIDE) as f64 + 0.5);
        }
        (cx / m, cy / m)
    }

    #[test]
    fn a_stroke_in_a_corner_is_scaled_to_20_and_centred() {
        // A vertical bar 10 px wide, 100 px tall, in the top-left of a 300x300 canvas.
        let (w, h) = (300, 300);
        let mut ink = vec![0.0; w * h];
        for y in 10..110 {
            for x in 20..30 {
                ink[y * w + x] = 1.0;
            }
        }
        let img = Drawing {
            width: w,
            height: h,
            ink,
        }
        .to_mnist()
        .unwrap();
        let rows = (0..SIDE)
            .filter(|&y| (0..SIDE).any(|x| img[y * SIDE + x] > 0))
            .count();
        let cols = (0..SIDE)
            .filter(|&x| (0..SIDE).any(|y| img[y * SIDE + x] > 0))
            .count();
        assert_eq!(rows, 20);
        assert_eq!(cols, 2);
        let (cx, cy) = centre_of_mass(&img);
        assert!(
            (cx - 14.0).abs() <= 1.0 && (cy - 14.0).abs() <= 1.0,
            "centre of mass ({cx}, {cy})"
        );
        assert_eq!(img.iter().copied().max(), Some(255));
    }

    #[test]
    fn an_empty_or_malformed_drawing_has_no_image() {
        let cases = [
            (10, 10, vec![0.0; 100]),
            (10, 10, vec![1.0; 3]),
            (0, 0, vec![]),
        ];
        for (width, height, ink) in cases {
            assert!(Drawing { width, height, ink }.to_mnist().is_none());
        }
    }

    #[test]
    fn an_mnist_digit_redrawn_larger_comes_back_close_to_itself() {
        // A synthetic "7": top bar and a diagonal, drawn at 28x28, upscaled 10x as a canvas.
        let mut small = vec![0.0f32; 28 * 28];
        for x in 8..20 {
            small[6 * 28 + x] = 1.0;
        }
        for i in 0..14 {
            small[(7 + i) * 28 + 19 - i / 2] = 1.0;
        }
        let (w, h) = (280, 280);
        let ink: Vec<f32> = (0..w * h)
            .map(|i| small[(i / w / 10) * 28 + (i % w) / 10])
            .collect();
        let img = Drawing {
            width: w,
            height: h,
            ink,
        }
        .to_mnist()
        .unwrap();
        let (cx, cy) = centre_of_mass(&img);
        assert!((cx - 14.0).abs() <= 1.0 && (cy - 14.0).abs() <= 1.0);
        assert_eq!(to_tiny(&img).len(), 196);
    }
}
