//! Finishing touches on the generated client, made on its syntax tree before it is written.
//!
//! - Every public item gets a doc: the `extra` map of each response type, and each type's
//!   `builder()` function.
//! - One name for one thing: the builder of a type `X` (`types::builder::X`) is named
//!   `XBuilder`, so `types::X::builder()` reads as returning a builder, not an `X`.
//! - The generator's own request builders (the raw client's `builder` module) share their
//!   names with the crate's request builders in `operations`; they stay usable through the raw
//!   client's methods but are left out of the documentation.

use std::collections::BTreeSet;

use syn::visit_mut::VisitMut;

/// The doc of the map that keeps a response's unnamed members.
const EXTRA_DOC: &str = "Members HeyGen sent that this version of the type does not name, kept \
                         as JSON and written back when the value is serialized.";

/// Applies every finishing touch to the generated client.
pub fn polish(file: &mut syn::File) {
    let mut builders = BTreeSet::new();
    for item in &mut file.items {
        let syn::Item::Mod(module) = item else {
            continue;
        };
        if module.ident == "types" {
            builders = polish_types(module);
        } else if module.ident == "builder" {
            module.attrs.push(syn::parse_quote!(#[doc(hidden)]));
        }
    }
    // The raw request builders name the type builders as `types::builder::X`.
    RenameQualified {
        names: &builders,
        after_types: true,
    }
    .visit_file_mut(file);
}

/// Documents and renames within the `types` module; returns the names of the type builders.
fn polish_types(types: &mut syn::ItemMod) -> BTreeSet<String> {
    let Some((_, items)) = types.content.as_mut() else {
        return BTreeSet::new();
    };
    // The first paragraph of every type's doc, for a member of that type the spec leaves
    // undescribed (an inline object's description documents its type, not the member).
    let mut summaries = std::collections::BTreeMap::new();
    for item in items.iter() {
        let (ident, attrs) = match item {
            syn::Item::Struct(s) => (&s.ident, &s.attrs),
            syn::Item::Enum(e) => (&e.ident, &e.attrs),
            _ => continue,
        };
        if let Some(summary) = summary(attrs) {
            summaries.insert(ident.to_string(), summary);
        }
    }
    // The doc of every member, for the setter of the same name.
    let mut member_docs = std::collections::BTreeMap::new();
    for item in items.iter_mut() {
        if let syn::Item::Struct(s) = item {
            for field in s.fields.iter_mut() {
                let undocumented = !field.attrs.iter().any(|a| a.path().is_ident("doc"));
                if undocumented && field.ident.as_ref().is_some_and(|i| i == "extra") {
                    field
                        .attrs
                        .insert(0, syn::parse_quote!(#[doc = #EXTRA_DOC]));
                } else if undocumented {
                    if let Some(summary) = named_type(&field.ty).and_then(|t| summaries.get(&t)) {
                        field.attrs.insert(0, syn::parse_quote!(#[doc = #summary]));
                    }
                }
                let docs: Vec<syn::Attribute> = field
                    .attrs
                    .iter()
                    .filter(|a| a.path().is_ident("doc"))
                    .cloned()
                    .collect();
                if let (Some(ident), false) = (&field.ident, docs.is_empty()) {
                    member_docs.insert((s.ident.to_string(), ident.to_string()), docs);
                }
            }
        }
    }
    let mut names = BTreeSet::new();
    for item in items.iter_mut() {
        if let syn::Item::Mod(module) = item {
            if module.ident == "builder" {
                if let Some((_, inner)) = module.content.as_mut() {
                    for item in inner.iter_mut() {
                        if let syn::Item::Struct(s) = item {
                            names.insert(s.ident.to_string());
                        }
                    }
                    for item in inner.iter_mut() {
                        if let syn::Item::Impl(block) = item {
                            document_setters(block, &member_docs);
                        }
                        if let syn::Item::Struct(s) = item {
                            let doc = format!(
                                "Builds a [`{0}`](super::{0}) one member at a time; `try_into()` \
                                 gives the value, or says which member is wrong.",
                                s.ident
                            );
                            s.attrs.push(syn::parse_quote!(#[doc = #doc]));
                            s.ident = builder_name(&s.ident);
                        }
                    }
                    // Inside the module a bare `X` is the builder, `super::X` the type.
                    RenameBare { names: &names }.visit_item_mod_mut(module);
                }
            }
        }
    }
    for item in items.iter_mut() {
        let syn::Item::Impl(block) = item else {
            continue;
        };
        for member in block.items.iter_mut() {
            if let syn::ImplItem::Fn(function) = member {
                if function.sig.ident == "builder" && function.attrs.is_empty() {
                    function.attrs.push(syn::parse_quote!(
                        #[doc = "A builder for this type, every member unset."]
                    ));
                }
            }
        }
    }
    // Outside it, `builder::X` names the builder.
    RenameQualified {
        names: &names,
        after_types: false,
    }
    .visit_item_mod_mut(types);
    names
}

/// The first paragraph of a doc, when there is one.
fn summary(attrs: &[syn::Attribute]) -> Option<String> {
    let mut lines = Vec::new();
    for attr in attrs.iter().filter(|a| a.path().is_ident("doc")) {
        let syn::Meta::NameValue(pair) = &attr.meta else {
            continue;
        };
        let syn::Expr::Lit(syn::ExprLit {
            lit: syn::Lit::Str(text),
            ..
        }) = &pair.value
        else {
            continue;
        };
        let line = text.value().trim().to_string();
        if line.is_empty() || line.starts_with('<') {
            break;
        }
        lines.push(line);
    }
    let joined = lines.join(" ");
    // A doc that only repeats the type's name says nothing of the member.
    (!joined.is_empty() && !joined.starts_with('`')).then_some(joined)
}

/// The generated type a member holds: `X`, `Option<X>` or `Vec<X>`, by its last name.
fn named_type(ty: &syn::Type) -> Option<String> {
    let syn::Type::Path(path) = ty else {
        return None;
    };
    let last = path.path.segments.last()?;
    if let syn::PathArguments::AngleBracketed(arguments) = &last.arguments {
        if last.ident == "Option" || last.ident == "Vec" {
            return match arguments.args.first()? {
                syn::GenericArgument::Type(inner) => named_type(inner),
                _ => None,
            };
        }
        return None;
    }
    Some(last.ident.to_string())
}

/// Gives each setter of a builder (an inherent `impl X` of the builder module) the doc of the
/// member it sets.
fn document_setters(
    block: &mut syn::ItemImpl,
    member_docs: &std::collections::BTreeMap<(String, String), Vec<syn::Attribute>>,
) {
    let syn::Type::Path(target) = block.self_ty.as_ref() else {
        return;
    };
    if block.trait_.is_some() || target.path.segments.len() != 1 {
        return;
    }
    let name = target.path.segments[0].ident.to_string();
    for member in block.items.iter_mut() {
        if let syn::ImplItem::Fn(function) = member {
            let key = (name.clone(), function.sig.ident.to_string());
            let documented = function.attrs.iter().any(|a| a.path().is_ident("doc"));
            if let (Some(docs), false) = (member_docs.get(&key), documented) {
                function.attrs.splice(0..0, docs.iter().cloned());
            }
        }
    }
}

fn builder_name(ident: &syn::Ident) -> syn::Ident {
    syn::Ident::new(&format!("{ident}Builder"), ident.span())
}

/// Renames the one-segment paths `X` to `XBuilder`.
struct RenameBare<'a> {
    names: &'a BTreeSet<String>,
}

impl VisitMut for RenameBare<'_> {
    fn visit_path_mut(&mut self, path: &mut syn::Path) {
        if path.segments.len() == 1 && path.leading_colon.is_none() {
            let segment = &mut path.segments[0];
            if self.names.contains(&segment.ident.to_string()) {
                segment.ident = builder_name(&segment.ident);
            }
        }
        syn::visit_mut::visit_path_mut(self, path);
    }
}

/// Renames `builder::X` to `builder::XBuilder`; with `after_types`, only `types::builder::X`.
struct RenameQualified<'a> {
    names: &'a BTreeSet<String>,
    after_types: bool,
}

impl VisitMut for RenameQualified<'_> {
    fn visit_path_mut(&mut self, path: &mut syn::Path) {
        let count = path.segments.len();
        if count >= 2 && path.segments[count - 2].ident == "builder" {
            let qualified =
                !self.after_types || (count >= 3 && path.segments[count - 3].ident == "types");
            let last = &mut path.segments[count - 1].ident;
            if qualified && self.names.contains(&last.to_string()) {
                *last = builder_name(last);
            }
        }
        syn::visit_mut::visit_path_mut(self, path);
    }
}
