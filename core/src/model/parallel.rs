//! Work spread over rayon's threads where the build has them (natively, and in the browser
//! worker's threaded build) and run in order on the calling thread in the plain wasm build:
//! the one place the fused kernels ([`super::conv_kernels`], [`super::pool_ops`],
//! [`super::dropout_ops`]) make that choice.
//!
//! Callers cut their work into items fixed by the shapes alone, never by the number of
//! threads, so a run gives the same numbers on any machine.

#[cfg(any(not(target_arch = "wasm32"), target_feature = "atomics"))]
use rayon::prelude::*;

/// `work` applied to every item, in parallel where the build has threads, with a `scratch`
/// value made once per thread's share of the items (once in all without threads); the
/// results in the items' order.
pub(crate) fn map_init<I, S, R>(
    items: Vec<I>,
    scratch: impl Fn() -> S + Sync + Send,
    work: impl Fn(&mut S, I) -> R + Sync + Send,
) -> Vec<R>
where
    I: Send,
    R: Send,
{
    #[cfg(any(not(target_arch = "wasm32"), target_feature = "atomics"))]
    {
        items.into_par_iter().map_init(scratch, work).collect()
    }
    #[cfg(not(any(not(target_arch = "wasm32"), target_feature = "atomics")))]
    {
        let mut scratch = scratch();
        items
            .into_iter()
            .map(|item| work(&mut scratch, item))
            .collect()
    }
}

/// `work` applied to every item, in parallel where the build has threads.
pub(crate) fn for_each<I: Send>(items: Vec<I>, work: impl Fn(I) + Sync + Send) {
    map_init(items, || (), |(), item| work(item));
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn results_keep_the_items_order_and_every_item_runs_once() {
        let items: Vec<usize> = (0..1000).collect();
        let doubled = map_init(items, Vec::<usize>::new, |seen, i| {
            seen.push(i);
            i * 2
        });
        assert_eq!(doubled, (0..1000).map(|i| i * 2).collect::<Vec<_>>());
        let mut values = vec![0u32; 64];
        for_each(values.chunks_mut(8).enumerate().collect(), |(i, chunk)| {
            chunk.fill(i as u32 + 1)
        });
        assert_eq!(values[0], 1);
        assert_eq!(values[63], 8);
        assert!(values
            .chunks(8)
            .enumerate()
            .all(|(i, c)| c.iter().all(|v| *v == i as u32 + 1)));
    }
}
