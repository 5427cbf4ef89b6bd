//! A folder of models (`<model id>/{input.schema.json, output.schema.json, model.json}`) turned
//! into Rust: one module per model, and the per-model glue that must never be written by hand —
//! the module tree, `MODELS`, the short paths users type (`text_to_video`, `v1_1::image_to_video`)
//! and `for_each_model!`.
//!
//! The same code generates `schemas/models/` into the library and the codegen tests' own model
//! into `crates/happyhorse-types/tests/test_models/`, so the test model proves what adding a
//! model costs: its three JSON files and nothing else.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail, ensure};
use heck::{ToSnakeCase, ToUpperCamelCase};
use proc_macro2::TokenStream;
use quote::{format_ident, quote};
use serde_json::Value;

use super::emit::{self, StructRole};
use super::{ir, module_docs, read_json, rel_path, render, sorted_entries};

/// Names the library's root already uses: a model's short path may not take them (the short paths
/// are glob re-exported at the root, and a glob never overrides an item of the same name).
const RESERVED_ROOT_NAMES: &[&str] = &[
    "generated",
    "model",
    "models",
    "paths",
    "rules",
    "value_error",
];

/// One model: a folder holding `input.schema.json`, `output.schema.json` and `model.json`.
pub(crate) struct ModelDir {
    /// The model's id, from the folder path under the models folder.
    pub(crate) id: String,
    dir: PathBuf,
    /// `short_name` from `model.json`, e.g. `i2v` or `1.1/i2v`.
    short_name: String,
    /// Where users find the module, relative to the crate root: the short name's namespace, then
    /// the id's last segment (`["v1_1", "image_to_video"]`).
    short_path: Vec<String>,
    metadata: Value,
}

impl ModelDir {
    /// The module path of the model under `models`, one segment per id segment.
    fn module_path(&self) -> Vec<String> {
        self.id.split('/').map(module_name).collect()
    }

    fn marker(&self) -> String {
        self.id
            .rsplit('/')
            .next()
            .unwrap_or_default()
            .to_upper_camel_case()
    }
}

/// Every model under `base`, sorted by id, with its `model.json` read and its short name checked.
pub(crate) fn collect(root: &Path, base: &Path) -> Result<Vec<ModelDir>> {
    let mut dirs = Vec::new();
    find_model_dirs(base, base, &mut dirs)?;
    let mut models: Vec<ModelDir> = Vec::new();
    for (id, dir) in dirs {
        let rel_dir = rel_path(root, &dir);
        let metadata = read_json(&dir.join("model.json"))?;
        let text = |key: &str| metadata.get(key).and_then(Value::as_str);
        ensure!(
            text("model_id") == Some(id.as_str()),
            "{rel_dir}/model.json: `model_id` is {:?} but the folder says `{id}`",
            text("model_id")
        );
        let short_name = text("short_name")
            .with_context(|| {
                format!("{rel_dir}/model.json: `short_name` (the CLI's name for the model, e.g. `t2v` or `1.1/t2v`) is missing")
            })?
            .to_owned();
        let short_path = short_path(&id, &short_name)
            .with_context(|| format!("{rel_dir}/model.json: `short_name`"))?;
        ensure!(
            text("display_name").is_some(),
            "{rel_dir}/model.json: `display_name` is missing"
        );
        for other in &models {
            ensure!(
                other.short_name != short_name && other.id != short_name,
                "{rel_dir}/model.json: the short name `{short_name}` is already `{}`'s",
                other.id
            );
            ensure!(
                other.short_path != short_path,
                "{rel_dir}: `{}` and `{id}` would both be `{}`; give one of them a namespace in its \
                 `short_name` (`1.1/i2v` is `v1_1::image_to_video`)",
                other.id,
                short_path.join("::")
            );
        }
        models.push(ModelDir {
            id,
            dir,
            short_name,
            short_path,
            metadata,
        });
    }
    // Models at the root (`i2v`) before namespaced ones (`1.1/i2v`), then by id: the order of
    // `MODELS`, of the catalogue and of `happyhorse models`.
    models.sort_by(|a, b| (a.short_path.len(), &a.id).cmp(&(b.short_path.len(), &b.id)));
    Ok(models)
}

fn find_model_dirs(base: &Path, dir: &Path, out: &mut Vec<(String, PathBuf)>) -> Result<()> {
    if dir.join("input.schema.json").exists() {
        let id = dir
            .strip_prefix(base)?
            .components()
            .map(|c| c.as_os_str().to_string_lossy().into_owned())
            .collect::<Vec<_>>()
            .join("/");
        out.push((id, dir.to_path_buf()));
        return Ok(());
    }
    for entry in sorted_entries(dir)? {
        if entry.is_dir() {
            find_model_dirs(base, &entry, out)?;
        }
    }
    Ok(())
}

/// The short path of a model: the namespace of its short name (`1.1/i2v` → `v1_1`), then the
/// last segment of its id (`image_to_video`).
fn short_path(id: &str, short_name: &str) -> Result<Vec<String>> {
    let segments: Vec<&str> = short_name.split('/').collect();
    ensure!(
        segments.iter().all(|s| {
            !s.is_empty()
                && s.bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b"._-".contains(&b))
        }),
        "`{short_name}` must be lower-case letters, digits, `.`, `_` or `-`, with `/` between a namespace and the name"
    );
    let mut path: Vec<String> = segments[..segments.len() - 1]
        .iter()
        .map(|s| module_name(s))
        .collect();
    path.push(module_name(id.rsplit('/').next().unwrap_or_default()));
    if RESERVED_ROOT_NAMES.contains(&path[0].as_str()) {
        bail!(
            "`{short_name}` would put the model at `{}`, a name the library's root already uses",
            path.join("::")
        );
    }
    Ok(path)
}

/// A Rust module name for one segment of a model id or short name.
pub(crate) fn module_name(segment: &str) -> String {
    let snake = segment.replace(['.', '-'], "_").to_snake_case();
    if snake.starts_with(|c: char| c.is_ascii_digit()) {
        format!("v{snake}")
    } else {
        snake
    }
}

/// The generated files of `models`: one per model under `out/models/…`, keyed by path.
pub(crate) fn model_files(
    root: &Path,
    out: &Path,
    models: &[ModelDir],
) -> Result<BTreeMap<PathBuf, String>> {
    let mut files = BTreeMap::new();
    for model in models {
        let file = model
            .module_path()
            .iter()
            .fold(out.join("models"), |p, seg| p.join(seg))
            .with_extension("rs");
        files.insert(file, model_file(root, model)?);
    }
    Ok(files)
}

fn model_file(root: &Path, model: &ModelDir) -> Result<String> {
    let rel_dir = rel_path(root, &model.dir);
    let input = read_json(&model.dir.join("input.schema.json"))?;
    let output = read_json(&model.dir.join("output.schema.json"))?;
    let marker = model.marker();
    let input_name = format!("{marker}Input");
    let output_name = format!("{marker}Output");

    let mut reader = ir::Reader::new();
    reader
        .root_struct(&input_name, &input, "")
        .with_context(|| format!("in {rel_dir}/input.schema.json"))?;
    let input_defs = emit::defs(&reader.defs, StructRole::Input);
    let mut out_reader = ir::Reader::new();
    out_reader
        .root_struct(&output_name, &output, "")
        .with_context(|| format!("in {rel_dir}/output.schema.json"))?;
    for def in &out_reader.defs {
        ensure!(
            !reader.defs.iter().any(|d| d.name() == def.name()),
            "{rel_dir}: input and output schemas both define a type named `{}`",
            def.name()
        );
    }
    let output_defs = emit::defs(&out_reader.defs, StructRole::Response);

    let id = &model.id;
    let short_name = &model.short_name;
    let include = |file: &str| super::embed_path(&format!("{rel_dir}/{file}"));
    let (input_path, output_path, meta_path) = (
        include("input.schema.json"),
        include("output.schema.json"),
        include("model.json"),
    );
    let marker_ident = format_ident!("{marker}");
    let input_ident = format_ident!("{input_name}");
    let output_ident = format_ident!("{output_name}");
    let marker_doc = format!(" The `{id}` model, for APIs generic over [`Model`](crate::Model).");
    let items = quote! {
        /// The model's id on RunComfy.
        pub const MODEL_ID: &str = #id;

        /// The model's checked-in schemas and metadata, embedded at build time.
        pub static SPEC: crate::ModelSpec = crate::ModelSpec {
            id: MODEL_ID,
            short_name: #short_name,
            input_schema: include_str!(concat!(env!("CARGO_MANIFEST_DIR"), #input_path)),
            output_schema: include_str!(concat!(env!("CARGO_MANIFEST_DIR"), #output_path)),
            metadata: include_str!(concat!(env!("CARGO_MANIFEST_DIR"), #meta_path)),
        };

        #[doc = #marker_doc]
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
        pub struct #marker_ident;

        impl crate::Model for #marker_ident {
            const SPEC: &'static crate::ModelSpec = &SPEC;
            type Input = #input_ident;
            type Output = #output_ident;
        }

        #input_defs
        #output_defs
    };
    let text = |key: &str| model.metadata.get(key).and_then(Value::as_str);
    let mut docs = module_docs(&rel_dir, None);
    writeln!(
        docs,
        "//!\n//! {} (`{id}`, short name `{short_name}`).",
        text("display_name").unwrap_or(id)
    )?;
    if let Some(description) = text("description") {
        writeln!(docs, "//! {description}")?;
    }
    render(&docs, items)
}

/// The items of a `mod.rs` that serve `models`: the `models` module tree, `MODELS`, the `paths`
/// module of short paths and the `for_each_model!` macro.
pub(crate) fn index_items(models: &[ModelDir]) -> TokenStream {
    // A tree of module names; a leaf is a model.
    #[derive(Default)]
    struct Tree(BTreeMap<String, Tree>);

    /// `pub mod a { pub mod b; }` for the files under `models/`.
    fn module_tree(tree: &Tree, prefix: &str) -> TokenStream {
        tree.0
            .iter()
            .map(|(name, child)| {
                let ident = format_ident!("{name}");
                let path = if prefix.is_empty() {
                    name.clone()
                } else {
                    format!("{prefix}::{name}")
                };
                if child.0.is_empty() {
                    quote!(pub mod #ident;)
                } else {
                    let doc = format!(" Models under `{path}`.");
                    let inner = module_tree(child, &path);
                    quote!(#[doc = #doc] pub mod #ident { #inner })
                }
            })
            .collect()
    }

    let mut tree = Tree::default();
    let mut specs = Vec::new();
    let mut markers = Vec::new();
    // Short path → the path under `models` it re-exports.
    let mut short_paths: BTreeMap<Vec<String>, Vec<String>> = BTreeMap::new();
    for model in models {
        let segments = model.module_path();
        let mut node = &mut tree;
        for seg in &segments {
            node = node.0.entry(seg.clone()).or_default();
        }
        let path = path_tokens(&segments);
        specs.push(quote!(&models::#path::SPEC));
        let marker = format_ident!("{}", model.marker());
        let short = path_tokens(&model.short_path);
        markers.push(quote!($crate::#short::#marker));
        short_paths.insert(model.short_path.clone(), segments);
    }
    let model_mods = module_tree(&tree, "");
    let paths = paths_module(&short_paths, models, 0);
    let mut paths_doc = vec![
        " The models by the short paths users type, re-exported at the crate root: the namespace"
            .to_owned(),
        " of the model's short name (`1.1/i2v` → `v1_1`), then the last segment of its id."
            .to_owned(),
        String::new(),
        " | Model id | Short name | Module |".to_owned(),
        " |---|---|---|".to_owned(),
    ];
    for model in models {
        let path = model.short_path.join("::");
        paths_doc.push(format!(
            " | `{}` | `{}` | [`{path}`](crate::{path}) |",
            model.id, model.short_name
        ));
    }
    quote! {
        /// One module per model id, nested by the id's segments.
        pub mod models { #model_mods }

        /// Every model with checked-in schemas.
        pub static MODELS: &[&crate::ModelSpec] = &[#(#specs),*];

        #(#[doc = #paths_doc])*
        pub mod paths { #paths }

        /// Calls `$callback!` once with the marker type of every model, in [`MODELS`] order, as
        /// a comma-separated list of paths: for code that must name each model's type, such as a
        /// test run over every model, or dispatching a model chosen at run time to a generic
        /// function.
        #[macro_export]
        macro_rules! for_each_model {
            ($callback:ident) => {
                $callback!(#(#markers),*)
            };
        }
    }
}

/// The contents of `paths` (at `depth` 0) or of one namespace under it.
fn paths_module(
    short_paths: &BTreeMap<Vec<String>, Vec<String>>,
    models: &[ModelDir],
    depth: usize,
) -> TokenStream {
    let to_models: TokenStream = std::iter::repeat_n(quote!(super::), depth + 1).collect();
    let mut items = Vec::new();
    let mut namespaces: BTreeMap<&str, BTreeMap<Vec<String>, Vec<String>>> = BTreeMap::new();
    for (short, full) in short_paths {
        match short.as_slice() {
            [leaf] => {
                let path = path_tokens(full);
                let leaf = format_ident!("{leaf}");
                items.push(quote!(pub use #to_models models::#path as #leaf;));
            }
            [namespace, rest @ ..] => {
                namespaces
                    .entry(namespace.as_str())
                    .or_default()
                    .insert(rest.to_vec(), full.clone());
            }
            [] => {}
        }
    }
    for (namespace, inner) in namespaces {
        let ident = format_ident!("{namespace}");
        let names: Vec<String> = models
            .iter()
            .filter(|m| inner.values().any(|full| *full == m.module_path()))
            .map(|m| format!("`{}`", m.short_name))
            .collect();
        let doc = format!(" The models {}.", names.join(", "));
        let inner = paths_module(&inner, models, depth + 1);
        items.push(quote!(#[doc = #doc] pub mod #ident { #inner }));
    }
    quote!(#(#items)*)
}

fn path_tokens(segments: &[String]) -> TokenStream {
    let idents = segments.iter().map(|s| format_ident!("{s}"));
    quote!(#(#idents)::*)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn short_paths_come_from_the_short_name_namespace_and_the_id() {
        let path = |id: &str, short: &str| short_path(id, short).map(|p| p.join("::"));
        assert_eq!(
            path("happyhorse/happyhorse-1.0/image-to-video", "i2v").unwrap(),
            "image_to_video"
        );
        assert_eq!(
            path("alibaba/happyhorse-1.1/text-to-video", "1.1/t2v").unwrap(),
            "v1_1::text_to_video"
        );
        for (short, expected) in [
            ("T2V", "must be lower-case letters"),
            ("1.1//t2v", "must be lower-case letters"),
            ("generated/x", "a name the library's root already uses"),
        ] {
            let err = format!("{:#}", path("a/b/c", short).unwrap_err());
            assert!(err.contains(expected), "{short}: {err}");
        }
    }
}
