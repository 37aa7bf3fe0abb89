#![doc = include_str!("../README.md")]

use proc_macro::TokenStream;
use proc_macro2::{Span, TokenStream as Tokens};
use quote::{format_ident, quote};
use syn::spanned::Spanned;
use syn::{
    Attribute, FnArg, GenericArgument, Ident, ItemFn, LitStr, Pat, PatType, Path, PathArguments, ReturnType, Type,
    TypePath, TypeReference, parse_macro_input, parse_quote,
};

/// Turns a function into a middleware: a unit struct named after it (`served_by` →
/// `ServedBy`), its params (`ServedByParams`, one field per argument after the
/// mandatory ones, built with `typed-builder`) and its `Middleware` impl.
///
/// | the function | is | its mandatory arguments |
/// |---|---|---|
/// | `#[middleware(before)] fn` | the `before` hook | `event: &mut E, ctx: &Context`; returns `Result<(), _>` to go on or fail, `Result<Flow<R>, _>` to answer early, or nothing |
/// | `#[middleware(after)] fn` | the `after` hook | `response: &mut R, ctx: &Context`; returns `Result<(), _>`, or nothing |
/// | `#[middleware(on_error)] fn` | the `on_error` hook | `error: Error, ctx: &Context`; returns `Result<R, _>` |
/// | `#[middleware] async fn` | `call`, around the rest of the chain | `event: E, ctx: &Context, next: Next`; returns `Result<Proceeded<R>, Error>` |
///
/// The hooks keep the function as written (call it in tests) and compile to the same
/// named futures as a hand-written hook middleware: no box, no allocation. Each
/// argument after the mandatory ones is a field of the params, lent to every call
/// when it is a reference (`&T` is a field of type `T`, `&str` a `String`, `&[T]` a
/// `Vec<T>`), cloned for every call otherwise (a `Copy` value costs nothing);
/// `#[builder(..)]` attributes on them go to the field (`#[builder(default = 3)]`).
///
/// Options: `name = "..."` (the `## name` span; the function's name by default),
/// `derive(Clone, Debug)` (derives for the params struct), `crate = path` (where
/// `lambda_middleware`, for crates that rename it).
///
/// # Examples
///
/// A header on every response, with the header's value as a param:
///
/// ```
/// use lambda_middleware::{middleware, Context, Error, Handler};
/// use serde_json::{json, Value};
///
/// /// Says which runtime served the response.
/// #[middleware(after)]
/// fn served_by(response: &mut Value, _: &Context, runtime: &str) -> Result<(), Error> {
///     response["headers"]["x-served-by"] = json!(runtime);
///     Ok(())
/// }
///
/// async fn handler(_: Value, _: &Context) -> Result<Value, Error> {
///     Ok(json!({ "statusCode": 200 }))
/// }
///
/// # #[tokio::main(flavor = "current_thread")] async fn main() -> Result<(), Error> {
/// let params = ServedByParams::builder().runtime("rust".to_owned()).build();
/// let handler = Handler::builder().middleware_with(ServedBy, params).handler(handler)?;
/// let response = handler.invoke_with(json!({}), &Context::default()).await?;
/// assert_eq!(response["headers"]["x-served-by"], "rust");
/// # Ok(()) }
/// ```
///
/// An early answer from `before`, and an `async fn` around the rest of the chain:
///
/// ```
/// use lambda_middleware::{middleware, Context, Error, Flow, Handler, Next, Proceeded};
/// use serde_json::{json, Value};
///
/// #[middleware(before)]
/// fn require_tenant(event: &mut Value, _: &Context) -> Result<Flow<Value>, Error> {
///     if event["tenant"].is_null() {
///         return Ok(Flow::RespondEarly(json!({ "statusCode": 400 })));
///     }
///     Ok(Flow::Continue)
/// }
///
/// #[middleware]
/// async fn count_keys(
///     event: Value,
///     _: &Context,
///     next: Next,
///     #[builder(default = "keys".to_owned())] field: &str,
/// ) -> Result<Proceeded<Value>, Error> {
///     let keys = event.as_object().map_or(0, |object| object.len());
///     let mut response = next.run(event).await?;
///     response.response_mut()[field] = json!(keys);
///     Ok(response)
/// }
///
/// async fn handler(_: Value, _: &Context) -> Result<Value, Error> {
///     Ok(json!({ "statusCode": 200 }))
/// }
///
/// # #[tokio::main(flavor = "current_thread")] async fn main() -> Result<(), Error> {
/// let handler = Handler::builder()
///     .middleware(RequireTenant)
///     .middleware_with(CountKeys, CountKeysParams::builder().build())
///     .handler(handler)?;
/// let context = Context::default();
/// let ok = handler.invoke_with(json!({ "tenant": "acme" }), &context).await?;
/// assert_eq!(ok, json!({ "statusCode": 200, "keys": 1 }));
/// let refused = handler.invoke_with(json!({}), &context).await?;
/// assert_eq!(refused, json!({ "statusCode": 400 }));
/// # Ok(()) }
/// ```
#[proc_macro_attribute]
pub fn middleware(attr: TokenStream, item: TokenStream) -> TokenStream {
    let mut args = Args::default();
    let parser = syn::meta::parser(|meta| args.parse(meta));
    parse_macro_input!(attr with parser);
    let function = parse_macro_input!(item as ItemFn);
    // A hook function is valid Rust as written: on an error it is kept, so that the
    // error is the only one (no unused imports, no unknown name where it is called).
    // An `async fn` with hook arguments is valid too; an `async fn` taking `next: Next`
    // is not (it is the macro that fills in `Next`'s parameters).
    let keep = (function.sig.asyncness.is_none() || args.kind.is_some()).then(|| function.clone());
    match expand(args, function) {
        Ok(tokens) => tokens.into(),
        Err(error) => {
            let mut tokens = error.to_compile_error();
            if let Some(mut function) = keep {
                for input in function.sig.inputs.iter_mut() {
                    if let FnArg::Typed(typed) = input {
                        typed.attrs.retain(|attr| !attr.path().is_ident("builder"));
                    }
                }
                tokens.extend(quote!(#[allow(dead_code)] #function));
            }
            tokens.into()
        }
    }
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Kind {
    Before,
    After,
    OnError,
    Around,
}

impl Kind {
    fn signature(self) -> &'static str {
        match self {
            Kind::Before => {
                "fn(event: &mut E, ctx: &Context, params..) -> Result<(), Error> (or Result<Flow<R>, Error>, or no return type)"
            }
            Kind::After => "fn(response: &mut R, ctx: &Context, params..) -> Result<(), Error> (or no return type)",
            Kind::OnError => "fn(error: Error, ctx: &Context, params..) -> Result<R, Error>",
            Kind::Around => "async fn(event: E, ctx: &Context, next: Next, params..) -> Result<Proceeded<R>, Error>",
        }
    }

    fn mandatory(self) -> usize {
        if self == Kind::Around { 3 } else { 2 }
    }
}

#[derive(Default)]
struct Args {
    kind: Option<(Kind, Span)>,
    krate: Option<Path>,
    derive: Vec<Path>,
    name: Option<LitStr>,
}

impl Args {
    fn parse(&mut self, meta: syn::meta::ParseNestedMeta<'_>) -> syn::Result<()> {
        let kind = if meta.path.is_ident("before") {
            Some(Kind::Before)
        } else if meta.path.is_ident("after") {
            Some(Kind::After)
        } else if meta.path.is_ident("on_error") {
            Some(Kind::OnError)
        } else {
            None
        };
        if let Some(kind) = kind {
            if self.kind.is_some() {
                return Err(meta.error(
                    "one hook per function: a middleware with several hooks is an `impl Middleware` with `before`, `after` and `on_error`",
                ));
            }
            self.kind = Some((kind, meta.path.span()));
        } else if meta.path.is_ident("crate") {
            self.krate = Some(meta.value()?.parse()?);
        } else if meta.path.is_ident("name") {
            self.name = Some(meta.value()?.parse()?);
        } else if meta.path.is_ident("derive") {
            meta.parse_nested_meta(|derive| {
                self.derive.push(derive.path);
                Ok(())
            })?;
        } else {
            return Err(meta.error(
                "unknown option of #[middleware]: expected `before`, `after`, `on_error`, `name = \"..\"`, `derive(..)` or `crate = path`",
            ));
        }
        Ok(())
    }
}

/// One argument after the mandatory ones: a field of the params.
struct Param {
    name: Ident,
    /// `mut name: T`: the `let` in an `async` body keeps it.
    mutable: bool,
    attrs: Vec<Attribute>,
    field: Type,
    /// The argument's type as written, for the `let` in an `async` body.
    declared: Type,
    lent: bool,
}

fn expand(args: Args, mut function: ItemFn) -> syn::Result<Tokens> {
    let krate: Path = args.krate.clone().unwrap_or_else(|| parse_quote!(::lambda_middleware));
    let is_async = function.sig.asyncness.is_some();
    let kind = match (args.kind, is_async) {
        (None, true) => Kind::Around,
        (Some((_, span)), true) => {
            return Err(syn::Error::new(
                span,
                "a hook is synchronous: remove `async` from the function, or write `#[middleware]` (no hook) for an `async fn` around the rest of the chain that takes `next`",
            ));
        }
        (Some((kind, _)), false) => kind,
        (None, false) => {
            return Err(syn::Error::new(
                function.sig.fn_token.span,
                "`#[middleware]` on a plain `fn` needs the hook it is: `#[middleware(before)]`, `#[middleware(after)]` or `#[middleware(on_error)]`; an `async fn` taking `next` is a middleware around the rest of the chain",
            ));
        }
    };
    if let Some(receiver) = function.sig.receiver() {
        return Err(syn::Error::new(
            receiver.span(),
            "#[middleware] goes on a free function, not a method",
        ));
    }
    if function.sig.inputs.len() < kind.mandatory() {
        return Err(syn::Error::new(
            function.sig.inputs.span(),
            format!(
                "this function takes {} arguments; a #[middleware] of this kind is `{}`",
                function.sig.inputs.len(),
                kind.signature()
            ),
        ));
    }

    let fn_name = function.sig.ident.clone();
    let struct_name = format_ident!("{}", camel_case(&fn_name.to_string()), span = fn_name.span());
    let params_name = format_ident!("{}Params", struct_name);
    let span_name = args
        .name
        .clone()
        .unwrap_or_else(|| LitStr::new(&fn_name.to_string(), fn_name.span()));
    let vis = function.vis.clone();

    // The params: every argument after the mandatory ones.
    let mut params = Vec::new();
    for input in function.sig.inputs.iter_mut().skip(kind.mandatory()) {
        let FnArg::Typed(typed) = input else {
            unreachable!("no receiver")
        };
        params.push(param(typed)?);
    }
    if kind != Kind::Around {
        // The function stays as written, without the field attributes on its arguments.
        for input in function.sig.inputs.iter_mut() {
            if let FnArg::Typed(typed) = input {
                typed.attrs.retain(|attr| !attr.path().is_ident("builder"));
            }
        }
    }

    let docs: Vec<&Attribute> = function
        .attrs
        .iter()
        .filter(|attr| attr.path().is_ident("doc"))
        .collect();
    // What applies to the function applies to what is made of it.
    let shared: Vec<Attribute> = function
        .attrs
        .iter()
        .filter(|attr| {
            ["cfg", "cfg_attr", "allow", "expect", "deprecated"]
                .iter()
                .any(|name| attr.path().is_ident(name))
        })
        .cloned()
        .collect();
    let fn_doc = format!(" The middleware `{fn_name}` makes (`#[middleware]`).");
    let struct_docs = if docs.is_empty() {
        quote!(#[doc = #fn_doc])
    } else {
        quote!(#(#docs)*)
    };

    let params_type: Type;
    let params_item: Tokens;
    if params.is_empty() {
        params_type = parse_quote!(());
        params_item = Tokens::new();
    } else {
        params_type = parse_quote!(#params_name);
        let doc = format!(" The params of [`{struct_name}`]: the arguments of `{fn_name}` after the mandatory ones.");
        let derives = &args.derive;
        let fields = params.iter().map(|param| {
            let Param { name, attrs, field, .. } = param;
            let doc = format!(" The `{name}` argument of `{fn_name}`.");
            quote!(#[doc = #doc] #(#attrs)* pub #name: #field)
        });
        params_item = quote! {
            #(#shared)*
            #[doc = #doc]
            #[derive(#krate::TypedBuilder #(, #derives)*)]
            #[builder(crate_module_path = #krate::typed_builder)]
            #vis struct #params_name {
                #(#fields,)*
            }
        };
    }
    let pass: Vec<Tokens> = params
        .iter()
        .map(|Param { name, lent, .. }| {
            if *lent {
                quote!(&__params.#name)
            } else {
                quote!(::core::clone::Clone::clone(&__params.#name))
            }
        })
        .collect();

    let (impl_generics_src, where_clause) = (&function.sig.generics, &function.sig.generics.where_clause);
    let user_params = impl_generics_src.params.iter();
    let user_predicates = where_clause.iter().flat_map(|clause| clause.predicates.iter());
    let inputs: Vec<&PatType> = function
        .sig
        .inputs
        .iter()
        .map(|input| match input {
            FnArg::Typed(typed) => typed,
            FnArg::Receiver(_) => unreachable!("no receiver"),
        })
        .collect();

    let middleware = quote!(#krate::Middleware);
    let context = quote!(#krate::Context);
    let error = quote!(#krate::Error);
    let body_impl = match kind {
        Kind::Before => {
            let event = referent(&inputs[0].ty, "a `before` hook takes the event as `&mut E` first")?;
            // No return type: the hook always goes on.
            let infallible = matches!(function.sig.output, ReturnType::Default);
            let ok = if infallible {
                parse_quote!(())
            } else {
                result_ok(&function.sig.output, kind)?
            };
            let run = if infallible {
                quote! {
                    #fn_name(__event, __ctx #(, #pass)*);
                    ::core::result::Result::Ok(#krate::Flow::Continue)
                }
            } else {
                quote! {
                    match #fn_name(__event, __ctx #(, #pass)*) {
                        ::core::result::Result::Ok(flow) => ::core::result::Result::Ok(#krate::chain::IntoFlow::into_flow(flow)),
                        ::core::result::Result::Err(error) => ::core::result::Result::Err(::core::convert::Into::into(error)),
                    }
                }
            };
            // `Result<Flow<X>, _>`: a middleware for responses of type `X` only (a generic
            // `X` stays the function's own parameter, constrained by the trait).
            let flow_response = flow_argument(&ok);
            let (response_param, response_type) = match &flow_response {
                Some(response) => (Tokens::new(), quote!(#response)),
                None => (quote!(__R: ::core::marker::Send,), quote!(__R)),
            };
            quote! {
                impl<#(#user_params,)* #response_param> #middleware<#event, #response_type> for #struct_name
                where
                    #event: ::core::marker::Send,
                    #ok: #krate::chain::IntoFlow<#response_type>,
                    #response_type: ::core::marker::Send,
                    #(#user_predicates,)*
                {
                    type Params = #params_type;

                    fn name(&self) -> &'static str {
                        #span_name
                    }

                    #[inline(always)]
                    fn before(&self, __params: &#params_type, __event: &mut #event, __ctx: &#context) -> ::core::result::Result<#krate::Flow<#response_type>, #error> {
                        let _ = __params;
                        #run
                    }
                }
            }
        }
        Kind::After | Kind::OnError => {
            // Both are middlewares for events of any type: only the response is theirs.
            let (response, method) = if kind == Kind::After {
                let response = referent(&inputs[0].ty, "an `after` hook takes the response as `&mut R` first")?;
                let run = if matches!(function.sig.output, ReturnType::Default) {
                    quote! {
                        #fn_name(__response, __ctx #(, #pass)*);
                        ::core::result::Result::Ok(())
                    }
                } else {
                    quote!(#fn_name(__response, __ctx #(, #pass)*).map_err(::core::convert::Into::into))
                };
                let method = quote! {
                    fn after(&self, __params: &#params_type, __response: &mut #response, __ctx: &#context) -> ::core::result::Result<(), #error> {
                        let _ = __params;
                        #run
                    }
                };
                (response, method)
            } else {
                let response = result_ok(&function.sig.output, kind)?;
                let method = quote! {
                    fn on_error(&self, __params: &#params_type, __error: #error, __ctx: &#context) -> ::core::result::Result<#response, #error> {
                        let _ = __params;
                        #fn_name(__error, __ctx #(, #pass)*).map_err(::core::convert::Into::into)
                    }
                };
                (response, method)
            };
            quote! {
                impl<#(#user_params,)* __E: ::core::marker::Send> #middleware<__E, #response> for #struct_name
                where
                    #response: ::core::marker::Send,
                    #(#user_predicates,)*
                {
                    type Params = #params_type;

                    fn name(&self) -> &'static str {
                        #span_name
                    }

                    #[inline(always)]
                    #method
                }
            }
        }
        Kind::Around => {
            let event = &inputs[0].ty;
            let (event_pat, ctx_pat, ctx_ty, next_pat) =
                (&inputs[0].pat, &inputs[1].pat, &inputs[1].ty, &inputs[2].pat);
            let (proceeded, response) = proceeded_response(&function.sig.output)?;
            // The user's own paths to `Next` and `Proceeded` (so that their imports are
            // used), with the brand and the rest of the chain filled in.
            let next = branded(&inputs[2].ty, quote!('__n, __I)).ok_or_else(|| {
                syn::Error::new(
                    inputs[2].ty.span(),
                    "the third argument of an `async fn` middleware is `next: Next`",
                )
            })?;
            let proceeded = branded(&proceeded, quote!('__n, #response)).expect("checked to be a path");
            let lets = params.iter().zip(&pass).map(
                |(
                    Param {
                        name,
                        declared,
                        mutable,
                        ..
                    },
                    pass,
                )| {
                    if *mutable {
                        quote!(let mut #name: #declared = #pass;)
                    } else {
                        quote!(let #name: #declared = #pass;)
                    }
                },
            );
            let body = &function.block;
            quote! {
                impl<#(#user_params),*> #middleware<#event, #response> for #struct_name
                where
                    #event: ::core::marker::Send,
                    #response: ::core::marker::Send,
                    #(#user_predicates,)*
                {
                    type Params = #params_type;

                    fn name(&self) -> &'static str {
                        #span_name
                    }

                    async fn call<'__n, __I>(
                        &self,
                        __params: &#params_type,
                        #event_pat: #event,
                        #ctx_pat: #ctx_ty,
                        #next_pat: #next,
                    ) -> ::core::result::Result<#proceeded, #error>
                    where
                        __I: #krate::Invoke<#event, Response = #response>,
                    {
                        let _ = __params;
                        #(#lets)*
                        #body
                    }
                }
            }
        }
    };

    let function_item = if kind == Kind::Around {
        Tokens::new()
    } else {
        // Inlined into the hook, as a hand-written hook's body is (the hook is its only
        // caller): a chain of them then compiles to the same code (`benches/`). A
        // function with an `inline` attribute of its own keeps it.
        if !function.attrs.iter().any(|attr| attr.path().is_ident("inline")) {
            function.attrs.push(parse_quote!(#[inline(always)]));
        }
        quote!(#function)
    };
    Ok(quote! {
        #function_item

        #(#shared)*
        #struct_docs
        #[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
        #vis struct #struct_name;

        #params_item

        #(#shared)*
        #body_impl
    })
}

fn param(typed: &mut PatType) -> syn::Result<Param> {
    let Pat::Ident(pat) = &*typed.pat else {
        return Err(syn::Error::new(
            typed.pat.span(),
            "an argument after the mandatory ones is a field of the middleware's params: give it a plain name",
        ));
    };
    let name = pat.ident.clone();
    let mutable = pat.mutability.is_some();
    let attrs = typed
        .attrs
        .iter()
        .filter(|attr| attr.path().is_ident("builder"))
        .cloned()
        .collect();
    typed.attrs.retain(|attr| !attr.path().is_ident("builder"));
    let declared = (*typed.ty).clone();
    let (field, lent) = match &*typed.ty {
        Type::Reference(TypeReference {
            mutability: Some(token),
            ..
        }) => {
            return Err(syn::Error::new(
                token.span,
                "params are shared by every invocation: take `&T` or a value, not `&mut T`",
            ));
        }
        Type::Reference(TypeReference { elem, .. }) => (owned(elem), true),
        other => (other.clone(), false),
    };
    Ok(Param {
        name,
        mutable,
        attrs,
        field,
        declared,
        lent,
    })
}

/// The field that lends `&elem`: `str` → `String`, `[T]` → `Vec<T>`, else `elem`.
fn owned(elem: &Type) -> Type {
    match elem {
        Type::Path(TypePath { qself: None, path }) if path.is_ident("str") => {
            parse_quote!(::std::string::String)
        }
        Type::Slice(slice) => {
            let item = &slice.elem;
            parse_quote!(::std::vec::Vec<#item>)
        }
        other => other.clone(),
    }
}

/// `T` of `&mut T`.
fn referent(ty: &Type, message: &str) -> syn::Result<Type> {
    match ty {
        Type::Reference(TypeReference {
            mutability: Some(_),
            elem,
            ..
        }) => Ok((**elem).clone()),
        other => Err(syn::Error::new(other.span(), message)),
    }
}

/// The first generic argument of the return type's last segment: `T` of `Result<T, _>`.
fn result_ok(output: &ReturnType, kind: Kind) -> syn::Result<Type> {
    let message = format!("a #[middleware] of this kind is `{}`", kind.signature());
    let ReturnType::Type(_, ty) = output else {
        return Err(syn::Error::new(output.span(), message));
    };
    first_argument(ty).ok_or_else(|| syn::Error::new(ty.span(), message))
}

/// `Proceeded<R>` and `R` of `Result<Proceeded<R>, Error>` (or of `Proceeded<'_, R>`).
fn proceeded_response(output: &ReturnType) -> syn::Result<(Type, Type)> {
    let message = "an `async fn` middleware returns `Result<Proceeded<R>, Error>`: the proof `next` gives back, with the response type `R`";
    let ReturnType::Type(_, ty) = output else {
        return Err(syn::Error::new(output.span(), message));
    };
    let proceeded = first_argument(ty).ok_or_else(|| syn::Error::new(ty.span(), message))?;
    match &proceeded {
        Type::Path(TypePath { qself: None, path })
            if path.segments.last().is_some_and(|segment| segment.ident == "Proceeded") =>
        {
            let response = first_argument(&proceeded).ok_or_else(|| syn::Error::new(proceeded.span(), message))?;
            Ok((proceeded, response))
        }
        other => Err(syn::Error::new(other.span(), message)),
    }
}

/// The path `ty` names, with `arguments` as its last segment's generic arguments.
fn branded(ty: &Type, arguments: Tokens) -> Option<Type> {
    let Type::Path(TypePath { qself: None, path }) = ty else {
        return None;
    };
    let mut path = path.clone();
    let last = path.segments.last_mut()?;
    last.arguments = PathArguments::AngleBracketed(parse_quote!(<#arguments>));
    Some(Type::Path(TypePath { qself: None, path }))
}

/// `X` of `Flow<X>`.
fn flow_argument(ty: &Type) -> Option<Type> {
    match ty {
        Type::Path(TypePath { qself: None, path })
            if path.segments.last().is_some_and(|segment| segment.ident == "Flow") =>
        {
            first_argument(ty)
        }
        _ => None,
    }
}

fn first_argument(ty: &Type) -> Option<Type> {
    let Type::Path(TypePath { qself: None, path }) = ty else {
        return None;
    };
    let PathArguments::AngleBracketed(arguments) = &path.segments.last()?.arguments else {
        return None;
    };
    arguments.args.iter().find_map(|argument| match argument {
        GenericArgument::Type(ty) => Some(ty.clone()),
        _ => None,
    })
}

fn camel_case(snake: &str) -> String {
    snake
        .trim_start_matches("r#")
        .split('_')
        .filter(|part| !part.is_empty())
        .map(|part| {
            let mut chars = part.chars();
            chars
                .next()
                .map(|first| first.to_uppercase().chain(chars).collect::<String>())
                .unwrap_or_default()
        })
        .collect()
}
