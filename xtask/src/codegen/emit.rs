//! Turns the generator's type definitions into Rust items.
//!
//! The emitted code must read like hand-written Rust: closed enums with real variants, newtypes that
//! cannot hold out-of-range values, defaults from the schema, docs from titles and descriptions.

use heck::{ToSnakeCase, ToUpperCamelCase};
use proc_macro2::{Ident, Literal, Span, TokenStream};
use quote::{format_ident, quote};
use serde_json::Value;

use super::ir::{Def, Field, Meta, Ty, Variant};

/// How a struct is emitted.
#[derive(Clone, Copy, PartialEq)]
pub(crate) enum StructRole {
    /// A request body: gets `new(required…)` and chainable setters.
    Input,
    /// A response body: plain data.
    Response,
}

pub(crate) fn defs(defs: &[Def], role: StructRole) -> TokenStream {
    defs.iter().map(|def| def_item(def, defs, role)).collect()
}

fn def_item(def: &Def, all: &[Def], role: StructRole) -> TokenStream {
    match def {
        Def::Struct { name, meta, fields } => struct_item(name, meta, fields, all, role),
        Def::StringEnum {
            name,
            meta,
            values,
            default,
            inline,
        } => string_enum(name, meta, values, default.as_deref(), *inline),
        Def::OpenEnum { name, meta, values } => open_enum(name, meta, values),
        Def::IntEnum {
            name,
            meta,
            values,
            default,
            int_ty,
        } => {
            let rule = int_enum_rule(values);
            let check = quote!(Self::ALLOWED.contains(&v));
            let values_lit = values.iter().map(|v| int_lit(*v));
            let ty = ident(int_ty);
            let consts = quote! {
                /// Every allowed value, in schema order.
                pub const ALLOWED: &'static [#ty] = &[#(#values_lit),*];
            };
            let schema =
                quote!(::schemars::json_schema!({ "type": "integer", "enum": Self::ALLOWED }));
            int_newtype(name, meta, int_ty, *default, &rule, check, consts, schema)
        }
        Def::RangedInt {
            name,
            meta,
            min,
            max,
            default,
            int_ty,
        } => {
            let rule = format!("an integer from {min} to {max}");
            let (min_lit, max_lit) = (int_lit(*min), int_lit(*max));
            let consts = quote! {
                /// The smallest allowed value.
                pub const MIN: Self = Self(#min_lit);
                /// The largest allowed value.
                pub const MAX: Self = Self(#max_lit);
            };
            let check = quote!((Self::MIN.0..=Self::MAX.0).contains(&v));
            let schema = quote!(
                ::schemars::json_schema!({ "type": "integer", "minimum": Self::MIN.0, "maximum": Self::MAX.0 })
            );
            int_newtype(name, meta, int_ty, *default, &rule, check, consts, schema)
        }
        Def::Untagged {
            name,
            meta,
            variants,
        } => untagged(name, meta, variants),
    }
}

fn struct_item(
    name: &str,
    meta: &Meta,
    fields: &[Field],
    all: &[Def],
    role: StructRole,
) -> TokenStream {
    let name_ident = ident(name);
    let (docs, fallback) = docs_or(meta, &format!(" The `{name}` object."));
    let schemars_meta = schemars_meta(meta, fallback);
    let field_items = fields.iter().map(|f| field_item(name, f));
    let builder = (role == StructRole::Input).then(|| builder_impl(&name_ident, fields, all));
    let default_fns = fields.iter().filter_map(default_fn);
    let default_impl = quote! {
        impl #name_ident { #(#default_fns)* }
    };
    let default_impl = (fields.iter().any(|f| default_fn(f).is_some())).then_some(default_impl);
    quote! {
        #docs
        #[derive(Debug, Clone, PartialEq, ::serde::Serialize, ::serde::Deserialize, ::schemars::JsonSchema)]
        #schemars_meta
        pub struct #name_ident { #(#field_items)* }
        #builder
        #default_impl
    }
}

/// How a field is stored.
enum Storage {
    /// Always present on the wire (required) — or absent and filled from `#[serde(default)]`.
    Plain,
    /// Absent and filled by a generated default function.
    DefaultFn,
    /// Absent means `None`.
    Optional,
}

fn storage(field: &Field) -> Storage {
    match (&field.default, field.required) {
        (_, true) => Storage::Plain,
        (None, false) => Storage::Optional,
        (Some(default), false) => match (&field.ty, default) {
            (Ty::Named(_), _) => Storage::Plain,
            (Ty::Bool, Value::Bool(false)) => Storage::Plain,
            (Ty::String, Value::String(s)) if s.is_empty() => Storage::Plain,
            (Ty::Int(_) | Ty::Number, Value::Number(n)) if n.as_f64() == Some(0.0) => {
                Storage::Plain
            }
            _ => Storage::DefaultFn,
        },
    }
}

fn field_item(struct_name: &str, field: &Field) -> TokenStream {
    let name = field_ident(&field.json_name);
    let ty = ty_tokens(&field.ty);
    let (docs, fallback) = docs_or(&field.meta, &format!(" The `{}` field.", field.json_name));
    let mut schemars = schemars_args(&field.meta);
    if fallback {
        schemars.push(hide_fallback_doc());
    }
    if let Some(max) = field.max_length {
        let max = Literal::u64_unsuffixed(max);
        schemars.push(quote!(length(max = #max)));
    }
    if let Some(format) = &field.format {
        schemars.push(quote!(extend("format" = #format)));
    }
    if let (Some(format), Ty::Array(item)) = (&field.items_format, &field.ty) {
        let item_type = item.json_type();
        schemars.push(quote!(extend("items" = { "type": #item_type, "format": #format })));
    }
    let (serde, ty) = match storage(field) {
        Storage::Plain if !field.required => (quote!(#[serde(default)]), ty),
        Storage::Plain => {
            // A required field's schema default is documentation only (serde never fills it in).
            if let Some(default) = &field.default {
                let default = json_tokens(default);
                schemars.push(quote!(extend("default" = #default)));
            }
            (quote!(), ty)
        }
        Storage::DefaultFn => {
            // Spelled out: inside serde's derive, `Self` is its visitor.
            let path = format!("{struct_name}::default_{}", field.json_name);
            (quote!(#[serde(default = #path)]), ty)
        }
        Storage::Optional => {
            let with = ty.to_string().replace(' ', "");
            schemars.push(quote!(with = #with));
            (
                quote!(#[serde(default, skip_serializing_if = "Option::is_none")]),
                quote!(Option<#ty>),
            )
        }
    };
    let schemars = (!schemars.is_empty()).then(|| quote!(#[schemars(#(#schemars),*)]));
    quote! {
        #docs
        #serde
        #schemars
        pub #name: #ty,
    }
}

fn default_fn(field: &Field) -> Option<TokenStream> {
    let Storage::DefaultFn = storage(field) else {
        return None;
    };
    let fn_name = format_ident!("default_{}", field.json_name);
    let ty = ty_tokens(&field.ty);
    let value = primitive_value(&field.ty, field.default.as_ref()?);
    Some(quote! {
        fn #fn_name() -> #ty { #value }
    })
}

fn builder_impl(name: &Ident, fields: &[Field], all: &[Def]) -> TokenStream {
    let required: Vec<&Field> = fields.iter().filter(|f| f.required).collect();
    let params = required.iter().map(|f| {
        let n = field_ident(&f.json_name);
        match &f.ty {
            Ty::String => quote!(#n: impl Into<String>),
            other => {
                let t = ty_tokens(other);
                quote!(#n: #t)
            }
        }
    });
    let inits = fields.iter().map(|f| {
        let n = field_ident(&f.json_name);
        if f.required {
            return match &f.ty {
                Ty::String => quote!(#n: #n.into()),
                _ => quote!(#n),
            };
        }
        match storage(f) {
            Storage::Plain => quote!(#n: Default::default()),
            Storage::DefaultFn => {
                let fn_name = format_ident!("default_{}", f.json_name);
                quote!(#n: Self::#fn_name())
            }
            Storage::Optional => quote!(#n: None),
        }
    });
    let required_names: Vec<String> = required
        .iter()
        .map(|f| format!("`{}`", f.json_name))
        .collect();
    let new_doc = format!(
        " Builds a value from its required fields ({}); every other field takes its schema default.",
        required_names.join(", ")
    );
    let setters = fields
        .iter()
        .filter(|f| !f.required)
        .map(|f| setter(f, all));
    quote! {
        impl #name {
            #[doc = #new_doc]
            pub fn new(#(#params),*) -> Self {
                Self { #(#inits),* }
            }
            #(#setters)*
        }
    }
}

fn setter(field: &Field, all: &[Def]) -> TokenStream {
    let n = field_ident(&field.json_name);
    let doc = format!(" Sets `{}`.", field.json_name);
    let wrap = |value: TokenStream| match storage(field) {
        Storage::Optional => quote!(Some(#value)),
        _ => value,
    };
    match &field.ty {
        Ty::Named(type_name) if is_checked_int(type_name, all) => {
            let t = ident(type_name);
            let value = wrap(quote!(#t::new(value)?));
            let doc = format!(
                " Sets `{}`, checking it against the schema's rule.",
                field.json_name
            );
            quote! {
                #[doc = #doc]
                ///
                /// # Errors
                /// A [`ValueError`](crate::ValueError) naming the field, the rule and the value when it is out of range.
                pub fn #n(mut self, value: i64) -> Result<Self, crate::ValueError> {
                    self.#n = #value;
                    Ok(self)
                }
            }
        }
        Ty::String => {
            let value = wrap(quote!(value.into()));
            quote! {
                #[doc = #doc]
                pub fn #n(mut self, value: impl Into<String>) -> Self { self.#n = #value; self }
            }
        }
        other => {
            let t = ty_tokens(other);
            let value = wrap(quote!(value));
            quote! {
                #[doc = #doc]
                pub fn #n(mut self, value: #t) -> Self { self.#n = #value; self }
            }
        }
    }
}

/// Whether a named type is one of the checked integer newtypes, whose setters take a raw integer.
fn is_checked_int(type_name: &str, all: &[Def]) -> bool {
    all.iter()
        .any(|d| d.name() == type_name && matches!(d, Def::IntEnum { .. } | Def::RangedInt { .. }))
}

fn string_enum(
    name: &str,
    meta: &Meta,
    values: &[String],
    default: Option<&str>,
    inline: bool,
) -> TokenStream {
    let name_ident = ident(name);
    // Inline enums take their title and description from the property that holds them.
    let schema_meta = if inline {
        Vec::new()
    } else {
        schema_meta_entries(meta)
    };
    let (docs, _) = docs_or(meta, &format!(" The values of `{}`.", name.to_snake_case()));
    let variants: Vec<Ident> = values.iter().map(|v| variant_ident(v)).collect();
    let variant_items = values.iter().zip(&variants).map(|(value, variant)| {
        let doc = format!(" `{value}`");
        let default_attr = (Some(value.as_str()) == default).then(|| quote!(#[default]));
        quote! {
            #[doc = #doc]
            #default_attr
            #[serde(rename = #value)]
            #variant,
        }
    });
    let default_derive = default.map(|_| quote!(Default,));
    let field = name.to_snake_case();
    let allowed: Vec<String> = values.iter().map(|v| format!("\"{v}\"")).collect();
    let rule = format!("one of {}", allowed.join(", "));
    quote! {
        #docs
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, #default_derive ::serde::Serialize, ::serde::Deserialize)]
        pub enum #name_ident { #(#variant_items)* }

        // Written out rather than derived: the derive turns documented variants into `oneOf`/`const`.
        impl ::schemars::JsonSchema for #name_ident {
            fn inline_schema() -> bool { #inline }

            fn schema_name() -> ::std::borrow::Cow<'static, str> {
                #name.into()
            }

            fn json_schema(_: &mut ::schemars::SchemaGenerator) -> ::schemars::Schema {
                ::schemars::json_schema!({
                    #(#schema_meta)*
                    "type": "string",
                    "enum": Self::ALL.iter().map(|v| v.as_str()).collect::<Vec<_>>()
                })
            }
        }

        impl #name_ident {
            /// Every value, in schema order.
            pub const ALL: &'static [Self] = &[#(Self::#variants),*];

            /// The value as it is written on the wire.
            pub const fn as_str(self) -> &'static str {
                match self { #(Self::#variants => #values,)* }
            }
        }

        impl ::core::fmt::Display for #name_ident {
            fn fmt(&self, f: &mut ::core::fmt::Formatter<'_>) -> ::core::fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl ::core::str::FromStr for #name_ident {
            type Err = crate::ValueError;

            fn from_str(s: &str) -> Result<Self, Self::Err> {
                Self::ALL
                    .iter()
                    .copied()
                    .find(|v| v.as_str() == s)
                    .ok_or_else(|| crate::ValueError::new(#field, #rule, s))
            }
        }
    }
}

fn open_enum(name: &str, meta: &Meta, values: &[String]) -> TokenStream {
    let name_ident = ident(name);
    let schema_meta = schema_meta_entries(meta);
    let (docs, _) = docs_or(meta, &format!(" The values of `{}`.", name.to_snake_case()));
    let variants: Vec<Ident> = values.iter().map(|v| variant_ident(v)).collect();
    let variant_items = values.iter().zip(&variants).map(|(value, variant)| {
        let doc = format!(" `{value}`");
        quote!(#[doc = #doc] #variant,)
    });
    quote! {
        #docs
        #[derive(Debug, Clone, PartialEq, Eq, Hash)]
        pub enum #name_ident {
            #(#variant_items)*
            /// A value this version does not know, kept exactly as the service sent it.
            Unknown(String),
        }

        impl #name_ident {
            /// The values this version knows, in schema order.
            pub const KNOWN: &'static [&'static str] = &[#(#values),*];

            /// The value as it is written on the wire.
            pub fn as_str(&self) -> &str {
                match self {
                    #(Self::#variants => #values,)*
                    Self::Unknown(other) => other,
                }
            }
        }

        impl From<&str> for #name_ident {
            fn from(value: &str) -> Self {
                match value {
                    #(#values => Self::#variants,)*
                    other => Self::Unknown(other.to_owned()),
                }
            }
        }

        impl From<String> for #name_ident {
            fn from(value: String) -> Self {
                match Self::from(value.as_str()) {
                    Self::Unknown(_) => Self::Unknown(value),
                    known => known,
                }
            }
        }

        impl ::core::fmt::Display for #name_ident {
            fn fmt(&self, f: &mut ::core::fmt::Formatter<'_>) -> ::core::fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl ::serde::Serialize for #name_ident {
            fn serialize<S: ::serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
                serializer.serialize_str(self.as_str())
            }
        }

        impl<'de> ::serde::Deserialize<'de> for #name_ident {
            fn deserialize<D: ::serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
                String::deserialize(deserializer).map(Self::from)
            }
        }

        impl ::schemars::JsonSchema for #name_ident {
            fn schema_name() -> ::std::borrow::Cow<'static, str> {
                #name.into()
            }

            fn json_schema(_: &mut ::schemars::SchemaGenerator) -> ::schemars::Schema {
                ::schemars::json_schema!({
                    #(#schema_meta)*
                    "anyOf": [{ "type": "string", "enum": Self::KNOWN }, { "type": "string" }]
                })
            }
        }
    }
}

#[allow(clippy::too_many_arguments)]
fn int_newtype(
    name: &str,
    meta: &Meta,
    int_ty: &str,
    default: Option<i64>,
    rule: &str,
    check: TokenStream,
    consts: TokenStream,
    schema: TokenStream,
) -> TokenStream {
    let name_ident = ident(name);
    let ty = ident(int_ty);
    let (docs, _) = docs_or(meta, &format!(" The value of `{}`.", name.to_snake_case()));
    let field = name.to_snake_case();
    let rule_doc =
        format!(" Holds only {rule}, so an out-of-range value cannot be built or deserialised.");
    let default_impl = default.map(|d| {
        let lit = int_lit(d);
        quote! {
            impl Default for #name_ident {
                /// The schema's default.
                fn default() -> Self { Self(#lit) }
            }
        }
    });
    quote! {
        #docs
        ///
        #[doc = #rule_doc]
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, ::serde::Serialize)]
        #[serde(transparent)]
        pub struct #name_ident(#ty);

        impl #name_ident {
            #consts

            /// Checks `value` against the schema's rule.
            ///
            /// # Errors
            /// A [`ValueError`](crate::ValueError) naming the field, the rule and the value.
            pub fn new(value: i64) -> Result<Self, crate::ValueError> {
                match #ty::try_from(value) {
                    Ok(v) if #check => Ok(Self(v)),
                    _ => Err(crate::ValueError::new(#field, #rule, value)),
                }
            }

            /// The value.
            pub const fn get(self) -> #ty { self.0 }
        }

        #default_impl

        impl ::core::fmt::Display for #name_ident {
            fn fmt(&self, f: &mut ::core::fmt::Formatter<'_>) -> ::core::fmt::Result {
                ::core::fmt::Display::fmt(&self.0, f)
            }
        }

        impl TryFrom<i64> for #name_ident {
            type Error = crate::ValueError;
            fn try_from(value: i64) -> Result<Self, Self::Error> { Self::new(value) }
        }

        impl From<#name_ident> for #ty {
            fn from(value: #name_ident) -> Self { value.0 }
        }

        impl<'de> ::serde::Deserialize<'de> for #name_ident {
            fn deserialize<D: ::serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
                let value = i64::deserialize(deserializer)?;
                Self::new(value).map_err(::serde::de::Error::custom)
            }
        }

        impl ::schemars::JsonSchema for #name_ident {
            fn inline_schema() -> bool { true }

            fn schema_name() -> ::std::borrow::Cow<'static, str> {
                #name.into()
            }

            fn json_schema(_: &mut ::schemars::SchemaGenerator) -> ::schemars::Schema {
                #schema
            }
        }
    }
}

fn untagged(name: &str, meta: &Meta, variants: &[Variant]) -> TokenStream {
    let name_ident = ident(name);
    let (type_docs, fallback) = docs_or(meta, &format!(" The alternatives of `{name}`."));
    let type_schemars = schemars_meta(meta, fallback);
    let items = variants.iter().map(|variant| {
        let v = ident(&variant.name);
        let t = ty_tokens(&variant.ty);
        let docs = docs(&Meta {
            title: None,
            ..variant.meta.clone()
        });
        let schemars = schemars_meta(&variant.meta, false);
        quote!(#docs #schemars #v(#t),)
    });
    quote! {
        #type_docs
        #[derive(Debug, Clone, PartialEq, ::serde::Serialize, ::serde::Deserialize, ::schemars::JsonSchema)]
        #[serde(untagged)]
        #type_schemars
        pub enum #name_ident { #(#items)* }
    }
}

/// `"title": …, "description": …,` entries for a `json_schema!` literal.
fn schema_meta_entries(meta: &Meta) -> Vec<TokenStream> {
    let mut entries = Vec::new();
    if let Some(title) = &meta.title {
        entries.push(quote!("title": #title,));
    }
    if let Some(description) = &meta.description {
        entries.push(quote!("description": #description,));
    }
    entries
}

fn int_enum_rule(values: &[i64]) -> String {
    let contiguous = values.windows(2).all(|w| w[1] == w[0] + 1);
    match (values.first(), values.last()) {
        (Some(first), Some(last)) if contiguous && values.len() > 2 => {
            format!("an integer from {first} to {last}")
        }
        _ => {
            let listed: Vec<String> = values.iter().map(i64::to_string).collect();
            format!("one of {}", listed.join(", "))
        }
    }
}

/// The item's doc comment from the schema's text, or `fallback` when the schema has none (every
/// public item is documented). Says whether the fallback was used: schemars reads doc comments,
/// so a fallback must then be kept out of the derived schema ([`hide_fallback_doc`]).
fn docs_or(meta: &Meta, fallback: &str) -> (TokenStream, bool) {
    if meta.title.is_none() && meta.description.is_none() {
        (quote!(#[doc = #fallback]), true)
    } else {
        (docs(meta), false)
    }
}

/// `description = ""`: schemars skips an empty description instead of reading the doc comment.
fn hide_fallback_doc() -> TokenStream {
    quote!(description = "")
}

fn docs(meta: &Meta) -> TokenStream {
    let mut paragraphs = Vec::new();
    paragraphs.extend(meta.title.iter());
    paragraphs.extend(meta.description.iter());
    let mut lines = Vec::new();
    for (i, paragraph) in paragraphs.iter().enumerate() {
        if i > 0 {
            lines.push(String::new());
        }
        lines.extend(paragraph.lines().map(|l| format!(" {l}")));
    }
    quote!(#(#[doc = #lines])*)
}

fn schemars_args(meta: &Meta) -> Vec<TokenStream> {
    let mut args = Vec::new();
    if let Some(title) = &meta.title {
        args.push(quote!(title = #title));
    }
    if let Some(description) = &meta.description {
        args.push(quote!(description = #description));
    }
    args
}

/// `#[schemars(title = …, description = …)]` for a derived `JsonSchema`, hiding the doc comment
/// when it is a `fallback` (see [`docs_or`]).
fn schemars_meta(meta: &Meta, fallback: bool) -> TokenStream {
    let mut args = schemars_args(meta);
    if fallback {
        args.push(hide_fallback_doc());
    }
    if args.is_empty() {
        quote!()
    } else {
        quote!(#[schemars(#(#args),*)])
    }
}

pub(crate) fn ty_tokens(ty: &Ty) -> TokenStream {
    match ty {
        Ty::String => quote!(String),
        Ty::Bool => quote!(bool),
        Ty::Int(name) => {
            let i = ident(name);
            quote!(#i)
        }
        Ty::Number => quote!(f64),
        Ty::Any => quote!(::serde_json::Value),
        Ty::Map => quote!(::serde_json::Map<String, ::serde_json::Value>),
        Ty::Array(item) => {
            let item = ty_tokens(item);
            quote!(Vec<#item>)
        }
        Ty::Named(name) => {
            let i = ident(name);
            quote!(#i)
        }
    }
}

fn primitive_value(ty: &Ty, value: &Value) -> TokenStream {
    match (ty, value) {
        (Ty::Bool, Value::Bool(b)) => quote!(#b),
        (Ty::String, Value::String(s)) => quote!(#s.to_owned()),
        (Ty::Int(_), Value::Number(n)) => {
            let lit = int_lit(n.as_i64().unwrap_or_default());
            quote!(#lit)
        }
        (Ty::Number, Value::Number(n)) => {
            let f = Literal::f64_suffixed(n.as_f64().unwrap_or_default());
            quote!(#f)
        }
        _ => {
            let json = json_tokens(value);
            quote!(::serde_json::json!(#json))
        }
    }
}

/// A JSON value written in the `json!`-like syntax schemars' `extend` accepts.
fn json_tokens(value: &Value) -> TokenStream {
    match value {
        Value::Null => quote!(null),
        Value::Bool(b) => quote!(#b),
        Value::Number(n) => n.to_string().parse().unwrap_or_default(),
        Value::String(s) => quote!(#s),
        Value::Array(items) => {
            let items = items.iter().map(json_tokens);
            quote!([#(#items),*])
        }
        Value::Object(map) => {
            let entries = map.iter().map(|(k, v)| {
                let v = json_tokens(v);
                quote!(#k: #v)
            });
            quote!({ #(#entries),* })
        }
    }
}

/// Unsuffixed: the surrounding type fixes the width, and the literal reads like hand-written code.
fn int_lit(value: i64) -> Literal {
    Literal::i64_unsuffixed(value)
}

fn ident(name: &str) -> Ident {
    Ident::new(name, Span::call_site())
}

/// A field or method name, escaped when it is a Rust keyword.
pub(crate) fn field_ident(json_name: &str) -> Ident {
    const KEYWORDS: &[&str] = &[
        "as", "async", "await", "break", "const", "continue", "crate", "dyn", "else", "enum",
        "extern", "false", "fn", "for", "gen", "if", "impl", "in", "let", "loop", "match", "mod",
        "move", "mut", "pub", "ref", "return", "static", "struct", "trait", "true", "type",
        "unsafe", "use", "where", "while", "yield", "abstract", "become", "box", "do", "final",
        "macro", "override", "priv", "try", "typeof", "unsized", "virtual",
    ];
    let snake = json_name.to_snake_case();
    if KEYWORDS.contains(&snake.as_str()) {
        Ident::new_raw(&snake, Span::call_site())
    } else {
        ident(&snake)
    }
}

/// A variant name for a wire string: `720P` becomes `P720`, `in_queue` becomes `InQueue`.
pub(crate) fn variant_ident(value: &str) -> Ident {
    // An aspect ratio keeps its two numbers apart: `16:9` is `R16x9` (`V169` would also be `1:69`).
    if let Some((width, height)) = value.split_once(':')
        && [width, height]
            .iter()
            .all(|n| !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()))
    {
        return ident(&format!("R{width}x{height}"));
    }
    let camel = value.to_upper_camel_case();
    let name = match camel.chars().next() {
        Some(c) if c.is_ascii_digit() => {
            let digits: String = camel.chars().take_while(|c| c.is_ascii_digit()).collect();
            let rest = &camel[digits.len()..];
            if !rest.is_empty() && rest.chars().all(|c| c.is_ascii_alphabetic()) {
                format!("{}{digits}", rest.to_upper_camel_case())
            } else {
                format!("V{camel}")
            }
        }
        _ => camel,
    };
    ident(&name)
}
