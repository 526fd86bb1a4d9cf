//! Generates the typed layer of every operation: one resource handle per tag, one request
//! builder per operation, and a table of every operation (for the CLI, the simulator and the
//! contract tests).
//!
//! Two inputs, and no reading back of generated text:
//! - the spec says *what* exists: operationIds, tags, path and query parameters, bounds,
//!   which schema is the body and which the answer, and our extensions;
//! - the generator's type space says *how it is typed*: the Rust type of every schema, the
//!   fields of every struct (name, type, required or not, description).
//!
//! The layer calls the generated client through its public builder methods (one per
//! operation, one setter per parameter, `body`), whose names the generator derives from the
//! spec by the same rule as [`sanitize`]: a mismatch fails to compile, it cannot go wrong
//! silently.
//!
//! Extensions read here:
//! - `x-heygen-method` (operation): the method name on the resource handle (default: the
//!   operationId). The CLI verb is the same name in kebab case; an operation with neither
//!   this nor `x-heygen-verb` takes its id's words less its command's noun
//!   (`get_brand_glossary` under `brand-glossary` is `get`), unless another verb of the
//!   command has them.
//! - `x-heygen-command` (tag): the CLI noun for the tag (default: the tag name).
//! - `x-heygen-handwritten: true` (operation): the whole operation is written by hand.
//! - `x-heygen-cli: handwritten` (operation): the CLI command is written by hand.
//! - `x-heygen-verb` (operation): the CLI verb, when it is not the method's name.
//! - `x-heygen-request-id` (operation): the body member by which the server recognises a
//!   repeated request (where it ignores `Idempotency-Key`); filled once per call when unset.
//! - `x-heygen-most-ids` (operation): how many ids its comma-separated `*_ids` parameters
//!   take in all; more is refused before sending.
//! - `x-heygen-checked: true` (request schema): the body type implements
//!   `crate::api::bodies::Validate` by hand.

use std::collections::{BTreeMap, BTreeSet};

use proc_macro2::{Literal, TokenStream};
use quote::{format_ident, quote, ToTokens as _};
use serde_json::Value;
use typify::{TypeDetails, TypeSpace};

const METHODS: [&str; 5] = ["get", "post", "put", "patch", "delete"];

/// One operation of the spec.
struct Op {
    id: String,
    /// The CLI verb: `x-heygen-verb`, else the method in kebab case.
    verb: String,
    /// Whether the spec names the verb (`x-heygen-verb` or `x-heygen-method`); an
    /// operation without either gets its id's words less its command's noun.
    named_verb: bool,
    http_method: String,
    path: String,
    tag: String,
    method: String,
    summary: String,
    description: String,
    handwritten: bool,
    cli_handwritten: bool,
    /// `x-heygen-request-id`: the body member that identifies a request across retries.
    request_id: Option<String>,
    path_params: Vec<String>,
    /// Non-path parameters other than `Idempotency-Key`.
    query: Vec<QueryParam>,
    /// The JSON body: `Some(None)` for an inline schema, `Some(Some(name))` for a `$ref`.
    body: Option<Option<String>>,
    /// The success answer's schema: `None` for an inline one.
    response: Option<String>,
    /// `x-heygen-most-ids`: how many ids its `*_ids` parameters take in all.
    most_ids: Option<u64>,
}

struct QueryParam {
    name: String,
    description: String,
    required: bool,
    schema: Value,
    minimum: Option<i64>,
    maximum: Option<i64>,
}

/// A Rust type of the layer: a named generated type, a handwritten replacement, or a type
/// the generator spells out (`::std::string::String`, `::std::num::NonZeroU32`, …).
#[derive(Clone)]
struct RustType {
    tokens: syn::Type,
    /// The type's name in the generated `types` module, when it is one.
    generated: Option<String>,
}

impl RustType {
    fn text(&self) -> String {
        self.tokens.to_token_stream().to_string()
    }
}

/// One field of a generated struct.
struct Field {
    /// The Rust name (`type_` for `type`).
    ident: String,
    /// The member's name in JSON.
    json: String,
    /// The type, `Option` taken off when `optional`.
    ty: RustType,
    /// A constrained value (a newtype with a `TryFrom` of its inner type): the setter takes
    /// the inner type, and the value is checked when the request is sent.
    checked: Option<RustType>,
    optional: bool,
    /// Not required, yet not an `Option`: the generator gives it a default.
    has_default: bool,
    doc: String,
}

/// The type of a member of a handwritten body: one value, or an array of them.
enum Member {
    One(RustType),
    Many(syn::Type),
}

/// A generated type, as the type space describes it.
enum Shape {
    /// A struct with named fields.
    Struct(Vec<Field>),
    /// Anything else (a map, a newtype, an enum).
    Other,
}

/// The generator's types, by schema name.
struct Types<'a> {
    space: &'a TypeSpace,
    spec: &'a Value,
    /// Rust name → type, for the types the generator named.
    named: BTreeMap<String, typify::Type<'a>>,
    /// Schema name → handwritten type path.
    replaced: &'a BTreeMap<String, String>,
}

impl<'a> Types<'a> {
    fn new(space: &'a TypeSpace, spec: &'a Value, replaced: &'a BTreeMap<String, String>) -> Self {
        let named = space
            .iter_types()
            .filter(|t| {
                matches!(
                    t.details(),
                    TypeDetails::Struct(_) | TypeDetails::Enum(_) | TypeDetails::Newtype(_)
                )
            })
            .map(|t| (t.name(), t))
            .collect();
        Self {
            space,
            spec,
            named,
            replaced,
        }
    }

    /// The type of the schema named `schema` (a component, or a name the generator gave an
    /// inline schema).
    fn schema(&self, schema: &str) -> Result<RustType, String> {
        if let Some(path) = self.replaced.get(schema) {
            return Ok(RustType {
                tokens: syn::parse_str(path).map_err(|e| format!("`{path}`: {e}"))?,
                generated: None,
            });
        }
        let name = sanitize(schema, Case::Pascal);
        let ty = self
            .named
            .get(&name)
            .ok_or_else(|| format!("the generator has no type for the schema `{schema}`"))?;
        self.rust(ty)
    }

    /// A type of the space as the layer writes it: `types::X` becomes `crate::raw::types::X`.
    fn rust(&self, ty: &typify::Type<'_>) -> Result<RustType, String> {
        let generated = match ty.details() {
            TypeDetails::Struct(_) | TypeDetails::Enum(_) | TypeDetails::Newtype(_) => {
                Some(ty.name())
            }
            _ => None,
        };
        let mut tokens: syn::Type = syn::parse2(ty.ident())
            .map_err(|e| format!("the generator's type `{}`: {e}", ty.name()))?;
        absolute(&mut tokens);
        Ok(RustType { tokens, generated })
    }

    fn by_id(&self, id: &typify::TypeId) -> Result<typify::Type<'a>, String> {
        self.space
            .get_type(id)
            .map_err(|e| format!("the generator's type space: {e}"))
    }

    /// `Option<T>` → (`T`, true); anything else → (itself, false).
    fn unwrap_option(&self, id: &typify::TypeId) -> Result<(typify::Type<'a>, bool), String> {
        let ty = self.by_id(id)?;
        let inner = match ty.details() {
            TypeDetails::Option(inner) => Some(inner),
            _ => None,
        };
        match inner {
            Some(inner) => Ok((self.by_id(&inner)?, true)),
            None => Ok((ty, false)),
        }
    }

    /// The inner type of a constrained newtype (a string with a length or a pattern, …).
    fn newtype_inner(&self, ty: &typify::Type<'_>) -> Result<Option<RustType>, String> {
        let inner = match ty.details() {
            TypeDetails::Newtype(newtype) => newtype.inner(),
            _ => return Ok(None),
        };
        self.rust(&self.by_id(&inner)?).map(Some)
    }

    /// `Vec<T>` → `T`.
    fn vec_item(&self, ty: &RustType) -> Option<syn::Type> {
        let syn::Type::Path(p) = &ty.tokens else {
            return None;
        };
        let last = p.path.segments.last()?;
        if last.ident != "Vec" {
            return None;
        }
        let syn::PathArguments::AngleBracketed(a) = &last.arguments else {
            return None;
        };
        a.args.iter().find_map(|arg| match arg {
            syn::GenericArgument::Type(t) => Some(t.clone()),
            _ => None,
        })
    }

    /// The shape of a generated type; the JSON name of every field comes from the schema in
    /// the spec (`schema`, when there is one), matched by the generator's naming rule.
    fn shape(&self, rust_name: &str, schema: Option<&Value>) -> Result<Shape, String> {
        let ty = self
            .named
            .get(rust_name)
            .ok_or_else(|| format!("the generator has no type `{rust_name}`"))?;
        let TypeDetails::Struct(st) = ty.details() else {
            return Ok(Shape::Other);
        };
        let mut json_names: BTreeMap<String, String> = BTreeMap::new();
        for name in schema
            .and_then(|s| s.get("properties"))
            .and_then(Value::as_object)
            .into_iter()
            .flat_map(|p| p.keys())
        {
            json_names.insert(sanitize(name, Case::Snake), name.clone());
        }
        let mut fields = Vec::new();
        for prop in st.properties_info() {
            let (ty, optional) = self.unwrap_option(&prop.type_id)?;
            let checked = self.newtype_inner(&ty)?;
            let ty = self.rust(&ty)?;
            let json = json_names.get(prop.name).cloned().unwrap_or_else(|| {
                // A member the schema does not list (the map of unknown members).
                prop.name.to_string()
            });
            fields.push(Field {
                ident: prop.name.to_string(),
                json,
                optional,
                has_default: !prop.required && !optional,
                doc: prop
                    .description
                    .map(|d| {
                        d.lines()
                            .map(str::trim)
                            .filter(|l| !l.is_empty())
                            .collect::<Vec<_>>()
                            .join(" ")
                    })
                    .unwrap_or_default(),
                ty,
                checked,
            });
        }
        Ok(Shape::Struct(fields))
    }

    /// The spec's schema behind `name`.
    fn spec_schema(&self, name: &str) -> Option<&'a Value> {
        self.spec.pointer(&format!("/components/schemas/{name}"))
    }

    /// A member's description: its own, else that of the schema it only refers to (`$ref`,
    /// or `allOf` of one), on one line.
    fn described(&self, member: &Value) -> String {
        let referred = match member.get("allOf").and_then(Value::as_array) {
            Some(all) if all.len() == 1 => &all[0],
            _ => member,
        };
        member
            .get("description")
            .or_else(|| self.spec_schema(reference(referred)?)?.get("description"))
            .and_then(Value::as_str)
            .map(|d| d.split_whitespace().collect::<Vec<_>>().join(" "))
            .unwrap_or_default()
    }

    /// The type of a member of a body checked by hand, from its schema: a named schema
    /// (also behind `allOf` or a nullable), an array of one, or an inline value.
    fn member(&self, schema: &Value) -> Result<Member, String> {
        let schema = match schema.get("allOf").and_then(Value::as_array) {
            Some(all) if all.len() == 1 => &all[0],
            _ => schema,
        };
        if schema.get("type").and_then(Value::as_str) == Some("array") {
            let items = schema.get("items").ok_or("an array without `items`")?;
            return match self.member(items)? {
                Member::One(item) => Ok(Member::Many(item.tokens)),
                Member::Many(_) => Err("an array of arrays".into()),
            };
        }
        let mut plain = schema.clone();
        if let Some(object) = plain.as_object_mut() {
            object.remove("nullable");
        }
        self.parameter(&plain).map(Member::One)
    }

    /// The type of a query parameter, as the generator gives it.
    fn parameter(&self, schema: &Value) -> Result<RustType, String> {
        if let Some(name) = reference(schema) {
            return self.schema(name);
        }
        // An inline schema: the generator converts it as it converts any other, so one
        // conversion of the same schema here gives the same type.
        let converted: schemars::schema::Schema = serde_json::from_value(schema.clone())
            .map_err(|e| format!("a parameter's schema: {e}"))?;
        let mut space = TypeSpace::default();
        let id = space
            .add_type(&converted)
            .map_err(|e| format!("a parameter's schema: {e}"))?;
        let mut ty = space
            .get_type(&id)
            .map_err(|e| format!("a parameter's schema: {e}"))?;
        // A constrained value (a string with a pattern, …) is set as its inner type; the
        // generated builder checks it before anything is sent.
        let inner = match ty.details() {
            TypeDetails::Newtype(newtype) => Some(newtype.inner()),
            _ => None,
        };
        if let Some(inner) = inner {
            ty = space
                .get_type(&inner)
                .map_err(|e| format!("a parameter's schema: {e}"))?;
        }
        if !matches!(
            ty.details(),
            TypeDetails::Builtin(_) | TypeDetails::String | TypeDetails::Vec(_)
        ) {
            return Err(format!(
                "an inline parameter schema of the kind `{}` (move it to components/schemas)",
                ty.describe()
            ));
        }
        self.rust(&ty)
    }
}

/// Generates `typed_layer.rs` from the spec (as prepared for the generator, as JSON), the
/// generator's type space, and the handwritten types that replace schemas.
pub fn generate(
    spec: &Value,
    space: &TypeSpace,
    replaced: &BTreeMap<String, String>,
) -> Result<String, String> {
    let ops = read_ops(spec)?;
    let tags = read_tags(spec);
    let types = Types::new(space, spec, replaced);

    let mut handles: BTreeMap<String, Vec<&Op>> = BTreeMap::new();
    for op in &ops {
        handles.entry(op.tag.clone()).or_default().push(op);
    }
    let mut checked_bodies: BTreeMap<String, syn::Type> = BTreeMap::new();
    let mut table = Vec::new();
    let mut handles_code = Vec::new();
    let mut builders_code = Vec::new();
    let mut invoke_code = Vec::new();
    let mut generated: BTreeMap<String, Generated> = BTreeMap::new();
    let ids: Vec<TokenStream> = ops
        .iter()
        .map(|op| {
            let name = format_ident!("{}", op.id.to_ascii_uppercase());
            let id = &op.id;
            quote! { #[allow(dead_code)] pub(crate) const #name: &str = #id; }
        })
        .collect();
    for (tag, tag_ops) in &handles {
        let handle = format_ident!("{}", crate::open_enums::camel(tag));
        let accessor = format_ident!("{}", snake(tag));
        let about = tags
            .get(tag)
            .map(|(d, _)| d.clone())
            .unwrap_or_else(|| format!("The `{tag}` operations."));
        let get_one = format!("Get one with [`Client::{accessor}`](crate::Client::{accessor}).");
        handles_code.push(quote! {
            #[doc = #about]
            #[doc = ""]
            #[doc = #get_one]
            #[derive(Debug, Clone, Copy)]
            pub struct #handle<'a> { pub(crate) client: &'a crate::Client }
            impl crate::Client {
                #[doc = #about]
                pub fn #accessor(&self) -> #handle<'_> { #handle { client: self } }
            }
        });
        let command = tags
            .get(tag)
            .and_then(|(_, c)| c.clone())
            .unwrap_or_else(|| tag.clone());
        let mut taken: BTreeSet<String> = tag_ops
            .iter()
            .filter(|op| op.named_verb)
            .map(|op| op.verb.clone())
            .collect();
        for op in tag_ops {
            let own = (!op.named_verb)
                .then(|| verb_of(&op.id, &command))
                .flatten()
                .filter(|verb| taken.insert(verb.clone()));
            let verb = own.as_ref().unwrap_or(&op.verb);
            let (id, method, path, summary) = (&op.id, &op.http_method, &op.path, &op.summary);
            let handle_method = &op.method;
            if op.handwritten {
                table.push(quote! {
                    OperationInfo { id: #id, method: #method, path: #path, resource: #tag, handle_method: #handle_method, command: #command, verb: #verb, summary: #summary, path_params: &[], query_params: &[], has_body: true, paged: false, cli_handwritten: true, invoke: None }
                });
                continue;
            }
            let code = operation(op, &handle, &types, &mut checked_bodies)?;
            builders_code.push(code.code.clone());
            invoke_code.push(code.invoke.clone());
            let path_params = &op.path_params;
            let query_params: Vec<&str> = op.query.iter().map(|q| q.name.as_str()).collect();
            let (has_body, paged, cli_handwritten) =
                (op.body.is_some(), code.paged, op.cli_handwritten);
            let invoke = format_ident!("invoke_{}", op.id);
            table.push(quote! {
                OperationInfo { id: #id, method: #method, path: #path, resource: #tag, handle_method: #handle_method, command: #command, verb: #verb, summary: #summary, path_params: &[#(#path_params),*], query_params: &[#(#query_params),*], has_body: #has_body, paged: #paged, cli_handwritten: #cli_handwritten, invoke: Some(#invoke) }
            });
            generated.insert(op.id.clone(), code);
        }
    }
    let (records, kind_bodies) = kinds_code(spec, &generated)?;
    builders_code.push(kind_bodies);
    let checked = checked_bodies.values();
    let file = quote! {
        #(impl crate::api::bodies::Validate for #checked {})*
        /// The resource handles, one per tag of the spec.
        pub mod handles { #(#handles_code)* }
        /// The operationIds.
        pub(crate) mod ids { #(#ids)* }
        /// The request builders, one per operation.
        pub mod builders {
            #[allow(unused_imports)]
            use super::handles::*;
            #(#builders_code)*
        }
        #(#invoke_code)*
        #records
        /// Every operation of the spec, in spec order per resource.
        use crate::operations::OperationInfo;
        pub(crate) static OPERATIONS: &[OperationInfo] = &[#(#table),*];
    };
    let file: syn::File =
        syn::parse2(file).map_err(|e| format!("the generated typed layer does not parse: {e}"))?;
    Ok(prettyplease::unparse(&file))
}

/// What the kinds of job need of the layer: `TypedRecord`, one variant per kind typed as
/// its last stage's answer; and, for the kinds a batch job makes from a body, their bodies'
/// `JobBody` and their create builders' `to_body`.
fn kinds_code(
    spec: &Value,
    generated: &BTreeMap<String, Generated>,
) -> Result<(TokenStream, TokenStream), String> {
    let mut variants = Vec::new();
    let mut decode = Vec::new();
    let mut kind_arms = Vec::new();
    let mut json_arms = Vec::new();
    let mut bodies = Vec::new();
    let mut answers = BTreeSet::new();
    for kind in crate::kinds::typed(spec) {
        let variant = format_ident!("{}", kind.variant);
        let record = generated.get(&kind.record).ok_or_else(|| {
            format!(
                "x-heygen-jobs.{}: its record's `get` `{}` is not generated",
                kind.id, kind.record
            )
        })?;
        let ret = &record.ret;
        let doc = format!(
            "A finished `{}` job's record (the answer of `{}`).",
            kind.id, kind.record
        );
        variants.push(quote! { #[doc = #doc] #variant(Box<#ret>), });
        decode.push(quote! {
            crate::api::kinds::JobKind::#variant => match <#ret as serde::Deserialize>::deserialize(&record) {
                Ok(typed) => TypedRecord::#variant(Box::new(typed)),
                Err(e) => TypedRecord::Undecoded { kind, problem: e.to_string(), record: Box::new(record) },
            },
        });
        kind_arms
            .push(quote! { TypedRecord::#variant(_) => crate::api::kinds::JobKind::#variant, });
        json_arms.push(quote! { TypedRecord::#variant(record) => serde::Serialize::serialize(record, serializer), });
        let create = generated.get(&kind.create).ok_or_else(|| {
            format!(
                "x-heygen-jobs.{}: its create `{}` is not generated",
                kind.id, kind.create
            )
        })?;
        // The create's answer names its jobs as HeyGen does (`lipsync_id`, `session_id`,
        // `video_translation_ids`): one accessor reads them for every kind.
        let created = &create.ret;
        if answers.insert(created.to_string()) {
            let doc = format!(
                "The ids of the `{}` jobs this create started, read where the spec says they are, whatever HeyGen names them.",
                kind.id
            );
            bodies.push(quote! {
                impl #created {
                    #[doc = #doc]
                    pub fn job_ids(&self) -> Vec<String> {
                        let answer = serde_json::to_value(self).unwrap_or_default();
                        crate::api::kinds::JobKind::#variant.created_ids(&answer)
                    }
                    /// The id of the (first) job this create started: see [`job_ids`](Self::job_ids).
                    pub fn job_id(&self) -> Option<String> {
                        self.job_ids().into_iter().next()
                    }
                }
            });
        }
        if !kind.from_body {
            continue;
        }
        let Some((body_t, build)) = &create.body else {
            return Err(format!(
                "x-heygen-jobs.{}: its create `{}` has no body",
                kind.id, kind.create
            ));
        };
        let builder = &create.builder;
        bodies.push(quote! {
            impl crate::api::kinds::JobBody for #body_t {
                const KIND: crate::api::kinds::JobKind = crate::api::kinds::JobKind::#variant;
            }
            impl #builder<'_> {
                /// This request's body, checked as `send` checks it, without sending anything:
                /// what a batch job of its kind is made from
                /// ([`Job::new`](crate::batch::Job::new)).
                ///
                /// # Errors
                /// [`Error::InvalidRequest`](crate::Error::InvalidRequest) naming the member that is missing or invalid.
                pub fn to_body(&self) -> crate::Result<#body_t> {
                    #build
                    crate::api::bodies::Validate::validate(&body).map_err(crate::Error::InvalidRequest)?;
                    Ok(body)
                }
            }
        });
    }
    let records = quote! {
        /// A finished job's record, typed by its kind: the answer of the `get` of the kind's
        /// last stage (a Video Agent job's is its video's).
        #[derive(Debug, Clone)]
        #[non_exhaustive]
        pub enum TypedRecord {
            #(#variants)*
            /// A record that does not decode as its kind's type, kept whole, with why.
            Undecoded {
                /// The kind of job.
                kind: crate::api::kinds::JobKind,
                /// The record as HeyGen sent it.
                record: Box<serde_json::Value>,
                /// Why it does not decode.
                problem: String,
            },
        }
        impl TypedRecord {
            /// A record of a job of `kind`, typed; one that does not decode is kept as
            /// [`TypedRecord::Undecoded`].
            pub fn decode(kind: crate::api::kinds::JobKind, record: serde_json::Value) -> Self {
                match kind { #(#decode)* }
            }
            /// The kind of job whose record this is.
            pub fn kind(&self) -> crate::api::kinds::JobKind {
                match self { #(#kind_arms)* TypedRecord::Undecoded { kind, .. } => *kind }
            }
        }
        /// Serialises as the record itself.
        impl serde::Serialize for TypedRecord {
            fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
                match self { #(#json_arms)* TypedRecord::Undecoded { record, .. } => serde::Serialize::serialize(record, serializer) }
            }
        }
    };
    Ok((records, quote! { #(#bodies)* }))
}

#[derive(Clone)]
struct Generated {
    code: TokenStream,
    invoke: TokenStream,
    paged: bool,
    /// The request builder's type.
    builder: syn::Ident,
    /// What `send` answers.
    ret: TokenStream,
    /// The body's type and the statements that build it, for operations with a body.
    body: Option<(TokenStream, TokenStream)>,
}

/// The code of one operation: the handle's method, the request builder, its `IntoFuture`,
/// and the table's JSON entry point.
fn operation(
    op: &Op,
    handle: &syn::Ident,
    types: &Types<'_>,
    checked_bodies: &mut BTreeMap<String, syn::Type>,
) -> Result<Generated, String> {
    let name = format_ident!("{}", crate::open_enums::camel(&op.id));
    let mut fields = Vec::new(); // struct fields
    let mut init = Vec::new(); // initialisers in the handle method
    let mut args = Vec::new(); // positional arguments
    let mut setters = Vec::new();
    let mut checks = Vec::new(); // in send(), before anything is sent
    let mut apply = Vec::new(); // raw builder calls per attempt
    let mut invoke = Vec::new(); // the table's JSON entry point
    let mut invoke_args = Vec::new();
    let mut invoke_query = Vec::new();
    let mut setter_names: BTreeSet<String> = ["options", "send", "stream", "body"]
        .into_iter()
        .map(str::to_string)
        .collect();

    for p in &op.path_params {
        let ident = format_ident!("{}", snake(p));
        let field = format_ident!("p_{}", ident);
        fields.push(quote! { #field: String, });
        args.push(quote! { #ident: impl Into<String> });
        init.push(quote! { #field: #ident.into(), });
        checks.push(quote! { crate::resources::check_path_param(#p, &self.#field)?; });
        apply.push(quote! { let b = b.#ident(self.#field.as_str()); });
        invoke.push(quote! {
            let #ident = path.next().ok_or_else(|| crate::Error::invalid(#p, "is required"))?;
        });
        invoke_args.push(quote! { #ident });
    }

    for q in &op.query {
        // The generator's name for the parameter: a Rust keyword gets a trailing `_`.
        let ident_s = sanitize(&q.name, Case::Snake);
        let ident = format_ident!("{}", ident_s);
        let field = format_ident!("q_{}", ident_s);
        let inner = types
            .parameter(&q.schema)
            .map_err(|e| format!("`{}`, parameter `{}`: {e}", op.id, q.name))?;
        let inner_t = &inner.tokens;
        let inner_s = inner.text();
        let optional = !q.required;
        let doc = if q.description.is_empty() {
            format!("Sets `{}`.", q.name)
        } else {
            format!("`{}`: {}", q.name, q.description)
        };
        if !setter_names.insert(ident_s.clone()) {
            return Err(format!("`{}`: two setters named `{ident_s}`", op.id));
        }
        let nonzero = inner_s.contains("NonZero");
        let integer = nonzero || is_integer(&inner_s);
        let (arg_ty, stored, converts) = if nonzero {
            let prim = if inner_s.contains("NonZeroU64") {
                quote!(u64)
            } else {
                quote!(u32)
            };
            (prim.clone(), prim, false)
        } else if integer {
            (quote!(#inner_t), quote!(#inner_t), false)
        } else {
            (quote!(impl Into<#inner_t>), quote!(#inner_t), true)
        };
        let into = |value: &syn::Ident| {
            if converts {
                quote!(#value.into())
            } else {
                quote!(#value)
            }
        };
        fields.push(quote! { #field: Option<#stored>, });
        if optional {
            init.push(quote! { #field: None, });
        } else {
            // A required query parameter: positional, after the path parameters.
            args.push(quote! { #ident: #arg_ty });
            let value = into(&ident);
            init.push(quote! { #field: Some(#value), });
        }
        let value = format_ident!("value");
        let set = into(&value);
        setters.push(quote! {
            #[doc = #doc]
            pub fn #ident(mut self, value: #arg_ty) -> Self { self.#field = Some(#set); self }
        });
        let name_lit = &q.name;
        let min = option_literal(q.minimum.or(nonzero.then_some(1)));
        let max = option_literal(q.maximum);
        if integer {
            let convert = if nonzero {
                quote! { std::num::NonZero::new(v).ok_or_else(|| crate::Error::invalid(#name_lit, "must not be 0")) }
            } else {
                quote! { Ok::<_, crate::Error>(v) }
            };
            checks.push(quote! {
                let #field = match self.#field { Some(v) => { crate::resources::check_range(#name_lit, v as i128, #min, #max)?; Some(#convert?) } None => None };
            });
        } else {
            checks.push(quote! { let #field = self.#field.clone(); });
            // A number the spec bounds (`min_score` from 0 to 1): refused here, not by the server.
            let bound = |key: &str| q.schema.get(key).and_then(Value::as_f64);
            if inner_s == "f64" && (bound("minimum").is_some() || bound("maximum").is_some()) {
                let low = match bound("minimum") {
                    Some(v) => quote!(Some(#v)),
                    None => quote!(None),
                };
                let high = match bound("maximum") {
                    Some(v) => quote!(Some(#v)),
                    None => quote!(None),
                };
                checks.push(quote! {
                    if let Some(v) = #field { crate::resources::check_number(#name_lit, v, #low, #high)?; }
                });
            }
        }
        if optional {
            apply.push(quote! {
                let b = match &#field { Some(v) => b.#ident(v.clone()), None => b };
            });
        } else {
            checks.push(quote! {
                let #field = #field.ok_or_else(|| crate::Error::invalid(#name_lit, "is required"))?;
            });
            apply.push(quote! { let b = b.#ident(#field.clone()); });
        }
        let parse = if integer {
            quote! { crate::operations::parse_integer(#name_lit, &value, #min, #max)? }
        } else if inner_s == "String" || inner_s.ends_with(":: String") {
            quote! { value }
        } else {
            quote! { crate::operations::parse_query::<#inner_t>(#name_lit, &value)? }
        };
        if !optional {
            invoke.push(quote! {
                let #ident = match crate::operations::take_query(&mut invocation.query, #name_lit) { Some(value) => #parse, None => return Err(crate::Error::invalid(#name_lit, "is required")) };
            });
            invoke_args.push(quote! { #ident });
        }
        // Given twice, the last one counts, as for the other parameters.
        invoke_query.push(quote! { #name_lit => builder.#ident(#parse), });
    }

    // `x-heygen-most-ids`: the ids of the comma-separated `*_ids` parameters, in all, are at
    // most that many; refused here, not by the server.
    if let Some(most) = op.most_ids {
        let lists: Vec<&QueryParam> = op
            .query
            .iter()
            .filter(|q| q.name.ends_with("_ids"))
            .collect();
        if lists.is_empty() {
            return Err(format!(
                "`{}`: x-heygen-most-ids, but no `*_ids` parameter",
                op.id
            ));
        }
        let fields = lists
            .iter()
            .map(|q| format_ident!("q_{}", sanitize(&q.name, Case::Snake)));
        let names = lists
            .iter()
            .map(|q| q.name.as_str())
            .collect::<Vec<_>>()
            .join(", ");
        let most = most as usize;
        checks.push(quote! {
            let ids = 0 #( + self.#fields.as_deref().map_or(0, crate::resources::comma_items) )*;
            crate::resources::check_count(#names, ids, #most)?;
        });
    }

    // The body.
    let mut body_from_json = TokenStream::new();
    // The body's type and the statements that build it from the builder (`let body = ...;`).
    let mut body_of: Option<(TokenStream, TokenStream)> = None;
    if let Some(schema) = &op.body {
        let body_ty = match schema {
            Some(name) => types.schema(name),
            // The generator names an inline body after its operation.
            None => types.schema(&format!("{}-body", op.id)),
        }
        .map_err(|e| format!("`{}`, body: {e}", op.id))?;
        let body_t = &body_ty.tokens;
        let schema_checked = schema
            .as_ref()
            .and_then(|s| types.spec_schema(s)?.get("x-heygen-checked")?.as_bool())
            .unwrap_or(false);
        if body_ty.generated.is_some() && !schema_checked {
            checked_bodies.insert(body_ty.text(), body_t.clone());
        }
        let spec_schema = match schema {
            Some(name) => types.spec_schema(name),
            None => op_body_schema(types.spec, op),
        };
        let shape = match &body_ty.generated {
            Some(rust_name) => Some(types.shape(rust_name, spec_schema)?),
            None => None,
        };
        match shape {
            None => {
                // A body checked by hand. Its required member (or a whole body) is the
                // positional argument; when it is an object, each optional member is a setter
                // that sets the member on the body, as for a generated body.
                let required: Vec<&str> = spec_schema
                    .and_then(|s| s.get("required")?.as_array())
                    .into_iter()
                    .flatten()
                    .filter_map(Value::as_str)
                    .collect();
                let arg = match required.as_slice() {
                    [one] if spec_schema.is_some_and(|s| s.get("oneOf").is_none()) => {
                        format_ident!("{}", sanitize(one, Case::Snake))
                    }
                    _ => format_ident!("body"),
                };
                fields.push(quote! { body: #body_t, });
                args.push(quote! { #arg: impl Into<#body_t> });
                init.push(quote! { body: #arg.into(), });
                let members = spec_schema
                    .filter(|s| s.get("oneOf").is_none())
                    .and_then(|s| s.get("properties")?.as_object());
                for (json, member) in members.into_iter().flatten() {
                    if required.contains(&json.as_str()) {
                        continue;
                    }
                    let setter_s = sanitize(json, Case::Snake);
                    let setter = format_ident!("{}", setter_name(&setter_s));
                    if !setter_names.insert(setter.to_string()) {
                        return Err(format!("`{}`: two setters named `{setter}`", op.id));
                    }
                    let method = format_ident!("{}", setter_s);
                    let (arg_ty, value) = match types.member(member) {
                        Ok(Member::Many(item)) => (
                            quote!(impl IntoIterator<Item = impl Into<#item>>),
                            quote!(#setter.into_iter().map(Into::into).collect::<Vec<#item>>()),
                        ),
                        Ok(Member::One(ty)) => {
                            let ty = ty.tokens;
                            (quote!(impl Into<#ty>), quote!(#setter.into()))
                        }
                        Err(e) => return Err(format!("`{}`, body member `{json}`: {e}", op.id)),
                    };
                    // A member that only refers to a schema is described by that schema.
                    let about = types.described(member);
                    let doc = format!("The body's `{json}`: {about}");
                    setters.push(quote! {
                        #[doc = #doc]
                        pub fn #setter(mut self, #setter: #arg_ty) -> Self { self.body = self.body.#method(#value); self }
                    });
                }
                setters.push(quote! {
                    /// Sets the whole body at once, replacing every body field set so far.
                    pub fn body(mut self, body: impl Into<#body_t>) -> Self { self.body = body.into(); self }
                });
                let build = quote! { let body = self.body.clone(); };
                body_of = Some((quote!(#body_t), build.clone()));
                checks.push(build);
                invoke.push(quote! {
                    let body: #body_t = crate::operations::decode_body(&mut invocation)?;
                });
                invoke_args.push(quote! { body });
            }
            Some(Shape::Struct(st)) => {
                let mut required: Vec<(String, syn::Ident)> = Vec::new();
                let mut positional: Vec<(String, TokenStream)> = Vec::new();
                let mut members = Vec::new();
                for f in &st {
                    let raw = format_ident!("{}", f.ident);
                    let field = format_ident!("b_{}", f.ident);
                    // What the request stores: the inner type of a constrained value.
                    let stored = f.checked.as_ref().unwrap_or(&f.ty);
                    let inner_t = &stored.tokens;
                    let ty_t = &f.ty.tokens;
                    let json = &f.json;
                    let check = |value: TokenStream| match &f.checked {
                        Some(_) => quote! {
                            <#ty_t as std::convert::TryFrom<#inner_t>>::try_from(#value).map_err(|e| crate::Error::invalid(#json, e.to_string()))?
                        },
                        None => value,
                    };
                    let setter_s = setter_name(&f.ident);
                    let setter = format_ident!("{}", setter_s);
                    if !setter_names.insert(setter_s.clone()) {
                        return Err(format!("`{}`: two setters named `{setter_s}`", op.id));
                    }
                    fields.push(quote! { #field: Option<#inner_t>, });
                    // A member that only refers to a schema is described by that schema.
                    let about = if f.doc.trim().is_empty() {
                        spec_schema
                            .and_then(|body| body.get("properties")?.get(&f.json))
                            .map(|member| types.described(member))
                            .unwrap_or_default()
                    } else {
                        f.doc.clone()
                    };
                    let doc = format!("The body's `{}`: {about}", f.json);
                    let (arg, convert) = match types.vec_item(stored) {
                        Some(item) => (
                            quote!(impl IntoIterator<Item = impl Into<#item>>),
                            quote!(#setter.into_iter().map(Into::into).collect()),
                        ),
                        None => (quote!(impl Into<#inner_t>), quote!(#setter.into())),
                    };
                    let value = if f.optional {
                        init.push(quote! { #field: None, });
                        match &f.checked {
                            Some(_) => {
                                let v = check(quote!(v));
                                quote! { match self.#field.clone() { Some(v) => Some(#v), None => None } }
                            }
                            None => quote! { self.#field.clone() },
                        }
                    } else if f.has_default {
                        init.push(quote! { #field: None, });
                        match &f.checked {
                            Some(_) => {
                                let v = check(quote!(v));
                                quote! { match self.#field.clone() { Some(v) => #v, None => Default::default() } }
                            }
                            None => quote! { self.#field.clone().unwrap_or_default() },
                        }
                    } else {
                        // A required field: a positional argument of the method.
                        positional.push((f.json.clone(), quote! { #setter: #arg }));
                        init.push(quote! { #field: Some(#convert), });
                        required.push((f.json.clone(), raw.clone()));
                        let value = check(quote! {
                            self.#field.clone().ok_or_else(|| crate::Error::invalid(#json, "is required"))?
                        });
                        members.push(quote! { #raw: #value, });
                        continue;
                    };
                    setters.push(quote! {
                        #[doc = #doc]
                        pub fn #setter(mut self, #setter: #arg) -> Self { self.#field = Some(#convert); self }
                    });
                    members.push(quote! { #raw: #value, });
                }
                // Positional arguments in the order the spec lists them as required.
                let order: Vec<String> = spec_schema
                    .and_then(|s| s.get("required")?.as_array().cloned())
                    .unwrap_or_default()
                    .iter()
                    .filter_map(|v| v.as_str().map(str::to_string))
                    .collect();
                let rank =
                    |json: &String| order.iter().position(|r| r == json).unwrap_or(usize::MAX);
                positional.sort_by_key(|(json, _)| rank(json));
                required.sort_by_key(|(json, _)| rank(json));
                args.extend(positional.into_iter().map(|(_, arg)| arg));
                let destructure = st.iter().map(|f| {
                    let raw = format_ident!("{}", f.ident);
                    let field = format_ident!("b_{}", f.ident);
                    match (f.optional, &f.checked) {
                        (true, None) => quote! { self.#field = body.#raw; },
                        (false, None) => quote! { self.#field = Some(body.#raw); },
                        (true, Some(_)) => quote! { self.#field = body.#raw.map(Into::into); },
                        (false, Some(_)) => quote! { self.#field = Some(body.#raw.into()); },
                    }
                });
                setters.push(quote! {
                    /// Sets the whole body at once, replacing every body field set so far.
                    pub fn body(mut self, body: #body_t) -> Self { #(#destructure)* self }
                });
                let build = quote! { let body = #body_t { #(#members)* }; };
                body_of = Some((quote!(#body_t), build.clone()));
                checks.push(build);
                if let Some(member) = &op.request_id {
                    // The body member the server recognises a repeat by: filled once per call
                    // (the call's idempotency key when one was given), so every retry repeats it.
                    let member = format_ident!("{}", sanitize(member, Case::Snake));
                    checks.push(quote! {
                        let mut body = body;
                        if body.#member.is_none() {
                            body.#member = Some(self.options.given_idempotency_key().map_or_else(|| uuid::Uuid::new_v4().to_string(), str::to_string));
                        }
                    });
                }
                if required.is_empty() {
                    invoke.push(quote! {
                        let body: Option<#body_t> = crate::operations::decode_optional_body(&mut invocation)?;
                    });
                    body_from_json =
                        quote! { if let Some(body) = body { builder = builder.body(body); } };
                } else {
                    invoke.push(quote! {
                        let body: #body_t = crate::operations::decode_body(&mut invocation)?;
                    });
                    for (_, field) in &required {
                        invoke_args.push(quote! { body.#field.clone() });
                    }
                    body_from_json = quote! { builder = builder.body(body); };
                }
            }
            Some(Shape::Other) => {
                // A free-form body (a map): optional, `{}` when not set.
                fields.push(quote! { body: Option<#body_t>, });
                init.push(quote! { body: None, });
                setters.push(quote! {
                    /// Sets the body (default: an empty object).
                    pub fn body(mut self, body: impl Into<#body_t>) -> Self { self.body = Some(body.into()); self }
                });
                let build = quote! {
                    let body = match self.body.clone() { Some(body) => body, None => crate::operations::decode_json(Some(serde_json::json!({})))? };
                };
                body_of = Some((quote!(#body_t), build.clone()));
                checks.push(build);
                invoke.push(quote! {
                    let body: Option<#body_t> = crate::operations::decode_optional_body(&mut invocation)?;
                });
                body_from_json =
                    quote! { if let Some(body) = body { builder = builder.body(body); } };
            }
        }
        checks.push(quote! {
            crate::api::bodies::Validate::validate(&body).map_err(crate::Error::InvalidRequest)?;
        });
        apply.push(quote! { let b = b.body(body.clone()); });
    }

    // The response: `data` unwrapped, list envelopes as pages.
    let response = match &op.response {
        Some(name) => types.schema(name),
        // The generator names an inline answer after its operation.
        None => types.schema(&format!("{}-response", op.id)),
    }
    .map_err(|e| format!("`{}`, response: {e}", op.id))?;
    let response_schema = match &op.response {
        Some(name) => types.spec_schema(name),
        None => None,
    };
    let envelope = match &response.generated {
        Some(rust_name) => match types.shape(rust_name, response_schema)? {
            Shape::Struct(fields) => fields,
            Shape::Other => Vec::new(),
        },
        None => Vec::new(),
    };
    let field = |n: &str| envelope.iter().find(|f| f.ident == n);
    let (ret, unwrap, item) = match (field("data"), field("next_token")) {
        (Some(data), Some(_)) => {
            if data.optional {
                return Err(format!("`{}`: a list's `data` is optional", op.id));
            }
            let item = types
                .vec_item(&data.ty)
                .ok_or_else(|| format!("`{}`: a list's `data` is not an array", op.id))?;
            let has_more = match field("has_more") {
                Some(f) if f.optional => quote!(envelope.has_more),
                Some(_) => quote!(Some(envelope.has_more)),
                None => quote!(None),
            };
            (
                quote!(crate::Page<#item>),
                quote!(crate::Page::new(envelope.data, #has_more, envelope.next_token)),
                Some(item),
            )
        }
        // `data` may be absent by HeyGen's own schemas; a success without it is a decode error.
        (Some(data), None) => {
            let inner = &data.ty.tokens;
            let id = &op.id;
            if data.optional {
                (
                    quote!(#inner),
                    quote!(envelope.data.ok_or_else(|| crate::api::error::missing_data(#id))?),
                    None,
                )
            } else {
                (quote!(#inner), quote!(envelope.data), None)
            }
        }
        (None, _) => {
            let whole = &response.tokens;
            (quote!(#whole), quote!(envelope), None)
        }
    };
    let paged = item.is_some() && op.query.iter().any(|q| q.name == "token");

    let docs = doc_lines(op);
    let ident = format_ident!("{}", op.method);
    let raw_method = format_ident!("{}", op.id);
    let raw_id = &op.id;
    let http = format_ident!("{}", op.http_method.to_uppercase());
    let builder_doc = format!(
        "A request for [`{handle}::{ident}`](crate::{handle}::{ident}): `{http} {}`. Set optional parameters, then `.await` it (or call [`send`](Self::send)).",
        op.path
    );
    let stream = match (paged, &item) {
        (true, Some(item)) => quote! {
            /// Streams every item of every page from this request's `token` on, following `next_token`.
            pub fn stream(self) -> crate::ItemStream<'a, #item> { let first = self.q_token.clone(); crate::resources::pagination::paginate(#raw_id, first, move |token| { let mut page = self.clone(); page.q_token = token; page.send() }) }
        },
        _ => TokenStream::new(),
    };
    let code = quote! {
        impl<'a> #handle<'a> {
            #(#[doc = #docs])*
            pub fn #ident(&self #(, #args)*) -> #name<'a> { #name { client: self.client, #(#init)* options: crate::RequestOptions::new() } }
        }
        #[doc = #builder_doc]
        #[derive(Debug, Clone)]
        #[must_use = "a request does nothing until it is awaited"]
        pub struct #name<'a> { client: &'a crate::Client, #(#fields)* options: crate::RequestOptions }
        impl<'a> #name<'a> {
            #(#setters)*
            /// Per-call options: idempotency key, timeout.
            pub fn options(mut self, options: crate::RequestOptions) -> Self { self.options = options; self }
            /// The client the request goes through (for handwritten extensions).
            #[allow(dead_code)]
            pub(crate) fn client(&self) -> &'a crate::Client { self.client }
            /// Checks the request, then sends it, retrying as the client's policy allows.
            ///
            /// # Errors
            /// [`Error::InvalidRequest`](crate::Error::InvalidRequest) when a parameter is invalid (nothing is sent), or any error of the call.
            pub async fn send(self) -> crate::Result<#ret> {
                #(#checks)*
                let envelope = crate::api::client::call(self.client, #raw_id, reqwest::Method::#http, self.options, |raw| { let b = raw.#raw_method(); #(#apply)* Box::pin(b.send()) }).await?;
                Ok(#unwrap)
            }
            /// The checks `send` makes before sending, without sending.
            #[allow(unused_variables, unused_mut, dead_code)]
            pub(crate) fn check(&self) -> crate::Result<()> {
                #(#checks)*
                Ok(())
            }
            #stream
        }
        impl<'a> std::future::IntoFuture for #name<'a> { type Output = crate::Result<#ret>; type IntoFuture = std::pin::Pin<Box<dyn std::future::Future<Output = crate::Result<#ret>> + Send + 'a>>; fn into_future(self) -> Self::IntoFuture { Box::pin(self.send()) } }
    };

    // The table's entry point: strings and JSON in, JSON out.
    let collect = if paged {
        quote! { if invocation.all_pages { let mut items = Vec::new(); let mut stream = builder.stream(); while let Some(item) = futures_util::StreamExt::next(&mut stream).await { items.push(item?); } return crate::operations::to_json(&crate::Page::new(items, Some(false), None)); } }
    } else {
        TokenStream::new()
    };
    let accessor = format_ident!("{}", snake(&op.tag));
    let invoke_fn = format_ident!("invoke_{}", op.id);
    let invoke = quote! {
        #[allow(unused_mut, unused_variables, unreachable_code)]
        fn #invoke_fn<'a>(client: &'a crate::Client, mut invocation: crate::operations::Invocation) -> crate::operations::Invoked<'a> { Box::pin(async move {
            let mut path = std::mem::take(&mut invocation.path).into_iter();
            #(#invoke)*
            let mut builder = client.#accessor().#ident(#(#invoke_args),*);
            #body_from_json
            for (name, value) in std::mem::take(&mut invocation.query) { builder = match name.as_str() { #(#invoke_query)* _ => return Err(crate::operations::unknown_parameter(&name)) }; }
            if invocation.check_only {
                builder.check()?;
                return Ok(serde_json::Value::Null);
            }
            let raw = invocation.raw_slot();
            let builder = builder.options(invocation.options);
            #collect
            crate::operations::answer(&builder.send().await?, raw)
        }) }
    };
    Ok(Generated {
        code,
        invoke,
        paged,
        builder: name,
        ret,
        body: body_of,
    })
}

/// `Some(n)` or `None`, with an unsuffixed literal.
fn option_literal(value: Option<i64>) -> TokenStream {
    match value {
        Some(n) => {
            let n = Literal::i64_unsuffixed(n);
            quote!(Some(#n))
        }
        None => quote!(None),
    }
}

/// The method's doc: summary, description, then the HTTP route and operationId.
fn doc_lines(op: &Op) -> Vec<String> {
    let mut lines = vec![format!("{}.", op.summary.trim_end_matches('.'))];
    if !op.description.is_empty() {
        lines.push(String::new());
        lines.push(op.description.trim().to_string());
    }
    lines.push(String::new());
    lines.push(format!(
        "`{} {}` (operation `{}`).",
        op.http_method.to_uppercase(),
        op.path,
        op.id
    ));
    lines.into_iter().map(|l| format!(" {l}")).collect()
}

fn read_tags(spec: &Value) -> BTreeMap<String, (String, Option<String>)> {
    let mut tags = BTreeMap::new();
    for tag in spec
        .get("tags")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        if let Some(name) = tag.get("name").and_then(Value::as_str) {
            let about = tag
                .get("description")
                .and_then(Value::as_str)
                .unwrap_or("")
                .to_string();
            let command = tag
                .get("x-heygen-command")
                .and_then(Value::as_str)
                .map(str::to_string);
            tags.insert(name.to_string(), (about, command));
        }
    }
    tags
}

fn resolve<'a>(spec: &'a Value, value: &'a Value) -> &'a Value {
    match value.get("$ref").and_then(Value::as_str) {
        Some(r) => r
            .strip_prefix('#')
            .and_then(|p| spec.pointer(p))
            .unwrap_or(value),
        None => value,
    }
}

/// `{"$ref": "#/components/schemas/X"}` → `X`.
fn reference(schema: &Value) -> Option<&str> {
    schema
        .get("$ref")
        .and_then(Value::as_str)
        .and_then(|r| r.strip_prefix("#/components/schemas/"))
}

/// The inline JSON body schema of an operation.
fn op_body_schema<'a>(spec: &'a Value, op: &Op) -> Option<&'a Value> {
    let method = spec.pointer(&format!(
        "/paths/{}/{}",
        op.path.replace('~', "~0").replace('/', "~1"),
        op.http_method
    ))?;
    method.pointer("/requestBody/content/application~1json/schema")
}

fn read_ops(spec: &Value) -> Result<Vec<Op>, String> {
    let mut ops = Vec::new();
    let paths = spec
        .get("paths")
        .and_then(Value::as_object)
        .ok_or("the spec has no paths")?;
    for (path, item) in paths {
        let shared: Vec<&Value> = item
            .get("parameters")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .map(|p| resolve(spec, p))
            .collect();
        for method in METHODS {
            let Some(op) = item.get(method) else { continue };
            let id = op
                .get("operationId")
                .and_then(Value::as_str)
                .ok_or_else(|| format!("{} {path} has no operationId", method.to_uppercase()))?
                .to_string();
            let tag = op
                .pointer("/tags/0")
                .and_then(Value::as_str)
                .ok_or_else(|| format!("operation `{id}` has no tag"))?
                .to_string();
            let text = |k: &str| op.get(k).and_then(Value::as_str).unwrap_or("").to_string();
            let mut params: Vec<&Value> = shared.clone();
            params.extend(
                op.get("parameters")
                    .and_then(Value::as_array)
                    .into_iter()
                    .flatten()
                    .map(|p| resolve(spec, p)),
            );
            let mut path_params = Vec::new();
            let mut query = Vec::new();
            for p in params {
                let name = p.get("name").and_then(Value::as_str).unwrap_or("");
                let location = p.get("in").and_then(Value::as_str).unwrap_or("");
                if location == "path" {
                    path_params.push(name.to_string());
                } else if !name.eq_ignore_ascii_case("idempotency-key") {
                    let schema = p.get("schema").cloned().unwrap_or(Value::Null);
                    let resolved = resolve(spec, &schema);
                    let bound = |k: &str| resolved.get(k).and_then(Value::as_i64);
                    query.push(QueryParam {
                        name: name.to_string(),
                        description: p
                            .get("description")
                            .and_then(Value::as_str)
                            .unwrap_or("")
                            .to_string(),
                        required: p.get("required").and_then(Value::as_bool).unwrap_or(false),
                        minimum: bound("minimum"),
                        maximum: bound("maximum"),
                        schema,
                    });
                }
            }
            // Positional path parameters follow the order of the path.
            path_params.sort_by_key(|p| path.find(&format!("{{{p}}}")).unwrap_or(usize::MAX));
            let body = op
                .pointer("/requestBody/content/application~1json/schema")
                .map(|schema| reference(schema).map(str::to_string));
            let response = op
                .get("responses")
                .and_then(Value::as_object)
                .into_iter()
                .flatten()
                .find(|(status, _)| status.starts_with('2'))
                .and_then(|(_, r)| resolve(spec, r).pointer("/content/application~1json/schema"))
                .and_then(reference)
                .map(str::to_string);
            let flag = |k: &str| op.get(k).and_then(Value::as_bool).unwrap_or(false);
            let method_name = op
                .get("x-heygen-method")
                .and_then(Value::as_str)
                .map_or_else(|| id.clone(), str::to_string);
            ops.push(Op {
                named_verb: op.get("x-heygen-method").is_some()
                    || op.get("x-heygen-verb").is_some(),
                verb: op
                    .get("x-heygen-verb")
                    .and_then(Value::as_str)
                    .map_or_else(|| method_name.replace('_', "-"), str::to_string),
                method: method_name,
                cli_handwritten: flag("x-heygen-handwritten")
                    || op.get("x-heygen-cli").and_then(Value::as_str) == Some("handwritten"),
                handwritten: flag("x-heygen-handwritten"),
                request_id: op
                    .get("x-heygen-request-id")
                    .and_then(Value::as_str)
                    .map(str::to_string),
                id,
                http_method: method.to_string(),
                path: path.clone(),
                tag,
                summary: text("summary"),
                description: text("description"),
                path_params,
                query,
                body,
                response,
                most_ids: op.get("x-heygen-most-ids").and_then(Value::as_u64),
            });
        }
    }
    let mut seen = BTreeSet::new();
    for op in &ops {
        if !seen.insert((op.tag.clone(), op.method.clone())) {
            return Err(format!(
                "two `{}` operations map to the method `{}`; set `x-heygen-method` on one",
                op.tag, op.method
            ));
        }
    }
    Ok(ops)
}

/// The CLI verb of an operation the spec gives none: its id's words without the words of its
/// command's noun (`get_brand_glossary` under `brand-glossary` is `get`, and
/// `list_brand_glossaries` is `list`), in kebab case; `None` when nothing would be left.
pub fn verb_of(operation_id: &str, command: &str) -> Option<String> {
    let words: Vec<&str> = operation_id.split('_').collect();
    let noun: Vec<&str> = command.split('-').collect();
    // One word of the noun, singular or plural, either side (`widget` in `widgets`).
    fn singular(word: &str) -> String {
        match word.strip_suffix("ies") {
            Some(stem) => format!("{stem}y"),
            None => word.strip_suffix('s').unwrap_or(word).to_string(),
        }
    }
    let is_noun = |word: &str, noun: &str| word == noun || singular(word) == singular(noun);
    let at = (0..words.len()).find(|&start| {
        start + noun.len() <= words.len()
            && noun
                .iter()
                .enumerate()
                .all(|(i, n)| is_noun(words[start + i], n))
    })?;
    let rest: Vec<&str> = words[..at]
        .iter()
        .chain(&words[at + noun.len()..])
        .copied()
        .collect();
    (!rest.is_empty()).then(|| rest.join("-"))
}

/// Paths into the generated `types` module made absolute (`crate::raw::types::X`).
fn absolute(ty: &mut syn::Type) {
    match ty {
        syn::Type::Path(p) => {
            let relative = p.path.leading_colon.is_none()
                && p.path.segments.first().is_some_and(|s| s.ident == "types");
            if relative {
                let mut path: syn::Path = syn::parse_quote!(crate::raw);
                path.segments.extend(p.path.segments.iter().cloned());
                p.path = path;
            }
            for segment in p.path.segments.iter_mut() {
                if let syn::PathArguments::AngleBracketed(a) = &mut segment.arguments {
                    for arg in a.args.iter_mut() {
                        if let syn::GenericArgument::Type(t) = arg {
                            absolute(t);
                        }
                    }
                }
            }
        }
        syn::Type::Reference(r) => absolute(&mut r.elem),
        _ => {}
    }
}

fn is_integer(ty: &str) -> bool {
    matches!(
        ty.trim_start_matches(":: std :: primitive :: "),
        "u8" | "u16" | "u32" | "u64" | "i8" | "i16" | "i32" | "i64" | "usize" | "isize"
    )
}

/// `video-agents` → `video_agents`; `Idempotency-Key` → `idempotency_key`.
fn snake(name: &str) -> String {
    name.replace(['-', ' '], "_").to_ascii_lowercase()
}

#[derive(Clone, Copy)]
enum Case {
    Pascal,
    Snake,
}

/// A setter's name: the field's, without the `_` the generator adds to a keyword, unless
/// the name is a keyword still (`type_` stays `type_`).
fn setter_name(field: &str) -> String {
    let trimmed = field.trim_end_matches('_');
    if typify::accept_as_ident(trimmed) {
        trimmed.to_string()
    } else {
        field.to_string()
    }
}

/// The generator's rule for turning a name of the spec into a Rust name: the case changed,
/// characters that cannot stand in an identifier turned into word breaks, and a trailing `_`
/// on a keyword.
fn sanitize(input: &str, case: Case) -> String {
    use heck::{ToPascalCase as _, ToSnakeCase as _};
    let to_case = |s: &str| match case {
        Case::Pascal => s.to_pascal_case(),
        Case::Snake => s.to_snake_case(),
    };
    let cleaned = input
        .replace('\'', "")
        .replace(|c: char| !(c.is_alphanumeric() || c == '_'), "-");
    let out = to_case(&cleaned);
    let out = match out.chars().next() {
        None => to_case("x"),
        Some(c) if c.is_alphabetic() || c == '_' => out,
        Some(_) => format!("{}{out}", to_case("x")),
    };
    if typify::accept_as_ident(&out) {
        out
    } else {
        format!("{out}_")
    }
}
