//! What the AWS providers share: the HTTPS client, and the SDK's errors read as
//! [`FetchError`]s.

use aws_smithy_runtime_api::client::http::SharedHttpClient;
use aws_smithy_runtime_api::client::result::SdkError;
use aws_smithy_types::error::display::DisplayErrorContext;
use aws_smithy_types::error::metadata::ProvideErrorMetadata;

use crate::error::FetchError;

/// The HTTPS client a provider gives an SDK client that has none: rustls on ring, the
/// one the DynamoDB idempotency store uses (the SDK's default features would build
/// aws-lc, a C library, as a second TLS stack).
pub(crate) fn https_client() -> SharedHttpClient {
    aws_smithy_http_client::Builder::new()
        .tls_provider(aws_smithy_http_client::tls::Provider::Rustls(
            aws_smithy_http_client::tls::rustls_provider::CryptoMode::Ring,
        ))
        .build_https()
}

/// An SDK error as a [`FetchError`]: the service's codes in `not_found` are
/// `NotFound`, its access-denied codes `AccessDenied`, any other code `Service`, and a
/// request that got no answer `Unavailable`.
pub(crate) fn fetch_error<E, R>(error: SdkError<E, R>, not_found: &[&str]) -> FetchError
where
    E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
    R: std::fmt::Debug + Send + Sync + 'static,
{
    match &error {
        SdkError::ServiceError(service) => {
            let service = service.err();
            let code = service.code().unwrap_or("Unknown").to_owned();
            let message = service.message().unwrap_or_default().to_owned();
            if not_found.contains(&code.as_str()) {
                FetchError::NotFound
            } else if matches!(
                code.as_str(),
                "AccessDeniedException" | "AccessDenied" | "UnrecognizedClientException" | "KMSAccessDeniedException"
            ) {
                FetchError::AccessDenied(format!("{code}: {message}"))
            } else {
                FetchError::Rejected { code, message }
            }
        }
        _ => FetchError::Unavailable(DisplayErrorContext(&error).to_string()),
    }
}
