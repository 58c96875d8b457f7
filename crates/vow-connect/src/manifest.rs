//! The fideslang dataset manifest, as Fides users already write it: a `dataset:`
//! list, each with collections of fields, their `data_categories`, and `fides_meta`
//! (or the older `fidesops_meta`, which Fides still reads) saying which field is an
//! identity, which is the primary key, how collections reference each other, and how
//! a field is masked. Keys Vow does not use (`organization_fides_key`, `tags`,
//! `retention`, `meta`, …) are read past, so a Fides file loads unchanged.
//!
//! Names, categories and references keep where they were written
//! ([`serde_saphyr::Spanned`]) so that every problem the check finds names its line.

use serde::Deserialize;
use serde_saphyr::Spanned;

/// A YAML string that remembers its line and column.
pub type Text = Spanned<String>;

/// A manifest file: one or more datasets.
#[derive(Debug, Clone, Deserialize)]
pub struct Manifest {
    pub dataset: Vec<Dataset>,
}

/// One database, as a set of collections (tables).
#[derive(Debug, Clone, Deserialize)]
pub struct Dataset {
    pub fides_key: Text,
    #[serde(default)]
    pub name: Option<String>,
    #[serde(default)]
    pub description: Option<String>,
    #[serde(default)]
    pub collections: Vec<Collection>,
}

/// One table (or document collection).
#[derive(Debug, Clone, Deserialize)]
pub struct Collection {
    pub name: Text,
    #[serde(default)]
    pub description: Option<String>,
    #[serde(default)]
    pub fields: Vec<Field>,
    #[serde(default)]
    pub fides_meta: Option<CollectionMeta>,
    /// The older name of `fides_meta`; read the same way.
    #[serde(default)]
    pub fidesops_meta: Option<CollectionMeta>,
}

impl Collection {
    pub fn meta(&self) -> Option<&CollectionMeta> {
        self.fides_meta.as_ref().or(self.fidesops_meta.as_ref())
    }
}

/// What a collection says about its processing.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct CollectionMeta {
    /// Collections (`dataset.collection`) to visit before this one.
    #[serde(default)]
    pub after: Vec<Text>,
    /// Collections (`dataset.collection`) to erase before this one.
    #[serde(default)]
    pub erase_after: Vec<Text>,
    #[serde(default)]
    pub skip_processing: bool,
    /// `{strategy: delete}`: erasure deletes the person's rows instead of masking.
    #[serde(default)]
    pub masking_strategy_override: Option<Masking>,
}

/// One column, or a member of a document (`fields` nested).
#[derive(Debug, Clone, Deserialize)]
pub struct Field {
    pub name: Text,
    #[serde(default)]
    pub description: Option<String>,
    #[serde(default)]
    pub data_categories: Vec<Text>,
    #[serde(default)]
    pub fides_meta: Option<FieldMeta>,
    /// The older name of `fides_meta`; read the same way.
    #[serde(default)]
    pub fidesops_meta: Option<FieldMeta>,
    /// The members of a document field.
    #[serde(default)]
    pub fields: Vec<Field>,
}

impl Field {
    pub fn meta(&self) -> Option<&FieldMeta> {
        self.fides_meta.as_ref().or(self.fidesops_meta.as_ref())
    }
}

/// What a field says about itself.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct FieldMeta {
    #[serde(default)]
    pub references: Vec<Reference>,
    /// The identity this field holds (`email`, `phone_number`, …): a starting point.
    #[serde(default)]
    pub identity: Option<Text>,
    #[serde(default)]
    pub primary_key: bool,
    #[serde(default)]
    pub data_type: Option<Text>,
    #[serde(default)]
    pub length: Option<u64>,
    #[serde(default)]
    pub read_only: bool,
    #[serde(default)]
    pub return_all_elements: bool,
    /// A value the request supplies to scope the query (e.g. a tenant column).
    #[serde(default)]
    pub custom_request_field: Option<Text>,
    #[serde(default)]
    pub masking_strategy_override: Option<Masking>,
}

/// A link from this field to a field of another collection.
#[derive(Debug, Clone, Deserialize)]
pub struct Reference {
    /// The dataset of the other field; absent: this one.
    #[serde(default)]
    pub dataset: Option<Text>,
    /// `collection.field` (or `collection.field.member` in a document).
    pub field: Text,
    /// `to`: this field's values find rows of the other; `from`: the other's values
    /// find rows here; absent: either way.
    #[serde(default)]
    pub direction: Option<Text>,
}

/// A masking strategy and its settings.
#[derive(Debug, Clone, Deserialize)]
pub struct Masking {
    pub strategy: Text,
    #[serde(default)]
    pub configuration: Option<serde_json::Value>,
}
