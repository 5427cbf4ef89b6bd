//! Reads a JSON Schema document into the small set of type definitions the generator can emit.
//!
//! Only the subset RunComfy's schemas (and our queue envelopes) use is accepted. Anything else is
//! refused with the keyword and its JSON pointer, so a schema change can never silently produce a
//! wrong type.

use anyhow::{Context, Result, bail, ensure};
use heck::ToUpperCamelCase;
use serde_json::{Map, Value};

/// Keywords the generator understands; any other keyword is an error.
const KNOWN_KEYWORDS: &[&str] = &[
    "$schema",
    "$defs",
    "$ref",
    "type",
    "title",
    "description",
    "default",
    "enum",
    "minimum",
    "maximum",
    "maxLength",
    "format",
    "properties",
    "required",
    "items",
    "anyOf",
];

/// String formats that are kept as plain `String`s (the format is preserved in the schema).
/// `image_uri` and `video_uri` are RunComfy's media fields: a URL or a `data:` URI whose rules
/// (formats, sides, duration, …) live in the model's `model.json`, not in the type.
const KNOWN_FORMATS: &[&str] = &["uri", "date-time", "image_uri", "video_uri"];

/// Human-facing text of a schema node.
#[derive(Debug, Clone, Default, PartialEq)]
pub(crate) struct Meta {
    pub(crate) title: Option<String>,
    pub(crate) description: Option<String>,
}

/// The Rust shape of a value.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Ty {
    String,
    Bool,
    /// A Rust integer type name such as `u64` or `i64`.
    Int(&'static str),
    Number,
    /// Any JSON value (a schema with no `type`).
    Any,
    /// A JSON object with no declared properties.
    Map,
    Array(Box<Ty>),
    /// A named type defined elsewhere in the same document.
    Named(String),
}

impl Ty {
    /// The JSON Schema `type` a value of this shape has (`"any"` for [`Ty::Any`]).
    pub(crate) fn json_type(&self) -> &'static str {
        match self {
            Ty::String => "string",
            Ty::Bool => "boolean",
            Ty::Int(_) => "integer",
            Ty::Number => "number",
            Ty::Map | Ty::Named(_) => "object",
            Ty::Array(_) => "array",
            Ty::Any => "any",
        }
    }
}

/// One property of a struct.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Field {
    pub(crate) json_name: String,
    pub(crate) ty: Ty,
    pub(crate) required: bool,
    pub(crate) default: Option<Value>,
    pub(crate) meta: Meta,
    pub(crate) format: Option<String>,
    pub(crate) max_length: Option<u64>,
    /// `format` of the items when `ty` is an array of strings.
    pub(crate) items_format: Option<String>,
    /// The node came from a `$ref`, so it carries no metadata of its own.
    pub(crate) is_ref: bool,
}

/// One alternative of an `anyOf`.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Variant {
    pub(crate) name: String,
    pub(crate) ty: Ty,
    pub(crate) meta: Meta,
}

/// A type the generator emits.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Def {
    Struct {
        name: String,
        meta: Meta,
        fields: Vec<Field>,
    },
    /// A closed set of strings.
    StringEnum {
        name: String,
        meta: Meta,
        values: Vec<String>,
        default: Option<String>,
        inline: bool,
    },
    /// `anyOf: [{enum: [...]}, {type: string}]`: known strings plus any other string, kept as sent.
    OpenEnum {
        name: String,
        meta: Meta,
        values: Vec<String>,
    },
    /// A closed set of integers.
    IntEnum {
        name: String,
        meta: Meta,
        values: Vec<i64>,
        default: Option<i64>,
        int_ty: &'static str,
    },
    /// An integer with both a minimum and a maximum.
    RangedInt {
        name: String,
        meta: Meta,
        min: i64,
        max: i64,
        default: Option<i64>,
        int_ty: &'static str,
    },
    /// `anyOf` of titled alternatives of distinct JSON types.
    Untagged {
        name: String,
        meta: Meta,
        variants: Vec<Variant>,
    },
}

impl Def {
    pub(crate) fn name(&self) -> &str {
        match self {
            Def::Struct { name, .. }
            | Def::StringEnum { name, .. }
            | Def::OpenEnum { name, .. }
            | Def::IntEnum { name, .. }
            | Def::RangedInt { name, .. }
            | Def::Untagged { name, .. } => name,
        }
    }
}

/// Collects definitions while walking one document.
pub(crate) struct Reader {
    pub(crate) defs: Vec<Def>,
}

impl Reader {
    pub(crate) fn new() -> Self {
        Self { defs: Vec::new() }
    }

    /// Reads an object schema as the struct `name`.
    pub(crate) fn root_struct(&mut self, name: &str, schema: &Value, pointer: &str) -> Result<()> {
        let obj = as_object(schema, pointer)?;
        check_keywords(obj, pointer)?;
        ensure!(
            obj.get("type").and_then(Value::as_str) == Some("object")
                && obj.contains_key("properties"),
            "{pointer}: a root schema must be `\"type\": \"object\"` with `properties`"
        );
        self.read_struct(name, obj, pointer)
    }

    /// Reads every entry of `$defs` as a named type (the document itself must have no `type`).
    pub(crate) fn defs_document(&mut self, schema: &Value) -> Result<()> {
        let obj = as_object(schema, "")?;
        check_keywords(obj, "")?;
        ensure!(
            !obj.contains_key("type") && !obj.contains_key("properties"),
            "a `$defs` document must not itself describe a value"
        );
        let defs = obj
            .get("$defs")
            .and_then(Value::as_object)
            .context("a `$defs` document needs a `$defs` object")?;
        for (name, def) in defs {
            let pointer = format!("/$defs/{name}");
            ensure!(
                name.to_upper_camel_case() == *name,
                "{pointer}: `$defs` keys name Rust types and must be UpperCamelCase"
            );
            let def_obj = as_object(def, &pointer)?;
            check_keywords(def_obj, &pointer)?;
            match self.read_value(name, def_obj, &pointer, false)? {
                Ty::Named(_) => {}
                other => bail!(
                    "{pointer}: a `$defs` entry must be an object, enum, ranged integer or anyOf, not {other:?}"
                ),
            }
        }
        Ok(())
    }

    fn read_struct(&mut self, name: &str, obj: &Map<String, Value>, pointer: &str) -> Result<()> {
        let required: Vec<&str> = match obj.get("required") {
            None => Vec::new(),
            Some(Value::Array(items)) => items
                .iter()
                .map(|v| v.as_str().context("`required` holds strings"))
                .collect::<Result<_>>()?,
            Some(_) => bail!("{pointer}/required: must be an array of property names"),
        };
        let props = obj
            .get("properties")
            .and_then(Value::as_object)
            .with_context(|| format!("{pointer}: `properties` must be an object"))?;
        for req in &required {
            ensure!(
                props.contains_key(*req),
                "{pointer}/required: `{req}` is not a property"
            );
        }
        let mut fields = Vec::new();
        for (json_name, prop) in props {
            let prop_pointer = format!("{pointer}/properties/{json_name}");
            let prop_obj = as_object(prop, &prop_pointer)?;
            check_keywords(prop_obj, &prop_pointer)?;
            let type_name = json_name.to_upper_camel_case();
            let ty = self.read_value(&type_name, prop_obj, &prop_pointer, true)?;
            let format = string_keyword(prop_obj, "format", &prop_pointer)?;
            if let Some(f) = &format {
                ensure!(
                    KNOWN_FORMATS.contains(&f.as_str()),
                    "{prop_pointer}: unsupported format `{f}`"
                );
            }
            let items_format = match prop_obj.get("items") {
                Some(items) => {
                    string_keyword(as_object(items, &prop_pointer)?, "format", &prop_pointer)?
                }
                None => None,
            };
            fields.push(Field {
                json_name: json_name.clone(),
                required: required.contains(&json_name.as_str()),
                default: prop_obj.get("default").cloned(),
                meta: meta(prop_obj, &prop_pointer)?,
                format,
                max_length: prop_obj.get("maxLength").and_then(Value::as_u64),
                items_format,
                is_ref: prop_obj.contains_key("$ref"),
                ty,
            });
        }
        self.push(Def::Struct {
            name: name.to_owned(),
            meta: meta(obj, pointer)?,
            fields,
        })
    }

    /// Reads a value schema, defining a named type for it when it needs one.
    /// `inline` says whether the node sits inside a property (rather than under `$defs`).
    fn read_value(
        &mut self,
        name: &str,
        obj: &Map<String, Value>,
        pointer: &str,
        inline: bool,
    ) -> Result<Ty> {
        if let Some(reference) = obj.get("$ref") {
            let target = reference
                .as_str()
                .and_then(|r| r.strip_prefix("#/$defs/"))
                .with_context(|| {
                    format!("{pointer}/$ref: only `#/$defs/Name` references are supported")
                })?;
            ensure!(
                obj.keys()
                    .all(|k| matches!(k.as_str(), "$ref" | "title" | "description")),
                "{pointer}: beside a `$ref` only `title` and `description` are supported (put defaults on the definition)"
            );
            return Ok(Ty::Named(target.to_owned()));
        }
        if let Some(alternatives) = obj.get("anyOf") {
            return self.read_any_of(name, obj, alternatives, pointer);
        }
        let meta = meta(obj, pointer)?;
        let ty = obj.get("type").map(|t| {
            t.as_str().with_context(|| {
                format!(
                    "{pointer}/type: a single type name is required (type arrays are not supported)"
                )
            })
        });
        let ty = ty.transpose()?;
        if ty != Some("string") {
            ensure!(
                !obj.contains_key("maxLength"),
                "{pointer}: `maxLength` is only supported on strings"
            );
            ensure!(
                !obj.contains_key("format"),
                "{pointer}: `format` is only supported on strings"
            );
        }
        if ty != Some("integer") {
            ensure!(
                !obj.contains_key("minimum") && !obj.contains_key("maximum"),
                "{pointer}: `minimum`/`maximum` are only supported on integers"
            );
        }
        ensure!(
            ty == Some("object")
                || !obj.contains_key("properties") && !obj.contains_key("required"),
            "{pointer}: `properties`/`required` need `\"type\": \"object\"`"
        );
        ensure!(
            ty == Some("array") || !obj.contains_key("items"),
            "{pointer}: `items` needs `\"type\": \"array\"`"
        );
        match ty {
            None => {
                ensure!(
                    !obj.contains_key("enum"),
                    "{pointer}: an `enum` needs a `type`"
                );
                Ok(Ty::Any)
            }
            Some("boolean") => {
                ensure!(
                    !obj.contains_key("enum"),
                    "{pointer}: boolean enums are not supported"
                );
                Ok(Ty::Bool)
            }
            Some("number") => {
                ensure!(
                    !obj.contains_key("enum"),
                    "{pointer}: number enums are not supported"
                );
                Ok(Ty::Number)
            }
            Some("string") => match obj.get("enum") {
                None => Ok(Ty::String),
                Some(values) => {
                    let values: Vec<String> = as_array(values, pointer)?
                        .iter()
                        .map(|v| {
                            v.as_str().map(str::to_owned).with_context(|| {
                                format!("{pointer}/enum: string enums hold strings only")
                            })
                        })
                        .collect::<Result<_>>()?;
                    ensure!(!values.is_empty(), "{pointer}/enum: must not be empty");
                    distinct_variant_names(&values, pointer)?;
                    let default = match obj.get("default") {
                        None => None,
                        Some(d) => {
                            let d = d
                                .as_str()
                                .with_context(|| format!("{pointer}/default: must be a string"))?;
                            ensure!(
                                values.iter().any(|v| v == d),
                                "{pointer}/default: `{d}` is not in the enum"
                            );
                            Some(d.to_owned())
                        }
                    };
                    self.push(Def::StringEnum {
                        name: name.to_owned(),
                        meta,
                        values,
                        default,
                        inline,
                    })?;
                    Ok(Ty::Named(name.to_owned()))
                }
            },
            Some("integer") => self.read_integer(name, obj, meta, pointer),
            Some("array") => {
                let items = obj
                    .get("items")
                    .with_context(|| format!("{pointer}: an array needs `items`"))?;
                let items_pointer = format!("{pointer}/items");
                let items = as_object(items, &items_pointer)?;
                check_keywords(items, &items_pointer)?;
                let item_ty =
                    self.read_value(&format!("{name}Item"), items, &items_pointer, true)?;
                ensure!(
                    matches!(
                        item_ty,
                        Ty::String | Ty::Bool | Ty::Int(_) | Ty::Number | Ty::Named(_)
                    ),
                    "{items_pointer}: arrays of {item_ty:?} are not supported"
                );
                if let Some(f) = string_keyword(items, "format", &items_pointer)? {
                    ensure!(
                        KNOWN_FORMATS.contains(&f.as_str()),
                        "{items_pointer}: unsupported format `{f}`"
                    );
                }
                Ok(Ty::Array(Box::new(item_ty)))
            }
            Some("object") => {
                ensure!(
                    !obj.contains_key("enum"),
                    "{pointer}: object enums are not supported"
                );
                if obj.contains_key("properties") {
                    self.read_struct(name, obj, pointer)?;
                    Ok(Ty::Named(name.to_owned()))
                } else {
                    Ok(Ty::Map)
                }
            }
            Some(other) => bail!("{pointer}/type: unsupported type `{other}`"),
        }
    }

    fn read_integer(
        &mut self,
        name: &str,
        obj: &Map<String, Value>,
        meta: Meta,
        pointer: &str,
    ) -> Result<Ty> {
        let int = |key: &str| -> Result<Option<i64>> {
            obj.get(key)
                .map(|v| {
                    v.as_i64()
                        .with_context(|| format!("{pointer}/{key}: must be an integer"))
                })
                .transpose()
        };
        let (min, max, default) = (int("minimum")?, int("maximum")?, int("default")?);
        if let Some(values) = obj.get("enum") {
            ensure!(
                min.is_none() && max.is_none(),
                "{pointer}: an integer enum cannot also have minimum/maximum"
            );
            let values: Vec<i64> = as_array(values, pointer)?
                .iter()
                .map(|v| {
                    v.as_i64().with_context(|| {
                        format!("{pointer}/enum: integer enums hold integers only")
                    })
                })
                .collect::<Result<_>>()?;
            ensure!(!values.is_empty(), "{pointer}/enum: must not be empty");
            if let Some(d) = default {
                ensure!(
                    values.contains(&d),
                    "{pointer}/default: {d} is not in the enum"
                );
            }
            let int_ty = int_type(
                *values.iter().min().unwrap_or(&0),
                *values.iter().max().unwrap_or(&0),
            );
            self.push(Def::IntEnum {
                name: name.to_owned(),
                meta,
                values,
                default,
                int_ty,
            })?;
            return Ok(Ty::Named(name.to_owned()));
        }
        match (min, max) {
            (Some(min), Some(max)) => {
                ensure!(
                    min <= max,
                    "{pointer}: minimum {min} is above maximum {max}"
                );
                if let Some(d) = default {
                    ensure!(
                        (min..=max).contains(&d),
                        "{pointer}/default: {d} is outside {min}..={max}"
                    );
                }
                let int_ty = int_type(min, max);
                self.push(Def::RangedInt {
                    name: name.to_owned(),
                    meta,
                    min,
                    max,
                    default,
                    int_ty,
                })?;
                Ok(Ty::Named(name.to_owned()))
            }
            (Some(0), None) => Ok(Ty::Int("u64")),
            (None, None) => Ok(Ty::Int("i64")),
            _ => bail!(
                "{pointer}: an integer needs both `minimum` and `maximum`, `minimum: 0` alone, or neither"
            ),
        }
    }

    fn read_any_of(
        &mut self,
        name: &str,
        obj: &Map<String, Value>,
        alternatives: &Value,
        pointer: &str,
    ) -> Result<Ty> {
        for key in obj.keys() {
            ensure!(
                matches!(key.as_str(), "anyOf" | "title" | "description"),
                "{pointer}: `{key}` beside `anyOf` is not supported"
            );
        }
        let any_of_meta = meta(obj, pointer)?;
        let alternatives = as_array(alternatives, pointer)?;
        // The open-enum pattern: known strings, then any string.
        if let [known, any_string] = alternatives.as_slice() {
            let known = as_object(known, pointer)?;
            let is_string_enum = known.get("type") == Some(&Value::from("string"))
                && known.contains_key("enum")
                && known.len() == 2;
            let is_any_string = any_string
                .as_object()
                .is_some_and(|o| o.len() == 1 && o.get("type") == Some(&Value::from("string")));
            if is_string_enum && is_any_string {
                let values: Vec<String> = as_array(&known["enum"], pointer)?
                    .iter()
                    .map(|v| {
                        v.as_str()
                            .map(str::to_owned)
                            .context("open enums hold strings only")
                    })
                    .collect::<Result<_>>()?;
                distinct_variant_names(&values, pointer)?;
                self.push(Def::OpenEnum {
                    name: name.to_owned(),
                    meta: any_of_meta,
                    values,
                })?;
                return Ok(Ty::Named(name.to_owned()));
            }
        }
        let mut variants = Vec::new();
        for (i, alt) in alternatives.iter().enumerate() {
            let alt_pointer = format!("{pointer}/anyOf/{i}");
            let alt = as_object(alt, &alt_pointer)?;
            check_keywords(alt, &alt_pointer)?;
            let title = alt.get("title").and_then(Value::as_str).with_context(|| {
                format!(
                    "{alt_pointer}: each `anyOf` alternative needs a `title` (it names the variant)"
                )
            })?;
            ensure!(
                alt.contains_key("type")
                    && alt
                        .keys()
                        .all(|k| matches!(k.as_str(), "title" | "type" | "description")),
                "{alt_pointer}: an alternative is a `title`, a `type` and a `description`, nothing else"
            );
            let ty = self.read_value(title, alt, &alt_pointer, true)?;
            ensure!(
                !variants
                    .iter()
                    .any(|v: &Variant| v.ty.json_type() == ty.json_type()),
                "{alt_pointer}: two alternatives of the same JSON type cannot be told apart"
            );
            variants.push(Variant {
                name: title.to_upper_camel_case(),
                ty,
                meta: meta(alt, &alt_pointer)?,
            });
        }
        ensure!(
            variants.len() >= 2,
            "{pointer}: `anyOf` needs at least two alternatives"
        );
        self.push(Def::Untagged {
            name: name.to_owned(),
            meta: any_of_meta,
            variants,
        })?;
        Ok(Ty::Named(name.to_owned()))
    }

    fn push(&mut self, def: Def) -> Result<()> {
        if let Some(existing) = self.defs.iter().find(|d| d.name() == def.name()) {
            ensure!(
                *existing == def,
                "two different types would both be named `{}`",
                def.name()
            );
            return Ok(());
        }
        self.defs.push(def);
        Ok(())
    }
}

/// Refuses an enum whose values would share a Rust variant name (`"16:9"` and `"16x9"` both
/// becoming `R16x9`): the generated code would not compile, or worse, would merge two values.
fn distinct_variant_names(values: &[String], pointer: &str) -> Result<()> {
    let mut seen: Vec<(String, &str)> = Vec::new();
    for value in values {
        let name = super::emit::variant_ident(value).to_string();
        if let Some((_, first)) = seen.iter().find(|(n, _)| *n == name) {
            bail!("{pointer}/enum: `{first}` and `{value}` would both be the variant `{name}`");
        }
        seen.push((name, value));
    }
    Ok(())
}

/// The smallest Rust integer type holding `min..=max`.
fn int_type(min: i64, max: i64) -> &'static str {
    if min >= 0 {
        match max {
            m if m <= i64::from(u8::MAX) => "u8",
            m if m <= i64::from(u16::MAX) => "u16",
            m if m <= i64::from(u32::MAX) => "u32",
            _ => "u64",
        }
    } else if min >= i64::from(i32::MIN) && max <= i64::from(i32::MAX) {
        "i32"
    } else {
        "i64"
    }
}

fn check_keywords(obj: &Map<String, Value>, pointer: &str) -> Result<()> {
    for key in obj.keys() {
        ensure!(
            KNOWN_KEYWORDS.contains(&key.as_str()),
            "{pointer}: unsupported schema keyword `{key}` (the generator supports: {})",
            KNOWN_KEYWORDS.join(", ")
        );
    }
    Ok(())
}

fn meta(obj: &Map<String, Value>, pointer: &str) -> Result<Meta> {
    Ok(Meta {
        title: string_keyword(obj, "title", pointer)?,
        description: string_keyword(obj, "description", pointer)?,
    })
}

fn string_keyword(obj: &Map<String, Value>, key: &str, pointer: &str) -> Result<Option<String>> {
    obj.get(key)
        .map(|v| {
            v.as_str()
                .map(str::to_owned)
                .with_context(|| format!("{pointer}/{key}: must be a string"))
        })
        .transpose()
}

fn as_object<'a>(value: &'a Value, pointer: &str) -> Result<&'a Map<String, Value>> {
    value.as_object().with_context(|| {
        format!("{pointer}: expected a schema object (boolean schemas are not supported)")
    })
}

fn as_array<'a>(value: &'a Value, pointer: &str) -> Result<&'a Vec<Value>> {
    value
        .as_array()
        .with_context(|| format!("{pointer}: expected an array"))
}
