//! Turns a drawing into the 28x28 input MNIST models read, the way MNIST itself was made:
//! the ink's bounding box is scaled (keeping its aspect) to fit 20x20, then placed in a 28x28
//! field so that its centre of mass is at the centre. The pad keeps its pen strokes
//! ([`Strokes`]): they are drawn anew into the 20x20 box at MNIST's stroke width, so a digit
//! drawn small or off-centre reads as a large centred one (scaling the pad's pixels instead
//! thickens small drawings' strokes far beyond MNIST's). [`Drawing`] scales the pixels, for
//! images without strokes.

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

/// The width of the pen the strokes are drawn with, in pixels of the 28x28 field: MNIST's
/// strokes are about 2-3 pixels wide.
pub const STROKE_WIDTH: f32 = 2.2;
/// Most points of a drawing read (a longer one is read up to there).
pub const MAX_STROKE_POINTS: usize = 20_000;

/// A drawing as its pen strokes: each a polyline of (x, y) points in the pad's coordinates
/// (any scale: only their shape matters).
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Strokes {
    /// The strokes, in the order drawn.
    pub strokes: Vec<Vec<(f32, f32)>>,
    /// The least extent scaled to the box, in the strokes' units: a tap or a scribble
    /// smaller than this stays that small (0: every drawing fills the box).
    pub min_extent: f32,
}

impl Strokes {
    /// The 28x28 MNIST-style grey levels (0..=255) of the strokes, or `None` without any: the
    /// strokes' bounding box scaled (keeping its aspect) so that, drawn at [`STROKE_WIDTH`],
    /// they fill the 20x20 box, then moved so that the ink's centre of mass is the field's
    /// centre.
    pub fn to_mnist(&self) -> Option<Vec<u8>> {
        let points = self
            .strokes
            .iter()
            .flatten()
            .take(MAX_STROKE_POINTS)
            .filter(|(x, y)| x.is_finite() && y.is_finite());
        let (mut x0, mut x1, mut y0, mut y1) = (f32::MAX, f32::MIN, f32::MAX, f32::MIN);
        let mut any = false;
        for &(x, y) in points {
            any = true;
            (x0, x1, y0, y1) = (x0.min(x), x1.max(x), y0.min(y), y1.max(y));
        }
        if !any {
            return None;
        }
        let extent = (x1 - x0).max(y1 - y0).max(self.min_extent);
        let inner = BOX as f32 - STROKE_WIDTH;
        let scale = if extent > 1e-6 { inner / extent } else { 0.0 };
        let half = SIDE as f32 / 2.0;
        // The box centred first, then moved by its ink's centre of mass.
        let centred = (
            half - (x1 - x0) * scale / 2.0,
            half - (y1 - y0) * scale / 2.0,
        );
        let place = |(dx, dy): (f32, f32)| {
            let mut taken = 0;
            self.strokes
                .iter()
                .map(|stroke| {
                    let room = MAX_STROKE_POINTS.saturating_sub(taken);
                    taken += stroke.len().min(room);
                    stroke
                        .iter()
                        .take(room)
                        .filter(|(x, y)| x.is_finite() && y.is_finite())
                        .map(|&(x, y)| ((x - x0) * scale + dx, (y - y0) * scale + dy))
                        .collect::<Vec<_>>()
                })
                .collect::<Vec<_>>()
        };
        let first = render_strokes(&place(centred));
        let mass: f32 = first.iter().sum();
        if mass <= 0.0 {
            return None;
        }
        let (mut cx, mut cy) = (0.0f32, 0.0f32);
        for (i, v) in first.iter().enumerate() {
            cx += v * ((i % SIDE) as f32 + 0.5);
            cy += v * ((i / SIDE) as f32 + 0.5);
        }
        let shift = (half - cx / mass, half - cy / mass);
        let field = render_strokes(&place((centred.0 + shift.0, centred.1 + shift.1)));
        Some(
            field
                .iter()
                .map(|v| (v.clamp(0.0, 1.0) * 255.0).round() as u8)
                .collect(),
        )
    }
}

/// Ink of every pixel of the 28x28 field for polylines in field coordinates, drawn with a
/// round pen [`STROKE_WIDTH`] wide and a one-pixel soft edge (as MNIST's anti-aliased strokes).
fn render_strokes(strokes: &[Vec<(f32, f32)>]) -> Vec<f32> {
    let radius = STROKE_WIDTH / 2.0;
    let reach = radius + 0.5;
    let mut nearest = vec![f32::MAX; SIDE * SIDE];
    for stroke in strokes {
        let segments = stroke.windows(2).map(|w| (w[0], w[1])).chain(
            stroke
                .first()
                .filter(|_| stroke.len() == 1)
                .map(|&p| (p, p)),
        );
        for (a, b) in segments {
            // Only the pixels the pen can reach from this segment.
            let lo_x = (a.0.min(b.0) - reach).floor().max(0.0) as usize;
            let hi_x = (a.0.max(b.0) + reach).ceil().min(SIDE as f32) as usize;
            let lo_y = (a.1.min(b.1) - reach).floor().max(0.0) as usize;
            let hi_y = (a.1.max(b.1) + reach).ceil().min(SIDE as f32) as usize;
            for y in lo_y..hi_y {
                for x in lo_x..hi_x {
                    let d = distance_to_segment((x as f32 + 0.5, y as f32 + 0.5), a, b);
                    let cell = &mut nearest[y * SIDE + x];
                    *cell = cell.min(d);
                }
            }
        }
    }
    nearest
        .into_iter()
        .map(|d| (radius + 0.5 - d).clamp(0.0, 1.0))
        .collect()
}

/// Distance from `p` to the segment `a`-`b`.
fn distance_to_segment(p: (f32, f32), a: (f32, f32), b: (f32, f32)) -> f32 {
    let (dx, dy) = (b.0 - a.0, b.1 - a.1);
    let len2 = dx * dx + dy * dy;
    let t = if len2 > 0.0 {
        (((p.0 - a.0) * dx + (p.1 - a.1) * dy) / len2).clamp(0.0, 1.0)
    } else {
        0.0
    };
    let (cx, cy) = (a.0 + t * dx, a.1 + t * dy);
    ((p.0 - cx).powi(2) + (p.1 - cy).powi(2)).sqrt()
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

    /// A "7" and a "0"-like loop as a person draws them, `scale` times the pad's size, at
    /// `offset` in the pad.
    fn seven(scale: f32, offset: (f32, f32)) -> Strokes {
        let at = |x: f32, y: f32| (offset.0 + x * scale, offset.1 + y * scale);
        let bar: Vec<(f32, f32)> = (0..=20).map(|i| at(60.0 + 8.0 * i as f32, 50.0)).collect();
        let leg: Vec<(f32, f32)> = (0..=30)
            .map(|i| at(220.0 - 3.0 * i as f32, 50.0 + 6.5 * i as f32))
            .collect();
        Strokes {
            strokes: vec![bar, leg],
            min_extent: 0.0,
        }
    }

    #[test]
    fn strokes_drawn_small_and_off_centre_come_out_as_drawn_large_and_centred() {
        let large = seven(1.0, (0.0, 0.0)).to_mnist().unwrap();
        let small = seven(0.5, (120.0, 10.0)).to_mnist().unwrap();
        let ink = |img: &[u8]| img.iter().map(|&v| v as f64).sum::<f64>();
        assert!(
            (ink(&large) - ink(&small)).abs() / ink(&large) < 0.01,
            "the same amount of ink: {} and {}",
            ink(&large),
            ink(&small)
        );
        let differ = large
            .iter()
            .zip(&small)
            .map(|(a, b)| (*a as i32 - *b as i32).abs())
            .max()
            .unwrap();
        assert!(
            differ <= 2,
            "pixel for pixel the same image (largest difference {differ})"
        );
        let (cx, cy) = centre_of_mass(&small);
        assert!(
            (cx - 14.0).abs() < 0.1 && (cy - 14.0).abs() < 0.1,
            "({cx}, {cy})"
        );
        // The box is 20 wide, with strokes about MNIST's width: the bar's rows hold ink
        // over 2 to 3 pixels, not the 5 or more the pad's scaled pixels gave a small drawing.
        let cols: Vec<usize> = (0..SIDE)
            .filter(|&x| (0..SIDE).any(|y| large[y * SIDE + x] > 0))
            .collect();
        // A column through the bar's left part, where the leg is not.
        let column = cols[0] + 3;
        let inked_rows = (0..SIDE)
            .filter(|&y| large[y * SIDE + column] > 128)
            .count();
        assert!((2..=3).contains(&inked_rows), "{inked_rows} rows of ink");
        // The taller side (the 7 is taller than wide) fills the 20-pixel box, pen included.
        let rows: Vec<usize> = (0..SIDE)
            .filter(|&y| (0..SIDE).any(|x| large[y * SIDE + x] > 0))
            .collect();
        let height = rows.last().unwrap() - rows.first().unwrap() + 1;
        assert!((20..=22).contains(&height), "{height} rows tall");
    }

    #[test]
    fn no_strokes_a_dot_and_absurd_points_are_handled() {
        assert_eq!(Strokes::default().to_mnist(), None);
        let dot = Strokes {
            strokes: vec![vec![(5.0, 5.0)]],
            min_extent: 0.0,
        };
        // A tap with a hair of movement stays a dot when the pad says how small a digit is.
        let tap = Strokes {
            strokes: vec![vec![(5.0, 5.0), (5.01, 5.01)]],
            min_extent: 35.0,
        };
        let inked = tap.to_mnist().unwrap().iter().filter(|&&v| v > 0).count();
        assert!(inked <= 16, "a dot, not a line: {inked} pixels");
        let img = dot.to_mnist().unwrap();
        let (cx, cy) = centre_of_mass(&img);
        assert!((cx - 14.0).abs() < 0.6 && (cy - 14.0).abs() < 0.6);
        let wild = Strokes {
            strokes: vec![vec![
                (f32::NAN, 1.0),
                (0.0, 0.0),
                (1e30, -1e30),
                (f32::INFINITY, 0.0),
            ]],
            min_extent: 0.0,
        };
        assert_eq!(wild.to_mnist().map(|i| i.len()), Some(SIDE * SIDE));
    }
}
