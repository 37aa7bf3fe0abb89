//! What Lambda sees of a failed invocation: an `errorType` it can tell apart, and the
//! message.

use std::borrow::Cow;
use std::fmt;

use lambda_runtime::{Diagnostic, Error};

/// The error of a failed invocation, as [`Handler`](crate::Handler)'s `tower::Service`
/// gives it to `lambda_runtime`: the chain's error, and a name for it that Lambda
/// reports as `errorType` (the Lambda console, CloudWatch, X-Ray faults and Step
/// Functions' `Retry`/`Catch` on `ErrorEquals` all key on it).
///
/// The name is, in order:
///
/// 1. the name a [`NamedError`] gives it, for a name of your choosing;
/// 2. otherwise the name its type has in its `Debug` output — the type's own name for a
///    struct (`ValidationError`, `TimeoutError`, `ParseError`, `HttpError`, your
///    `CardDeclined`), the variant's for an enum (`PaymentError::Declined` →
///    `Declined`);
/// 3. for the ecosystem's common errors, whose `Debug` output does not start with a
///    useful name: `IoError` for a `std::io::Error`, `JsonError` for a
///    `serde_json::Error`, and for the AWS SDK's `SdkError::ServiceError` the service
///    error's own code (`ConditionalCheckFailedException`, `ResourceNotFoundException`);
/// 4. `Error` for an error made from a string (`Err("boom".into())`).
///
/// A panic in a middleware or the handler is `Panic` (with the panic's message), and an
/// event that does not deserialise, through [`Handler::json_entry`](crate::Handler::json_entry),
/// `InvalidEvent`.
///
/// `lambda_runtime` alone reports every `Box<dyn Error>` as
/// `&alloc::boxed::Box<dyn core::error::Error + core::marker::Send + core::marker::Sync>`.
/// `?` works on it as on any error.
///
/// ```
/// # extern crate lambda_middleware_core as lambda_middleware;
/// use lambda_middleware::{Context, Error, Handler, InvocationError};
/// use lambda_runtime::{Diagnostic, LambdaEvent};
/// use tower::Service;
///
/// #[derive(Debug, thiserror::Error)]
/// #[error("card {0} was declined")]
/// struct CardDeclined(String);
///
/// async fn pay(_: LambdaEvent<u32>) -> Result<u32, Error> {
///     Err(CardDeclined("4111".into()).into())
/// }
///
/// # #[tokio::main(flavor = "current_thread")] async fn main() {
/// let mut service = Handler::builder().handler(pay).unwrap();
/// let error: InvocationError = service.call(LambdaEvent::new(7, Default::default())).await.unwrap_err();
/// assert_eq!(error.error_type(), "CardDeclined");
/// let diagnostic = Diagnostic::from(error);
/// assert_eq!(diagnostic.error_type, "CardDeclined");
/// assert_eq!(diagnostic.error_message, "card 4111 was declined");
/// # }
/// ```
pub struct InvocationError {
    error: Error,
}

impl InvocationError {
    /// The name Lambda reports as `errorType` (see above).
    ///
    /// ```
    /// # extern crate lambda_middleware_core as lambda_middleware;
    /// use lambda_middleware::InvocationError;
    ///
    /// let error = InvocationError::from(lambda_middleware::Error::from("boom"));
    /// assert_eq!(error.error_type(), "Error");
    /// ```
    pub fn error_type(&self) -> Cow<'_, str> {
        error_type(&*self.error)
    }

    /// The error itself.
    ///
    /// ```
    /// # extern crate lambda_middleware_core as lambda_middleware;
    /// use lambda_middleware::InvocationError;
    ///
    /// let error = InvocationError::from(lambda_middleware::Error::from("boom"));
    /// assert_eq!(error.error().to_string(), "boom");
    /// ```
    pub fn error(&self) -> &(dyn std::error::Error + Send + Sync + 'static) {
        &*self.error
    }

    /// The error as a `T`, when it is one.
    ///
    /// ```
    /// # extern crate lambda_middleware_core as lambda_middleware;
    /// use lambda_middleware::InvocationError;
    ///
    /// let io = std::io::Error::other("disk full");
    /// let error = InvocationError::from(lambda_middleware::Error::from(io));
    /// assert!(error.downcast_ref::<std::io::Error>().is_some());
    /// ```
    pub fn downcast_ref<T: std::error::Error + 'static>(&self) -> Option<&T> {
        self.error.downcast_ref::<T>()
    }

    /// The error itself, boxed as `lambda_runtime` carries it.
    ///
    /// ```
    /// # extern crate lambda_middleware_core as lambda_middleware;
    /// use lambda_middleware::InvocationError;
    ///
    /// let error = InvocationError::from(lambda_middleware::Error::from("boom"));
    /// let boxed: lambda_middleware::Error = error.into_error();
    /// ```
    pub fn into_error(self) -> Error {
        self.error
    }
}

impl From<Error> for InvocationError {
    fn from(error: Error) -> Self {
        InvocationError { error }
    }
}

impl fmt::Display for InvocationError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&self.error, f)
    }
}

impl fmt::Debug for InvocationError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&self.error, f)
    }
}

impl std::error::Error for InvocationError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        self.error.source()
    }
}

/// What `lambda_runtime` posts to the Runtime API's `/error`.
impl From<InvocationError> for Diagnostic {
    fn from(error: InvocationError) -> Self {
        Diagnostic {
            error_type: error.error_type().into_owned(),
            error_message: error.error.to_string(),
        }
    }
}

/// An error with the name Lambda reports for it as `errorType`.
///
/// For when the name of the error's type is not the one Step Functions or an alarm
/// should match on, or when the error is made from a string.
///
/// ```
/// # extern crate lambda_middleware_core as lambda_middleware;
/// use lambda_middleware::{Error, NamedError};
///
/// fn charge(cents: u64) -> Result<(), Error> {
///     if cents > 100_000 {
///         return Err(NamedError::new("LimitExceeded", format!("{cents} cents is over the limit")).into());
///     }
///     Ok(())
/// }
///
/// let error = lambda_middleware::InvocationError::from(charge(200_000).unwrap_err());
/// assert_eq!(error.error_type(), "LimitExceeded");
/// assert_eq!(error.to_string(), "200000 cents is over the limit");
/// ```
pub struct NamedError {
    name: Cow<'static, str>,
    error: Error,
}

impl NamedError {
    /// `error`, reported as `name`.
    ///
    /// ```
    /// # extern crate lambda_middleware_core as lambda_middleware;
    /// let error = lambda_middleware::NamedError::new("PaymentDeclined", "card declined");
    /// assert_eq!(error.name(), "PaymentDeclined");
    /// ```
    pub fn new(name: impl Into<Cow<'static, str>>, error: impl Into<Error>) -> Self {
        NamedError {
            name: name.into(),
            error: error.into(),
        }
    }

    /// The name.
    ///
    /// ```
    /// # extern crate lambda_middleware_core as lambda_middleware;
    /// assert_eq!(lambda_middleware::NamedError::new("Busy", "try later").name(), "Busy");
    /// ```
    pub fn name(&self) -> &str {
        &self.name
    }
}

impl fmt::Display for NamedError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&self.error, f)
    }
}

impl fmt::Debug for NamedError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("NamedError")
            .field("name", &self.name)
            .field("error", &self.error)
            .finish()
    }
}

impl std::error::Error for NamedError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        Some(&*self.error)
    }
}

/// The name of `error` for Lambda (its `errorType`): a [`NamedError`]'s, else the
/// leading identifier of its `Debug` output (`IoError` for `std::io::Error`, `JsonError`
/// for `serde_json::Error`, the service error's code for the AWS SDK's
/// `SdkError::ServiceError`), else `Error`.
///
/// An enum whose variants should all carry the enum's name writes its `Debug` as
/// `Name(..)`, or returns its errors inside a [`NamedError`].
///
/// ```
/// # extern crate lambda_middleware_core as lambda_middleware;
/// use lambda_middleware::support::error_type;
/// use lambda_middleware::{Error, NamedError};
///
/// #[derive(Debug, thiserror::Error)]
/// #[error("card declined")]
/// struct CardDeclined;
///
/// let typed: Error = CardDeclined.into();
/// assert_eq!(error_type(typed.as_ref()), "CardDeclined");
/// let named: Error = NamedError::new("Busy", CardDeclined).into();
/// assert_eq!(error_type(named.as_ref()), "Busy");
/// let text: Error = "plain text".into();
/// assert_eq!(error_type(text.as_ref()), "Error");
/// ```
pub fn error_type<'e>(error: &'e (dyn std::error::Error + Send + Sync + 'static)) -> Cow<'e, str> {
    if let Some(named) = error.downcast_ref::<NamedError>() {
        return Cow::Borrowed(named.name());
    }
    // `std::io::Error`'s `Debug` output starts with its representation (`Custom`, `Os`).
    if error.is::<std::io::Error>() {
        return Cow::Borrowed("IoError");
    }
    // `serde_json::Error`'s starts with `Error(`, the same as a string's name.
    if error.is::<serde_json::Error>() {
        return Cow::Borrowed("JsonError");
    }
    let name = debug_name(error);
    // The AWS SDK's `SdkError::ServiceError` (read by name: the core does not depend on
    // the SDK): its source is the operation's error, whose variant is the service's
    // error code — what a `Catch` or an alarm matches on. Any error whose `Debug` starts
    // with `ServiceError` and that has a source is named after its source the same way.
    if name == "ServiceError" {
        if let Some(source) = error.source() {
            let code = debug_name_of(source);
            if code != "Error" && code != "Unhandled" {
                return Cow::Owned(code);
            }
        }
    }
    Cow::Owned(name)
}

/// [`debug_name`] of an error without the `Send + Sync` bounds (a `source()`).
fn debug_name_of(error: &(dyn std::error::Error + 'static)) -> String {
    name_from_debug(&format!("{error:?}"))
}

/// The leading identifier of the `Debug` output (`MyError`, `Custom`, …), or `Error`
/// for errors made from a string, whose `Debug` output is the quoted string.
pub(crate) fn debug_name(error: &(dyn std::error::Error + Send + Sync + 'static)) -> String {
    name_from_debug(&format!("{error:?}"))
}

fn name_from_debug(debug: &str) -> String {
    let ident: String = debug
        .chars()
        .take_while(|c| c.is_alphanumeric() || *c == '_' || *c == ':')
        .collect();
    let ident = ident.rsplit("::").next().unwrap_or(&ident);
    if ident.is_empty() || !ident.starts_with(|c: char| c.is_alphabetic()) {
        "Error".to_owned()
    } else {
        ident.to_owned()
    }
}

#[cfg(test)]
mod tests {
    use super::{InvocationError, NamedError};
    use lambda_runtime::Error;

    fn name(error: impl Into<Error>) -> String {
        InvocationError::from(error.into()).error_type().into_owned()
    }

    #[test]
    fn names_come_from_the_named_error_then_the_debug_output() {
        #[derive(Debug, thiserror::Error)]
        #[error("declined")]
        struct CardDeclined;

        assert_eq!(name(CardDeclined), "CardDeclined");
        assert_eq!(name(NamedError::new("Busy", CardDeclined)), "Busy");
        assert_eq!(name("plain text"), "Error");
        assert_eq!(name(std::io::Error::other("disk")), "IoError");
        assert_eq!(name(serde_json::from_str::<u8>("x").unwrap_err()), "JsonError");
    }

    /// The AWS SDK's `SdkError::ServiceError`, as its `Debug` and `source()` show it:
    /// named after the service error's variant. (The SDK's own types are tested in the
    /// idempotency crate, which depends on it.)
    #[test]
    fn a_service_error_is_named_after_its_code() {
        #[derive(Debug)]
        enum PutItemError {
            ConditionalCheckFailedException,
        }
        impl std::fmt::Display for PutItemError {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("the conditional request failed")
            }
        }
        impl std::error::Error for PutItemError {}
        #[derive(Debug)]
        struct ServiceError {
            source: PutItemError,
        }
        #[derive(Debug)]
        enum SdkError {
            ServiceError(ServiceError),
        }
        impl std::fmt::Display for SdkError {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("service error")
            }
        }
        impl std::error::Error for SdkError {
            fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
                let SdkError::ServiceError(error) = self;
                Some(&error.source)
            }
        }
        let error = SdkError::ServiceError(ServiceError {
            source: PutItemError::ConditionalCheckFailedException,
        });
        assert_eq!(name(error), "ConditionalCheckFailedException");
    }
}
