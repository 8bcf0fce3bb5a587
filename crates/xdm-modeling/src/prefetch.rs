//! Columns the rule reads only through fixed JSON paths (`details -> grade`,
//! `json_extract_array(details, "$.remediations")`): the NDJSON reader takes exactly those
//! paths out of the column while it scans the line, instead of building the whole nested
//! value and then following each path in it. The plan's `Json` nodes over such a column
//! become [`Node::PathOf`], which reads the prefetched node (or, when the column was not
//! prefetched — not a JSON object or array, or an event not read from a line — follows the
//! path in the column's value as before).

use std::ops::Range;

use crate::compile::{self, Extract, LambdaKind, Node, PathArg, Plan, Step};
use crate::json_path::JsonPath;
use crate::schema::{Column, ColumnType};

/// The paths prefetched from each path-only column, as one trie per column.
#[derive(Debug, Default)]
pub(crate) struct Prefetch {
    /// Per slot, the root node of its trie when the slot is prefetched.
    roots: Vec<Option<usize>>,
    pub(crate) nodes: Vec<TrieNode>,
    /// Per prefetched path (result), its segments.
    pub(crate) paths: Vec<Vec<String>>,
}

/// One step of a path: the segment that leads to it from its parent.
#[derive(Debug)]
pub(crate) struct TrieNode {
    pub(crate) segment: String,
    /// The segment as an array index, when it reads as one.
    pub(crate) index: Option<usize>,
    /// Its depth below the column (the column's root is 0).
    pub(crate) depth: usize,
    pub(crate) children: Vec<usize>,
    /// Whether a path ends here.
    pub(crate) ends: bool,
    /// Whether the rule reads this node only as `json_extract_array` (and nothing below
    /// it): its result is then that function's array of item JSON texts, taken from the
    /// line without building the items.
    pub(crate) texts: bool,
    /// The results of the paths at or below this node, numbered so they are contiguous.
    pub(crate) results: Range<usize>,
}

impl Prefetch {
    /// Finds the path-only columns of `plan`, builds their tries and rewrites their `Json`
    /// nodes into [`Node::PathOf`]. `columns` are the slots' schema columns; `time_slot`
    /// is never prefetched (its value is converted on load).
    pub(crate) fn build(plan: &mut Plan, columns: &[Option<Column>], time_slot: usize) -> Self {
        let slots = plan.slots.len();
        let mut uses = vec![0usize; slots];
        let mut path_uses: Vec<Vec<(JsonPath, Extract)>> = vec![Vec::new(); slots];
        for node in plan_nodes(&plan.pipelines) {
            count_uses(node, &mut uses, &mut path_uses);
        }
        let mut prefetch = Prefetch {
            roots: vec![None; slots],
            ..Prefetch::default()
        };
        for slot in 0..slots {
            let eligible = uses[slot] > 0
                && uses[slot] == path_uses[slot].len()
                && !plan.slots[slot].assigned
                && slot != time_slot
                && columns
                    .get(slot)
                    .copied()
                    .flatten()
                    .is_none_or(|c| c.kind == ColumnType::NestedJson);
            if eligible {
                let mut paths: Vec<Vec<String>> =
                    path_uses[slot].iter().map(|(p, _)| p.0.clone()).collect();
                paths.sort();
                paths.dedup();
                if !indexes_are_distinct(&paths) {
                    continue;
                }
                prefetch.roots[slot] = Some(prefetch.add_trie(&paths));
                for path in &paths {
                    // A node below the end of a shorter path is taken out of that path's
                    // value, as a node, so only a path with no shorter one gives texts.
                    let only_texts = path_uses[slot]
                        .iter()
                        .filter(|(p, _)| p.0 == *path)
                        .all(|(_, e)| *e == Extract::Array)
                        && !paths
                            .iter()
                            .any(|p| p.len() < path.len() && path.starts_with(p));
                    if let Some(node) = prefetch.node_of(slot, path)
                        && only_texts
                        && prefetch.nodes[node].children.is_empty()
                    {
                        prefetch.nodes[node].texts = true;
                    }
                }
            }
        }
        if prefetch.roots.iter().any(Option::is_some) {
            for node in plan_nodes_mut(&mut plan.pipelines) {
                prefetch.rewrite(node);
            }
        }
        prefetch
    }

    /// The root of `slot`'s trie, when it is prefetched.
    pub(crate) fn root(&self, slot: usize) -> Option<usize> {
        self.roots.get(slot).copied().flatten()
    }

    /// The number of prefetched paths.
    pub(crate) fn len(&self) -> usize {
        self.paths.len()
    }

    /// Adds a trie of sorted, distinct, non-empty `paths`; returns its root.
    fn add_trie(&mut self, paths: &[Vec<String>]) -> usize {
        let root = self.nodes.len();
        self.nodes.push(TrieNode {
            segment: String::new(),
            index: None,
            depth: 0,
            children: Vec::new(),
            ends: false,
            texts: false,
            results: 0..0,
        });
        for path in paths {
            let mut node = root;
            for (depth, segment) in path.iter().enumerate() {
                let found = self.nodes[node]
                    .children
                    .iter()
                    .copied()
                    .find(|&c| self.nodes[c].segment == *segment);
                node = match found {
                    Some(c) => c,
                    None => {
                        let c = self.nodes.len();
                        self.nodes.push(TrieNode {
                            segment: segment.clone(),
                            index: segment.parse().ok(),
                            depth: depth + 1,
                            children: Vec::new(),
                            ends: false,
                            texts: false,
                            results: 0..0,
                        });
                        self.nodes[node].children.push(c);
                        c
                    }
                };
            }
            self.nodes[node].ends = true;
        }
        self.number(root, &mut Vec::new());
        root
    }

    /// Numbers the results depth first, so every subtree's results are contiguous.
    fn number(&mut self, node: usize, path: &mut Vec<String>) {
        let first = self.paths.len();
        if self.nodes[node].ends {
            self.paths.push(path.clone());
        }
        for i in 0..self.nodes[node].children.len() {
            let child = self.nodes[node].children[i];
            path.push(self.nodes[child].segment.clone());
            self.number(child, path);
            path.pop();
        }
        self.nodes[node].results = first..self.paths.len();
    }

    /// The trie node of `path` below the root of `slot`, where a path ends.
    fn node_of(&self, slot: usize, path: &[String]) -> Option<usize> {
        let mut node = self.root(slot)?;
        for segment in path {
            node = self.nodes[node]
                .children
                .iter()
                .copied()
                .find(|&c| self.nodes[c].segment == *segment)?;
        }
        self.nodes[node].ends.then_some(node)
    }

    fn rewrite(&self, node: &mut Node) {
        if let Node::Json(value, PathArg::Fixed(path), extract) = node
            && let Node::Slot(slot) = **value
            && let Some(at) = self.node_of(slot, &path.0)
        {
            let trie_node = &self.nodes[at];
            *node = Node::PathOf {
                slot,
                result: trie_node.results.start,
                path: path.clone(),
                extract: *extract,
                texts: trie_node.texts,
            };
            return;
        }
        compile::for_each_child_mut(node, &mut |child| self.rewrite(child));
    }
}

/// Per slot, the keys to keep in its array's item objects when the rule reads the column
/// only as `arraymap(column, body)` whose body reads `"@element"` only through fixed
/// paths (`"@element" -> asset`): the NDJSON reader then builds each item object with
/// just the first segments of those paths. Same eligibility as the prefetched columns.
pub(crate) fn projections(
    plan: &Plan,
    columns: &[Option<Column>],
    time_slot: usize,
) -> Vec<Option<Box<[String]>>> {
    let slots = plan.slots.len();
    let mut reads = vec![0usize; slots];
    let mut keys: Vec<Option<Vec<String>>> = vec![None; slots];
    let mut unfit = vec![false; slots];
    for node in plan_nodes(&plan.pipelines) {
        count_mapped(node, &mut reads, &mut keys, &mut unfit);
    }
    keys.into_iter()
        .enumerate()
        .map(|(slot, keys)| {
            let mut keys = keys?;
            let eligible = reads[slot] == 0
                && !unfit[slot]
                && !plan.slots[slot].assigned
                && slot != time_slot
                && columns
                    .get(slot)
                    .copied()
                    .flatten()
                    .is_none_or(|c| c.kind == ColumnType::NestedJson && !c.is_array);
            keys.sort();
            keys.dedup();
            eligible.then(|| keys.into_boxed_slice())
        })
        .collect()
}

/// Counts the reads of each slot other than as the array of an `arraymap`, and gathers
/// the element keys of those `arraymap`s (marking a slot unfit where a body reads the
/// element otherwise).
fn count_mapped(
    node: &Node,
    reads: &mut [usize],
    keys: &mut [Option<Vec<String>>],
    unfit: &mut [bool],
) {
    match node {
        Node::Slot(slot) => reads[*slot] += 1,
        Node::Lambda(LambdaKind::Map, array, body) if matches!(**array, Node::Slot(_)) => {
            if let Node::Slot(slot) = **array {
                let found = keys[slot].get_or_insert_with(Vec::new);
                if !element_keys(body, found) {
                    unfit[slot] = true;
                }
            }
            count_mapped(body, reads, keys, unfit);
        }
        other => compile::for_each_child(other, &mut |child| {
            count_mapped(child, reads, keys, unfit);
        }),
    }
}

/// Adds to `keys` the first segment of each fixed path `body` follows in `"@element"`;
/// `false` when it reads the element any other way or holds another lambda.
fn element_keys(body: &Node, keys: &mut Vec<String>) -> bool {
    match body {
        Node::Json(value, PathArg::Fixed(path), _) if matches!(**value, Node::Element) => {
            match path.0.first() {
                Some(first) => {
                    keys.push(first.clone());
                    true
                }
                None => false,
            }
        }
        Node::Element | Node::Lambda(..) => false,
        other => {
            let mut fits = true;
            compile::for_each_child(other, &mut |child| {
                fits &= element_keys(child, keys);
            });
            fits
        }
    }
}

/// Counts every read of each slot, and separately its reads as the value of a `Json` node
/// with a fixed, non-empty path (keeping those paths).
fn count_uses(node: &Node, uses: &mut [usize], path_uses: &mut [Vec<(JsonPath, Extract)>]) {
    match node {
        Node::Slot(slot) => uses[*slot] += 1,
        Node::Json(value, PathArg::Fixed(path), extract)
            if !path.0.is_empty() && matches!(**value, Node::Slot(_)) =>
        {
            if let Node::Slot(slot) = **value {
                uses[slot] += 1;
                path_uses[slot].push((path.clone(), *extract));
            }
        }
        other => compile::for_each_child(other, &mut |child| {
            count_uses(child, uses, path_uses);
        }),
    }
}

/// Whether no node of the tries could be reached by two sibling segments: array indexes
/// are read with `str::parse`, so `1` and `01` would name the same element.
fn indexes_are_distinct(paths: &[Vec<String>]) -> bool {
    let mut seen: Vec<(&[String], usize, &str)> = Vec::new();
    for path in paths {
        for (depth, segment) in path.iter().enumerate() {
            if let Ok(index) = segment.parse::<usize>() {
                let parent = &path[..depth];
                if seen
                    .iter()
                    .any(|(p, i, s)| *p == parent && *i == index && *s != segment.as_str())
                {
                    return false;
                }
                seen.push((parent, index, segment));
            }
        }
    }
    true
}

fn plan_nodes(pipelines: &[Vec<Step>]) -> impl Iterator<Item = &Node> {
    pipelines.iter().flatten().flat_map(|step| match step {
        Step::Assign(assigns) => assigns.iter().map(|(_, n)| n).collect::<Vec<_>>(),
        Step::Filter(n) => vec![n],
    })
}

fn plan_nodes_mut(pipelines: &mut [Vec<Step>]) -> impl Iterator<Item = &mut Node> {
    pipelines.iter_mut().flatten().flat_map(|step| match step {
        Step::Assign(assigns) => assigns.iter_mut().map(|(_, n)| n).collect::<Vec<_>>(),
        Step::Filter(n) => vec![n],
    })
}
