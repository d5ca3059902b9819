//! The store's queue of writes, coalesced per run.
//!
//! A training run changes its stored record every epoch; tinyTOY's 400 epochs take a few
//! seconds, and each change was its own IndexedDB transaction queued behind the others. The
//! queue could then lag the page by hundreds of transactions, and a reload within that lag lost
//! the run's end (the next load took the run for cut off). Here the writes still waiting for a
//! run are one entry: a later write joins the run's last waiting entry, and the entry is applied
//! as one transaction that does what the writes would have done one after another. So at most
//! one write per run waits behind the one in flight, however fast the epochs come.
//!
//! This part is plain data (no IndexedDB): [`RunWrites::resolve`] computes what a run's record
//! and weights become from the record as stored, and the tests check it against the writes
//! applied one by one.

use std::collections::VecDeque;

use kindling_core::record::RunRecord;

/// A change to one stored run: sets the fields it is about.
pub type Change = Box<dyn FnOnce(&mut RunRecord)>;

/// Told the message of a write's failure.
pub type OnError = Box<dyn Fn(String)>;

/// The waiting writes of one run, applied in one transaction.
pub struct RunWrites {
    /// The run.
    pub id: u64,
    /// Every write's change, in the order queued.
    changes: Vec<Change>,
    /// The first write that stores its record when the run is not stored: the write's index in
    /// `changes`, and the record.
    insert: Option<(usize, Box<RunRecord>)>,
    /// The last weights queued: the index of their write, and the bytes.
    weights: Option<(usize, Vec<u8>)>,
    /// What to tell of a failure, one per write.
    on_error: Vec<OnError>,
}

/// What a run's writes leave in the store.
pub struct Resolved {
    /// The record to store (none: the run is not stored, and stays so).
    pub record: Option<RunRecord>,
    /// Weights to store with it.
    pub weights: Option<Vec<u8>>,
}

impl RunWrites {
    /// The writes' changes applied to the record as stored, as they would be one after another:
    /// a write finding no record stores its `insert` if it has one, else it does nothing (the
    /// run was deleted meanwhile); a write's weights are kept only when its record is. Takes the
    /// changes: a second call resolves nothing.
    pub fn resolve(&mut self, stored: Option<RunRecord>) -> Resolved {
        let changes = std::mem::take(&mut self.changes);
        let weights = self.weights.take();
        let (mut record, first_change, weights_from) = match (stored, self.insert.take()) {
            (Some(stored), _) => (stored, 0, 0),
            (None, Some((at, insert))) => (*insert, at + 1, at),
            (None, None) => {
                return Resolved {
                    record: None,
                    weights: None,
                }
            }
        };
        for change in changes.into_iter().skip(first_change) {
            change(&mut record);
        }
        let weights = weights
            .filter(|(at, _)| *at >= weights_from)
            .map(|(_, bytes)| bytes);
        Resolved {
            record: Some(record),
            weights,
        }
    }

    /// Whether weights come with the writes (the transaction then spans the weights too).
    pub fn carries_weights(&self) -> bool {
        self.weights.is_some()
    }

    /// How many writes joined in this entry.
    pub fn writes(&self) -> usize {
        self.on_error.len()
    }

    /// Tells every joined write of a failure.
    pub fn report(&self, error: &str) {
        for on_error in &self.on_error {
            on_error(error.to_string());
        }
    }
}

/// A waiting write.
pub enum Pending {
    /// Changes (and weights) for one run.
    Run(RunWrites),
    /// Deletes a run. Writes queued after it start a new entry: they apply to what the delete
    /// left.
    Delete {
        /// The run.
        id: u64,
        /// Told of a failure.
        on_error: OnError,
    },
}

impl Pending {
    fn id(&self) -> u64 {
        match self {
            Pending::Run(run) => run.id,
            Pending::Delete { id, .. } => *id,
        }
    }
}

/// The writes waiting, oldest first: a run has at most one entry after its last delete.
#[derive(Default)]
pub struct WriteQueue {
    pending: VecDeque<Pending>,
}

impl WriteQueue {
    /// Queues a change to run `id` (with `insert`, stored when the run is not; with weights,
    /// kept with it). It joins the run's last waiting entry unless a delete of the run waits
    /// after that (writes to other runs are independent of it, so joining an earlier entry
    /// changes nothing they see).
    pub fn push_update(
        &mut self,
        id: u64,
        change: Change,
        insert: Option<Box<RunRecord>>,
        weights: Option<Vec<u8>>,
        on_error: OnError,
    ) {
        let last = self.pending.iter_mut().rev().find(|p| p.id() == id);
        let run = match last {
            Some(Pending::Run(run)) => run,
            _ => {
                self.pending.push_back(Pending::Run(RunWrites {
                    id,
                    changes: Vec::new(),
                    insert: None,
                    weights: None,
                    on_error: Vec::new(),
                }));
                match self.pending.back_mut() {
                    Some(Pending::Run(run)) => run,
                    _ => unreachable!("a run's entry was just queued"),
                }
            }
        };
        let at = run.changes.len();
        run.changes.push(change);
        if run.insert.is_none() {
            run.insert = insert.map(|record| (at, record));
        }
        if let Some(bytes) = weights {
            run.weights = Some((at, bytes));
        }
        run.on_error.push(on_error);
    }

    /// Queues the deletion of run `id`.
    pub fn push_delete(&mut self, id: u64, on_error: OnError) {
        self.pending.push_back(Pending::Delete { id, on_error });
    }

    /// The oldest waiting entry.
    pub fn pop(&mut self) -> Option<Pending> {
        self.pending.pop_front()
    }

    /// How many entries wait.
    pub fn len(&self) -> usize {
        self.pending.len()
    }

    /// Whether nothing waits.
    pub fn is_empty(&self) -> bool {
        self.pending.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use std::cell::RefCell;
    use std::collections::BTreeMap;
    use std::rc::Rc;

    use kindling_core::mutations::sample_run;
    use kindling_core::record::RunStatus;

    use super::*;

    /// A store: each run's record and weights.
    type Store = BTreeMap<u64, (RunRecord, Option<Vec<u8>>)>;

    /// A write as the tests describe it (closures cannot be compared or cloned).
    #[derive(Clone, Debug)]
    enum Op {
        /// Sets the run's name; stores a fresh record named `insert` when not stored.
        Rename {
            id: u64,
            name: &'static str,
            insert: Option<&'static str>,
        },
        /// Adds an epoch's worth of seconds.
        Epoch {
            id: u64,
        },
        /// Marks the run finished and keeps weights.
        Weights {
            id: u64,
            bytes: u8,
        },
        Delete {
            id: u64,
        },
    }

    fn record(id: u64, name: &str) -> RunRecord {
        // Without the sample's epochs and curve: the tests clone records often.
        RunRecord {
            id,
            name: name.into(),
            epochs: Vec::new(),
            curve: Vec::new(),
            ..sample_run()
        }
    }

    fn push(queue: &mut WriteQueue, op: &Op, errors: &Rc<RefCell<Vec<String>>>) {
        let tell = {
            let errors = errors.clone();
            let what = format!("{op:?}");
            Box::new(move |e: String| errors.borrow_mut().push(format!("{what}: {e}")))
        };
        match op.clone() {
            Op::Rename { id, name, insert } => queue.push_update(
                id,
                Box::new(move |r| r.name = name.into()),
                insert.map(|n| Box::new(record(id, n))),
                None,
                tell,
            ),
            Op::Epoch { id } => {
                queue.push_update(id, Box::new(|r| r.seconds += 1.0), None, None, tell)
            }
            Op::Weights { id, bytes } => queue.push_update(
                id,
                Box::new(|r| {
                    r.status = RunStatus::Finished;
                    r.has_weights = true
                }),
                None,
                Some(vec![bytes; 3]),
                tell,
            ),
            Op::Delete { id } => queue.push_delete(id, tell),
        }
    }

    /// Applies every waiting entry to the store, as `store.rs` does, one transaction each;
    /// returns how many transactions that took.
    fn drain(queue: &mut WriteQueue, store: &mut Store) -> usize {
        let mut transactions = 0;
        while let Some(entry) = queue.pop() {
            transactions += 1;
            match entry {
                Pending::Run(mut run) => {
                    let id = run.id;
                    let stored = store.get(&id).map(|(r, _)| r.clone());
                    let kept_weights = store.get(&id).and_then(|(_, w)| w.clone());
                    let resolved = run.resolve(stored);
                    if let Some(record) = resolved.record {
                        store.insert(id, (record, resolved.weights.or(kept_weights)));
                    }
                }
                Pending::Delete { id, .. } => {
                    store.remove(&id);
                }
            }
        }
        transactions
    }

    /// The writes applied one at a time (each drained before the next is queued) and all
    /// queued before any is applied (so they coalesce): the same store either way.
    fn same_either_way(start: &Store, ops: &[Op]) -> usize {
        let errors = Rc::new(RefCell::new(Vec::new()));
        let mut one_by_one = start.clone();
        for op in ops {
            let mut queue = WriteQueue::default();
            push(&mut queue, op, &errors);
            drain(&mut queue, &mut one_by_one);
        }
        let mut coalesced = start.clone();
        let mut queue = WriteQueue::default();
        for op in ops {
            push(&mut queue, op, &errors);
        }
        let transactions = drain(&mut queue, &mut coalesced);
        assert_eq!(coalesced, one_by_one, "writes {ops:?} from {start:?}");
        transactions
    }

    #[test]
    fn a_runs_epochs_become_one_transaction_with_the_same_result() {
        let start: Store = [(7, (record(7, "a"), None))].into();
        let mut ops: Vec<Op> = (0..400).map(|_| Op::Epoch { id: 7 }).collect();
        ops.push(Op::Weights { id: 7, bytes: 9 });
        let transactions = same_either_way(&start, &ops);
        assert_eq!(transactions, 1);
    }

    #[test]
    fn an_insert_takes_only_the_changes_after_it_when_the_run_is_not_stored() {
        let ops = [
            // Dropped: not stored, nothing to insert.
            Op::Rename {
                id: 1,
                name: "lost",
                insert: None,
            },
            Op::Weights { id: 1, bytes: 1 },
            // Stored as "first", then renamed.
            Op::Rename {
                id: 1,
                name: "ignored",
                insert: Some("first"),
            },
            Op::Rename {
                id: 1,
                name: "second",
                insert: Some("not used"),
            },
            Op::Epoch { id: 1 },
        ];
        same_either_way(&Store::new(), &ops);
        let mut store = Store::new();
        let mut queue = WriteQueue::default();
        let errors = Rc::new(RefCell::new(Vec::new()));
        for op in &ops {
            push(&mut queue, op, &errors);
        }
        drain(&mut queue, &mut store);
        let (kept, weights) = &store[&1];
        assert_eq!(kept.name, "second");
        assert_eq!(kept.seconds, record(1, "x").seconds + 1.0);
        assert_eq!(*weights, None, "the weights came before the run was stored");
    }

    #[test]
    fn a_delete_splits_a_runs_writes_and_other_runs_join_across_it() {
        let start: Store = [(1, (record(1, "a"), None)), (2, (record(2, "b"), None))].into();
        let ops = [
            Op::Epoch { id: 1 },
            Op::Epoch { id: 2 },
            Op::Delete { id: 1 },
            Op::Epoch { id: 1 },
            Op::Epoch { id: 2 },
            Op::Rename {
                id: 1,
                name: "back",
                insert: Some("undone"),
            },
        ];
        // Run 1: an entry, the delete, an entry; run 2: one entry.
        assert_eq!(same_either_way(&start, &ops), 4);
    }

    /// Every sequence of up to five writes over two runs, from an empty store and from one
    /// holding both runs: coalesced and one by one agree.
    #[test]
    fn every_short_sequence_agrees_with_the_writes_one_by_one() {
        let choices: Vec<Op> = [1, 2]
            .into_iter()
            .flat_map(|id| {
                [
                    Op::Rename {
                        id,
                        name: "renamed",
                        insert: None,
                    },
                    Op::Rename {
                        id,
                        name: "again",
                        insert: Some("inserted"),
                    },
                    Op::Epoch { id },
                    Op::Weights {
                        id,
                        bytes: id as u8,
                    },
                    Op::Delete { id },
                ]
            })
            .collect();
        let full: Store = [
            (1, (record(1, "a"), Some(vec![7]))),
            (2, (record(2, "b"), None)),
        ]
        .into();
        let mut sequences = 0;
        for length in 1..=5u32 {
            for mut code in 0..choices.len().pow(length) {
                let mut ops = Vec::new();
                for _ in 0..length {
                    ops.push(choices[code % choices.len()].clone());
                    code /= choices.len();
                }
                same_either_way(&Store::new(), &ops);
                same_either_way(&full, &ops);
                sequences += 1;
            }
        }
        assert_eq!(sequences, 10 + 100 + 1_000 + 10_000 + 100_000);
    }

    #[test]
    fn a_failure_is_told_to_every_joined_write() {
        let errors = Rc::new(RefCell::new(Vec::new()));
        let mut queue = WriteQueue::default();
        push(&mut queue, &Op::Epoch { id: 3 }, &errors);
        push(&mut queue, &Op::Weights { id: 3, bytes: 0 }, &errors);
        assert_eq!(queue.len(), 1);
        let Some(Pending::Run(run)) = queue.pop() else {
            panic!("one run's entry")
        };
        assert_eq!(run.writes(), 2);
        run.report("quota exceeded");
        assert_eq!(
            *errors.borrow(),
            [
                "Epoch { id: 3 }: quota exceeded",
                "Weights { id: 3, bytes: 0 }: quota exceeded"
            ]
        );
        assert!(queue.is_empty());
    }
}
