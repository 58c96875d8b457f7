//! Reading a manifest and checking it before anything queries a database: every
//! problem at once, each with its line and column and what was expected.
//!
//! What is checked here, from the file alone: the YAML and its shape; keys and
//! names; categories (against a policy when one is given); identities Vow's requests
//! carry; data types and masking strategies Vow can apply; references that name a
//! collection and field of the manifest; `after`/`erase_after`; and that every
//! collection can be reached from an identity by following references. Whether the
//! fields exist in the live database is checked when the dataset is registered with
//! a connection.

use crate::manifest::{Collection, Dataset, Field, Manifest, Text};
use std::collections::{BTreeMap, BTreeSet, HashMap, VecDeque};
use vow_core::Category;
use vow_policy::{Diagnostic, MAX_SOURCE_BYTES, Severity};

/// The identities a Vow request carries, as fideslang names them.
pub const IDENTITIES: [&str; 3] = ["email", "phone_number", "external_id"];
/// Field masking strategies Vow applies (fideslang names).
pub const FIELD_STRATEGIES: [&str; 4] = [
    "null_rewrite",
    "string_rewrite",
    "random_string_rewrite",
    "hmac",
];
/// Collection masking strategies: `delete` removes the person's rows.
pub const COLLECTION_STRATEGIES: [&str; 1] = ["delete"];
/// fideslang data types (each may also be an array: `string[]`).
pub const DATA_TYPES: [&str; 7] = [
    "string",
    "integer",
    "float",
    "boolean",
    "object_id",
    "object",
    "no_op",
];

/// A manifest that passed the check, with its warnings and what it holds.
#[derive(Debug, Clone)]
pub struct Checked {
    pub manifest: Manifest,
    pub warnings: Vec<Diagnostic>,
    pub summary: Summary,
}

/// What a manifest holds, for a person to read.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct Summary {
    pub datasets: usize,
    pub collections: usize,
    pub fields: usize,
    /// identity name → the fields that hold it (`dataset.collection.field`).
    pub identities: BTreeMap<String, Vec<String>>,
    /// Categories named, each once.
    pub categories: BTreeSet<String>,
}

/// Read and check a manifest. `known` says whether a category is one the tenant's
/// policy defines; without it, a category must be fideslang's `user.…` or `system.…`.
pub fn check(
    source: &str,
    file: &str,
    known: Option<&dyn Fn(&Category) -> bool>,
) -> Result<Checked, Vec<Diagnostic>> {
    let at_file = |d: Diagnostic| Diagnostic {
        file: file.to_string(),
        ..d
    };
    if source.len() > MAX_SOURCE_BYTES {
        return Err(vec![at_file(problem(
            "too_large",
            None,
            "",
            format!("a manifest is at most {MAX_SOURCE_BYTES} bytes"),
        ))]);
    }
    let manifest: Manifest = match serde_saphyr::from_str(source) {
        Ok(m) => m,
        Err(e) => {
            let (line, column) = e.location().map_or((0, 0), |l| {
                (
                    usize::try_from(l.line()).unwrap_or(0),
                    usize::try_from(l.column()).unwrap_or(0),
                )
            });
            return Err(vec![at_file(Diagnostic {
                line,
                column,
                ..problem(
                    "yaml",
                    None,
                    "",
                    format!(
                        "not a dataset manifest: {}",
                        scrub(&e.without_snippet().to_string())
                    ),
                )
            })]);
        }
    };
    let mut c = Checker {
        known,
        out: Vec::new(),
        summary: Summary::default(),
    };
    c.manifest(&manifest);
    let Checker {
        out: mut found,
        summary,
        ..
    } = c;
    found.sort_by_key(|d| (d.line, d.column));
    let found: Vec<Diagnostic> = found.into_iter().map(at_file).collect();
    if found.iter().any(Diagnostic::is_error) {
        return Err(found);
    }
    Ok(Checked {
        manifest,
        warnings: found,
        summary,
    })
}

/// The parser's message on one line, without its position (given apart) and without
/// anything it quotes back: a manifest names tables, not people, but an error never
/// echoes what was sent.
fn scrub(s: &str) -> String {
    let mut out = String::new();
    let mut quote: Option<char> = None;
    for ch in s.chars() {
        match quote {
            Some(q) if ch == q => {
                out.push('…');
                quote = None;
            }
            Some(_) => {}
            None if ch == '"' || ch == '`' => quote = Some(ch),
            None => out.push(ch),
        }
    }
    let text = out.split_whitespace().collect::<Vec<_>>().join(" ");
    // "error: line 3 column 18: expected …" → "expected …"
    let text = text.strip_prefix("error: ").unwrap_or(&text);
    match text.strip_prefix("line ").and_then(|t| t.split_once(": ")) {
        Some((_, rest)) => rest.to_string(),
        None => text.to_string(),
    }
}

fn problem(
    code: &'static str,
    at: Option<&Text>,
    path: &str,
    message: impl Into<String>,
) -> Diagnostic {
    let (line, column) = at.map_or((0, 0), |t| {
        (
            usize::try_from(t.referenced.line()).unwrap_or(0),
            usize::try_from(t.referenced.column()).unwrap_or(0),
        )
    });
    Diagnostic {
        severity: Severity::Error,
        code,
        file: String::new(),
        line,
        column,
        path: path.to_string(),
        message: message.into(),
    }
}

struct Checker<'a> {
    known: Option<&'a dyn Fn(&Category) -> bool>,
    out: Vec<Diagnostic>,
    summary: Summary,
}

impl Checker<'_> {
    fn error(&mut self, code: &'static str, at: &Text, path: &str, message: impl Into<String>) {
        self.out.push(problem(code, Some(at), path, message));
    }

    fn warning(&mut self, code: &'static str, at: &Text, path: &str, message: impl Into<String>) {
        self.out.push(Diagnostic {
            severity: Severity::Warning,
            ..problem(code, Some(at), path, message)
        });
    }

    fn manifest(&mut self, m: &Manifest) {
        let mut keys = BTreeSet::new();
        for (i, d) in m.dataset.iter().enumerate() {
            let path = format!("dataset[{i}]");
            if !is_key(&d.fides_key.value) {
                self.error(
                    "bad_key",
                    &d.fides_key,
                    &format!("{path}.fides_key"),
                    "a fides_key is letters, digits, '_', '-' and '.', starting with a letter or digit",
                );
            }
            if !keys.insert(d.fides_key.value.as_str()) {
                self.error(
                    "duplicate",
                    &d.fides_key,
                    &format!("{path}.fides_key"),
                    "another dataset of this manifest has this fides_key",
                );
            }
            self.dataset(m, d, &path);
        }
        self.summary.datasets = m.dataset.len();
        self.reachability(m);
    }

    fn dataset(&mut self, m: &Manifest, d: &Dataset, path: &str) {
        let mut names = BTreeSet::new();
        if d.collections.is_empty() {
            self.error(
                "empty",
                &d.fides_key,
                path,
                "a dataset lists at least one collection",
            );
        }
        for (j, c) in d.collections.iter().enumerate() {
            let cpath = format!("{path}.collections[{j}]");
            if !is_name(&c.name.value) {
                self.error(
                    "bad_name",
                    &c.name,
                    &format!("{cpath}.name"),
                    "a collection name is letters, digits and '_', starting with a letter or '_'",
                );
            }
            if !names.insert(c.name.value.as_str()) {
                self.error(
                    "duplicate",
                    &c.name,
                    &format!("{cpath}.name"),
                    "another collection of this dataset has this name",
                );
            }
            self.collection(m, d, c, &cpath);
        }
        self.summary.collections += d.collections.len();
    }

    fn collection(&mut self, m: &Manifest, d: &Dataset, c: &Collection, path: &str) {
        if c.fields.is_empty() {
            self.error(
                "empty",
                &c.name,
                path,
                "a collection lists at least one field",
            );
        }
        self.fields(m, d, &c.fields, path, &c.name.value);
        if let Some(meta) = c.meta() {
            for (list, name) in [(&meta.after, "after"), (&meta.erase_after, "erase_after")] {
                for (k, target) in list.iter().enumerate() {
                    if find_collection(m, &target.value).is_none() {
                        self.error(
                            "unknown_collection",
                            target,
                            &format!("{path}.fides_meta.{name}[{k}]"),
                            "expected dataset.collection naming a collection of this manifest",
                        );
                    }
                }
            }
            if let Some(mask) = &meta.masking_strategy_override
                && !COLLECTION_STRATEGIES.contains(&mask.strategy.value.as_str())
            {
                self.error(
                    "unsupported_strategy",
                    &mask.strategy,
                    &format!("{path}.fides_meta.masking_strategy_override.strategy"),
                    format!(
                        "a collection's strategy is one of {}",
                        COLLECTION_STRATEGIES.join(", ")
                    ),
                );
            }
        }
        if !has_primary_key(&c.fields) {
            self.warning(
                "no_primary_key",
                &c.name,
                path,
                "no field is marked primary_key: Vow will find and mask the person's rows by the fields that reached them",
            );
        }
    }

    fn fields(&mut self, m: &Manifest, d: &Dataset, fields: &[Field], path: &str, dotted: &str) {
        let mut names = BTreeSet::new();
        for (k, f) in fields.iter().enumerate() {
            let fpath = format!("{path}.fields[{k}]");
            let here = format!("{dotted}.{}", f.name.value);
            if !is_name(&f.name.value) {
                self.error(
                    "bad_name",
                    &f.name,
                    &format!("{fpath}.name"),
                    "a field name is letters, digits and '_', starting with a letter or '_'",
                );
            }
            if !names.insert(f.name.value.as_str()) {
                self.error(
                    "duplicate",
                    &f.name,
                    &format!("{fpath}.name"),
                    "another field here has this name",
                );
            }
            self.summary.fields += 1;
            for (n, cat) in f.data_categories.iter().enumerate() {
                self.category(cat, &format!("{fpath}.data_categories[{n}]"));
            }
            if let Some(meta) = f.meta() {
                let mpath = format!("{fpath}.fides_meta");
                if let Some(id) = &meta.identity {
                    if IDENTITIES.contains(&id.value.as_str()) {
                        self.summary
                            .identities
                            .entry(id.value.clone())
                            .or_default()
                            .push(format!("{}.{here}", d.fides_key.value));
                    } else {
                        self.error(
                            "unknown_identity",
                            id,
                            &format!("{mpath}.identity"),
                            format!(
                                "Vow's requests carry the identities {}",
                                IDENTITIES.join(", ")
                            ),
                        );
                    }
                }
                if let Some(t) = &meta.data_type {
                    let base = t.value.strip_suffix("[]").unwrap_or(&t.value);
                    if !DATA_TYPES.contains(&base) {
                        self.error(
                            "unknown_data_type",
                            t,
                            &format!("{mpath}.data_type"),
                            format!(
                                "expected one of {} (or an array of one, e.g. string[])",
                                DATA_TYPES.join(", ")
                            ),
                        );
                    }
                }
                if let Some(mask) = &meta.masking_strategy_override
                    && !FIELD_STRATEGIES.contains(&mask.strategy.value.as_str())
                {
                    self.error(
                        "unsupported_strategy",
                        &mask.strategy,
                        &format!("{mpath}.masking_strategy_override.strategy"),
                        format!(
                            "Vow masks a field with one of {}",
                            FIELD_STRATEGIES.join(", ")
                        ),
                    );
                }
                for (r, reference) in meta.references.iter().enumerate() {
                    let rpath = format!("{mpath}.references[{r}]");
                    if let Some(dir) = &reference.direction
                        && !matches!(dir.value.as_str(), "to" | "from")
                    {
                        self.error(
                            "bad_direction",
                            dir,
                            &format!("{rpath}.direction"),
                            "expected to or from",
                        );
                    }
                    let dataset = reference
                        .dataset
                        .as_ref()
                        .map_or(d.fides_key.value.as_str(), |t| t.value.as_str());
                    if !m.dataset.iter().any(|x| x.fides_key.value == dataset) {
                        let at = reference.dataset.as_ref().unwrap_or(&reference.field);
                        self.error(
                            "unknown_dataset",
                            at,
                            &format!("{rpath}.dataset"),
                            "names no dataset of this manifest (give every dataset a request reaches in one file)",
                        );
                    } else if resolve(m, dataset, &reference.field.value).is_none() {
                        self.error(
                            "unknown_field",
                            &reference.field,
                            &format!("{rpath}.field"),
                            format!(
                                "expected collection.field naming a field of dataset {dataset}"
                            ),
                        );
                    }
                }
            }
            if !f.fields.is_empty() {
                self.fields(m, d, &f.fields, &fpath, &here);
            }
        }
    }

    fn category(&mut self, cat: &Text, path: &str) {
        let Ok(category) = Category::new(&cat.value) else {
            self.error(
                "bad_category",
                cat,
                path,
                "expected dotted lowercase segments, e.g. user.contact.email",
            );
            return;
        };
        self.summary.categories.insert(cat.value.clone());
        let top = cat.value.split('.').next().unwrap_or("");
        let ok = match (self.known, top) {
            // Not about people: the system's own data.
            (_, "system") => true,
            (Some(known), _) => known(&category),
            (None, top) => top == "user",
        };
        if !ok {
            let why = if self.known.is_some() {
                "the tenant's policy defines no such category (nor one it falls within)"
            } else {
                "a fideslang category starts with user. or system."
            };
            self.error("unknown_category", cat, path, why);
        }
    }

    /// Every collection must be reachable from a collection holding an identity by
    /// following references in their direction; otherwise no request can find rows
    /// in it.
    fn reachability(&mut self, m: &Manifest) {
        let mut edges: HashMap<String, Vec<String>> = HashMap::new();
        let mut seeds = Vec::new();
        for d in &m.dataset {
            for c in &d.collections {
                let me = format!("{}.{}", d.fides_key.value, c.name.value);
                if has_identity(&c.fields) {
                    seeds.push(me.clone());
                }
                for_each_reference(&c.fields, &mut |dataset, field, direction| {
                    let dataset = dataset.unwrap_or(&d.fides_key.value);
                    let Some(other) = field.split('.').next() else {
                        return;
                    };
                    let other = format!("{dataset}.{other}");
                    if direction != Some("from") {
                        edges.entry(me.clone()).or_default().push(other.clone());
                    }
                    if direction != Some("to") {
                        edges.entry(other).or_default().push(me.clone());
                    }
                });
            }
        }
        let mut seen: BTreeSet<String> = seeds.iter().cloned().collect();
        let mut queue: VecDeque<String> = seeds.into_iter().collect();
        while let Some(n) = queue.pop_front() {
            for next in edges.get(&n).into_iter().flatten() {
                if seen.insert(next.clone()) {
                    queue.push_back(next.clone());
                }
            }
        }
        for (i, d) in m.dataset.iter().enumerate() {
            for (j, c) in d.collections.iter().enumerate() {
                let me = format!("{}.{}", d.fides_key.value, c.name.value);
                let skipped = c.meta().is_some_and(|m| m.skip_processing);
                if !skipped && !seen.contains(&me) {
                    self.error(
                        "unreachable",
                        &c.name,
                        &format!("dataset[{i}].collections[{j}]"),
                        "no identity field leads here: add an identity, a reference to a collection that has one, or skip_processing",
                    );
                }
            }
        }
    }
}

fn is_key(s: &str) -> bool {
    s.chars().next().is_some_and(|c| c.is_ascii_alphanumeric())
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.'))
}

/// A SQL-safe identifier: what Vow will quote and check against the live schema.
fn is_name(s: &str) -> bool {
    s.len() <= 63
        && s.chars()
            .next()
            .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && s.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
}

fn has_primary_key(fields: &[Field]) -> bool {
    fields
        .iter()
        .any(|f| f.meta().is_some_and(|m| m.primary_key))
}

fn has_identity(fields: &[Field]) -> bool {
    fields.iter().any(|f| {
        f.meta().is_some_and(|m| {
            m.identity
                .as_ref()
                .is_some_and(|i| IDENTITIES.contains(&i.value.as_str()))
        }) || has_identity(&f.fields)
    })
}

/// Called with each reference's dataset (if named), field and direction (if given).
type OnReference<'a> = dyn FnMut(Option<&str>, &str, Option<&str>) + 'a;

fn for_each_reference(fields: &[Field], each: &mut OnReference<'_>) {
    for f in fields {
        if let Some(meta) = f.meta() {
            for r in &meta.references {
                each(
                    r.dataset.as_ref().map(|t| t.value.as_str()),
                    &r.field.value,
                    r.direction.as_ref().map(|t| t.value.as_str()),
                );
            }
        }
        for_each_reference(&f.fields, each);
    }
}

/// The collection named `dataset.collection`, if the manifest has it.
fn find_collection<'m>(m: &'m Manifest, dotted: &str) -> Option<&'m Collection> {
    let (dataset, collection) = dotted.split_once('.')?;
    m.dataset
        .iter()
        .find(|d| d.fides_key.value == dataset)?
        .collections
        .iter()
        .find(|c| c.name.value == collection)
}

/// The field `collection.field[.member…]` of `dataset`, if the manifest has it.
pub(crate) fn resolve<'m>(m: &'m Manifest, dataset: &str, dotted: &str) -> Option<&'m Field> {
    let mut parts = dotted.split('.');
    let collection = parts.next()?;
    let c = m
        .dataset
        .iter()
        .find(|d| d.fides_key.value == dataset)?
        .collections
        .iter()
        .find(|c| c.name.value == collection)?;
    let mut fields = &c.fields;
    let mut found = None;
    for part in parts {
        let f = fields.iter().find(|f| f.name.value == part)?;
        fields = &f.fields;
        found = Some(f);
    }
    found
}
