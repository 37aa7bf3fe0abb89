//! [`HttpRequest`] and [`HttpResponse`]: what the HTTP middlewares need to see of an
//! event and a response, for JSON payloads, aws_lambda_events' types and `http`'s (which
//! `lambda_http` and axum use).

use std::borrow::Cow;

use serde_json::{Map, Value};

use lambda_middleware_core::JsonPointer;

/// An HTTP request event, as the HTTP middlewares ([`Cors`](crate::Cors),
/// [`CorrelationId`](crate::CorrelationId)) read it.
///
/// Implemented for
///
/// - `serde_json::Value`: an API Gateway proxy event as JSON, REST (v1) or HTTP (v2)
///   payload;
/// - with the `apigw` feature, aws_lambda_events' `ApiGatewayProxyRequest` (REST) and
///   `ApiGatewayV2httpRequest` (HTTP APIs);
/// - `http::Request<B>` for any body `B`: `lambda_http::Request`, and the requests of an
///   axum `Router` or tower-http's layers (the request id needs the `http` feature, which
///   reads `lambda_http`'s request context).
///
/// Implement it for your own event type to use the HTTP middlewares with it.
///
/// Bad input is not an error here: a header that is missing, not a string, or not
/// valid UTF-8 is `None`, and the middlewares treat it as absent.
///
/// # Example
///
/// ```
/// use lambda_middleware::middlewares::HttpRequest;
/// use serde_json::json;
///
/// let mut event = json!({
///     "httpMethod": "POST",
///     "headers": { "Content-Type": "application/json", "X-Count": 3 },
///     "requestContext": { "requestId": "c6af9ac6" },
/// });
/// assert_eq!(event.method(), Some("POST"));
/// assert_eq!(event.header("content-type"), Some("application/json")); // any case
/// assert_eq!(event.header("x-count"), None); // not a string
/// assert_eq!(event.request_id(), Some("c6af9ac6"));
///
/// assert!(event.set_header("x-correlation-id", "abc"));
/// assert_eq!(event["headers"]["x-correlation-id"], "abc");
/// ```
pub trait HttpRequest {
    /// The HTTP method (`GET`, `OPTIONS`), when the event has one.
    ///
    /// ```
    /// # use lambda_middleware::middlewares::HttpRequest;
    /// # use serde_json::json;
    /// assert_eq!(json!({ "httpMethod": "PUT" }).method(), Some("PUT")); // REST API
    /// assert_eq!(json!({ "requestContext": { "http": { "method": "GET" } } }).method(), Some("GET")); // HTTP API
    /// ```
    fn method(&self) -> Option<&str>;

    /// The (first) value of the header `name`, compared without regard to case; `None`
    /// when it is absent, not a string, or not valid UTF-8.
    ///
    /// ```
    /// # use lambda_middleware::middlewares::HttpRequest;
    /// # use serde_json::json;
    /// let event = json!({ "multiValueHeaders": { "Accept": ["text/html", "*/*"] } });
    /// assert_eq!(HttpRequest::header(&event, "accept"), Some("text/html"));
    /// ```
    fn header(&self, name: &str) -> Option<&str>;

    /// Sets the header `name` to `value`, replacing any value under any case of the name.
    /// `false` when the event cannot hold it (not an object, or an invalid header name or
    /// value for a typed event).
    ///
    /// ```
    /// # use lambda_middleware::middlewares::HttpRequest;
    /// # use serde_json::json;
    /// let mut event = json!({ "headers": { "X-Id": "old" } });
    /// assert!(HttpRequest::set_header(&mut event, "x-id", "new"));
    /// assert_eq!(event, json!({ "headers": { "x-id": "new" } }));
    /// ```
    fn set_header(&mut self, name: &str, value: &str) -> bool;

    /// API Gateway's request id (`requestContext.requestId`), when the event has one.
    ///
    /// ```
    /// # use lambda_middleware::middlewares::HttpRequest;
    /// # use serde_json::json;
    /// assert_eq!(json!({ "requestContext": { "requestId": "c6af9ac6" } }).request_id(), Some("c6af9ac6"));
    /// ```
    fn request_id(&self) -> Option<&str>;

    /// The value at `pointer` in the event as JSON, for middlewares configured with a
    /// pointer ([`CorrelationIdSource::pointer`](crate::CorrelationIdSource::pointer)).
    /// `None` when there is nothing there, and always for events that are not JSON
    /// (the default, and `lambda_http::Request`'s); a typed API Gateway event is
    /// serialized to JSON for the lookup.
    ///
    /// ```
    /// # use lambda_middleware::middlewares::{HttpRequest, JsonPointer};
    /// # use serde_json::json;
    /// let event = json!({ "body": "{\"orderId\":\"o-9\"}" });
    /// let found = event.json_pointer(&JsonPointer::new("/body/orderId"));
    /// assert_eq!(found.as_deref(), Some(&json!("o-9")));
    /// ```
    fn json_pointer(&self, pointer: &JsonPointer) -> Option<Cow<'_, Value>> {
        let _ = pointer;
        None
    }
}

/// An HTTP response, as the HTTP middlewares ([`SecurityHeaders`](crate::SecurityHeaders),
/// [`Cors`](crate::Cors), [`CorrelationId`](crate::CorrelationId)) read and change it.
///
/// Implemented for
///
/// - `serde_json::Value`: an API Gateway proxy response as JSON (`statusCode`,
///   `headers`, `body`);
/// - `http::Response<B>` for any body `B`: `lambda_http`'s responses, an axum `Router`'s,
///   streaming responses, and bodies wrapped by tower-http's layers;
/// - `lambda_runtime::StreamResponse<S>`, a streaming response: its metadata prelude's
///   status and headers;
/// - with the `apigw` feature, aws_lambda_events' `ApiGatewayProxyResponse` and
///   `ApiGatewayV2httpResponse`.
///
/// The middlewares that also *make* responses (an error response, a preflight answer)
/// need [`BuildHttpResponse`] as well.
///
/// # Example
///
/// ```
/// use lambda_middleware::middlewares::HttpResponse;
/// use serde_json::json;
///
/// let mut response = json!({ "statusCode": 404, "body": "{\"message\":\"not found\"}" });
/// assert_eq!(response.status(), Some(404));
/// assert!(response.set_header("Content-Type", "application/json"));
/// assert_eq!(response.header("content-type"), Some("application/json"));
/// assert_eq!(response, json!({
///     "statusCode": 404,
///     "headers": { "Content-Type": "application/json" },
///     "body": "{\"message\":\"not found\"}",
/// }));
///
/// // A handler that answered with a bare value has no room for headers.
/// assert!(!json!("hello").set_header("X-Frame-Options", "DENY"));
/// ```
pub trait HttpResponse {
    /// The status code, when the response has a valid one.
    ///
    /// ```
    /// # use lambda_middleware::middlewares::HttpResponse;
    /// # use serde_json::json;
    /// assert_eq!(json!({ "statusCode": 302 }).status(), Some(302));
    /// assert_eq!(json!({ "statusCode": "302" }).status(), None);
    /// ```
    fn status(&self) -> Option<u16>;

    /// The (first) value of the header `name`, compared without regard to case.
    ///
    /// ```
    /// # use lambda_middleware::middlewares::HttpResponse;
    /// # use serde_json::json;
    /// let response = json!({ "statusCode": 200, "headers": { "Vary": "Accept" } });
    /// assert_eq!(HttpResponse::header(&response, "vary"), Some("Accept"));
    /// ```
    fn header(&self, name: &str) -> Option<&str>;

    /// Sets the header `name` to `value`, replacing any value under any case of the name.
    /// `false` when the response cannot hold it (a JSON response that is not an object,
    /// or an invalid header name or value for a typed response).
    ///
    /// ```
    /// # use lambda_middleware::middlewares::HttpResponse;
    /// # use serde_json::json;
    /// let mut response = json!({ "statusCode": 200, "multiValueHeaders": { "vary": ["Accept"] } });
    /// assert!(HttpResponse::set_header(&mut response, "Vary", "Origin"));
    /// // API Gateway would prefer `multiValueHeaders`: the old value is gone from there.
    /// assert_eq!(response["headers"]["Vary"], "Origin");
    /// assert_eq!(response["multiValueHeaders"], json!({}));
    /// ```
    fn set_header(&mut self, name: &str, value: &str) -> bool;
}

/// An [`HttpResponse`] the HTTP middlewares can also make from scratch: the error
/// responses of [`HttpErrorHandler`](crate::HttpErrorHandler), the preflight answers of
/// [`Cors`](crate::Cors), the responses of [`JsonResponse`](crate::JsonResponse).
///
/// Implemented for `serde_json::Value`, for `http::Response<B>` whose body can be empty
/// and made from a `String` (`B: Default + From<String>`: `lambda_http::Body`, axum's
/// `Body`, `String`, `Full<Bytes>`), and with the `apigw` feature for API Gateway's
/// typed responses.
///
/// ```
/// use lambda_middleware::middlewares::{BuildHttpResponse, HttpResponse};
/// use serde_json::{json, Value};
///
/// let response = Value::with_status(204, None);
/// assert_eq!(response, json!({ "statusCode": 204, "headers": {} }));
///
/// let response: http::Response<String> = BuildHttpResponse::with_status(404, Some("not found".into()));
/// assert_eq!(HttpResponse::status(&response), Some(404));
/// assert_eq!(response.body(), "not found");
/// ```
pub trait BuildHttpResponse: HttpResponse + Sized {
    /// A response with this status code and body, and no headers yet.
    ///
    /// ```
    /// # use lambda_middleware::middlewares::BuildHttpResponse;
    /// # use serde_json::{json, Value};
    /// assert_eq!(Value::with_status(204, None), json!({ "statusCode": 204, "headers": {} }));
    /// ```
    fn with_status(status: u16, body: Option<String>) -> Self;
}

/// The value of `name` in a JSON headers object, any case; a multi-value header's first value.
fn json_header<'a>(headers: Option<&'a Value>, name: &str) -> Option<&'a str> {
    let headers = headers?.as_object()?;
    let value = match headers.get(name) {
        Some(value) => value,
        None => headers.iter().find(|(key, _)| key.eq_ignore_ascii_case(name))?.1,
    };
    match value {
        Value::String(text) => Some(text),
        Value::Array(values) => values.first()?.as_str(),
        _ => None,
    }
}

/// Sets `name` in the object under `key` of `object`, making the headers object when it
/// is missing or `null`, and removing every other case of the name.
fn set_json_header(object: &mut Value, key: &str, name: &str, value: &str) -> bool {
    let Some(object) = object.as_object_mut() else {
        return false;
    };
    let headers = object.entry(key).or_insert_with(|| Value::Object(Map::new()));
    if headers.is_null() {
        *headers = Value::Object(Map::new());
    }
    let Some(headers) = headers.as_object_mut() else {
        return false;
    };
    headers.retain(|key, _| !key.eq_ignore_ascii_case(name));
    headers.insert(name.to_owned(), Value::String(value.to_owned()));
    true
}

/// Removes every case of `name` from the object under `key`, when there is one, and
/// puts `replacement` there instead when it is given.
fn replace_json_header(object: &mut Value, key: &str, name: &str, replacement: Option<Value>) {
    if let Some(headers) = object.get_mut(key).and_then(Value::as_object_mut) {
        headers.retain(|key, _| !key.eq_ignore_ascii_case(name));
        if let Some(replacement) = replacement {
            headers.insert(name.to_owned(), replacement);
        }
    }
}

impl HttpRequest for Value {
    fn method(&self) -> Option<&str> {
        self.get("httpMethod")
            .or_else(|| self.pointer("/requestContext/http/method"))
            .and_then(Value::as_str)
    }

    fn header(&self, name: &str) -> Option<&str> {
        json_header(self.get("headers"), name).or_else(|| json_header(self.get("multiValueHeaders"), name))
    }

    fn set_header(&mut self, name: &str, value: &str) -> bool {
        if !set_json_header(self, "headers", name, value) {
            return false;
        }
        // A REST API event carries each header in both maps: keep them in agreement, so
        // a handler reading either finds the new value.
        let values = Value::Array(vec![Value::String(value.to_owned())]);
        replace_json_header(self, "multiValueHeaders", name, Some(values));
        true
    }

    fn request_id(&self) -> Option<&str> {
        self.pointer("/requestContext/requestId").and_then(Value::as_str)
    }

    fn json_pointer(&self, pointer: &JsonPointer) -> Option<Cow<'_, Value>> {
        pointer.find(self)
    }
}

impl BuildHttpResponse for Value {
    fn with_status(status: u16, body: Option<String>) -> Self {
        let mut response = Map::new();
        response.insert("statusCode".into(), status.into());
        response.insert("headers".into(), Value::Object(Map::new()));
        if let Some(body) = body {
            response.insert("body".into(), body.into());
        }
        Value::Object(response)
    }
}

impl HttpResponse for Value {
    fn status(&self) -> Option<u16> {
        u16::try_from(self.get("statusCode")?.as_u64()?).ok()
    }

    fn header(&self, name: &str) -> Option<&str> {
        json_header(self.get("headers"), name).or_else(|| json_header(self.get("multiValueHeaders"), name))
    }

    fn set_header(&mut self, name: &str, value: &str) -> bool {
        // API Gateway prefers `multiValueHeaders` when both name a header: drop it there.
        replace_json_header(self, "multiValueHeaders", name, None);
        set_json_header(self, "headers", name, value)
    }
}

#[cfg(feature = "apigw")]
mod apigw {
    use aws_lambda_events::apigw::{
        ApiGatewayProxyRequest, ApiGatewayProxyResponse, ApiGatewayV2httpRequest, ApiGatewayV2httpResponse,
    };
    use std::borrow::Cow;

    use aws_lambda_events::encodings::Body;
    use aws_lambda_events::http::{HeaderMap, HeaderName, HeaderValue};
    use serde_json::Value;

    use super::{BuildHttpResponse, HttpRequest, HttpResponse, JsonPointer};

    /// A typed event's value at `pointer`, through its JSON form.
    ///
    /// aws_lambda_events cannot serialize a header value that is not UTF-8; such a
    /// value is left out (`clean` drops it from a copy) rather than losing the lookup.
    fn json_pointer<T: serde::Serialize + Clone>(
        event: &T,
        pointer: &JsonPointer,
        clean: impl FnOnce(&mut T),
    ) -> Option<Cow<'static, Value>> {
        let json = serde_json::to_value(event)
            .or_else(|_| {
                let mut copy = event.clone();
                clean(&mut copy);
                serde_json::to_value(&copy)
            })
            .ok()?;
        pointer.find(&json).map(|found| Cow::Owned(found.into_owned()))
    }

    /// `headers` without the values that are not UTF-8.
    fn utf8_only(headers: &HeaderMap) -> HeaderMap {
        headers
            .iter()
            .filter(|(_, value)| std::str::from_utf8(value.as_bytes()).is_ok())
            .map(|(name, value)| (name.clone(), value.clone()))
            .collect()
    }

    fn get<'a>(headers: &'a HeaderMap, multi: Option<&'a HeaderMap>, name: &str) -> Option<&'a str> {
        // `HeaderMap::get` parses `name` (header names are case-insensitive) and is `None`
        // for a name that is not a valid header name.
        headers
            .get(name)
            .or_else(|| multi?.get(name))
            .and_then(|value| value.to_str().ok())
    }

    /// Sets a header in `headers`. In a request, `multi` (REST APIs send each header in
    /// both maps) gets the same value, so a handler reading either finds it; in a
    /// response, the header is removed from `multi`, which API Gateway would prefer.
    fn set(headers: &mut HeaderMap, multi: Option<(&mut HeaderMap, bool)>, name: &str, value: &str) -> bool {
        let (Ok(name), Ok(value)) = (HeaderName::from_bytes(name.as_bytes()), HeaderValue::from_str(value)) else {
            return false;
        };
        match multi {
            Some((multi, true)) => {
                multi.insert(name.clone(), value.clone());
            }
            Some((multi, false)) => {
                multi.remove(&name);
            }
            None => {}
        }
        headers.insert(name, value);
        true
    }

    fn status(code: i64) -> Option<u16> {
        u16::try_from(code).ok()
    }

    /// The REST API (v1) payload.
    impl HttpRequest for ApiGatewayProxyRequest {
        fn method(&self) -> Option<&str> {
            Some(self.http_method.as_str())
        }

        fn header(&self, name: &str) -> Option<&str> {
            get(&self.headers, Some(&self.multi_value_headers), name)
        }

        fn set_header(&mut self, name: &str, value: &str) -> bool {
            set(
                &mut self.headers,
                Some((&mut self.multi_value_headers, true)),
                name,
                value,
            )
        }

        fn request_id(&self) -> Option<&str> {
            self.request_context.request_id.as_deref()
        }

        fn json_pointer(&self, pointer: &JsonPointer) -> Option<Cow<'_, Value>> {
            json_pointer(self, pointer, |copy| {
                copy.headers = utf8_only(&copy.headers);
                copy.multi_value_headers = utf8_only(&copy.multi_value_headers);
            })
        }
    }

    /// The HTTP API (v2) payload.
    impl HttpRequest for ApiGatewayV2httpRequest {
        fn method(&self) -> Option<&str> {
            Some(self.request_context.http.method.as_str())
        }

        fn header(&self, name: &str) -> Option<&str> {
            get(&self.headers, None, name)
        }

        fn set_header(&mut self, name: &str, value: &str) -> bool {
            set(&mut self.headers, None, name, value)
        }

        fn request_id(&self) -> Option<&str> {
            self.request_context.request_id.as_deref()
        }

        fn json_pointer(&self, pointer: &JsonPointer) -> Option<Cow<'_, Value>> {
            json_pointer(self, pointer, |copy| copy.headers = utf8_only(&copy.headers))
        }
    }

    /// The REST (v1) and HTTP (v2) API responses have the same fields under the same
    /// names, so one body serves both.
    macro_rules! api_gateway_response {
        ($($response:ty),*) => {$(
            impl BuildHttpResponse for $response {
                fn with_status(status: u16, body: Option<String>) -> Self {
                    let mut response = <$response>::default();
                    response.status_code = i64::from(status);
                    response.body = body.map(Body::Text);
                    response
                }
            }

            impl HttpResponse for $response {
                fn status(&self) -> Option<u16> {
                    status(self.status_code)
                }

                fn header(&self, name: &str) -> Option<&str> {
                    get(&self.headers, Some(&self.multi_value_headers), name)
                }

                fn set_header(&mut self, name: &str, value: &str) -> bool {
                    set(
                        &mut self.headers,
                        Some((&mut self.multi_value_headers, false)),
                        name,
                        value,
                    )
                }
            }
        )*};
    }

    api_gateway_response!(ApiGatewayProxyResponse, ApiGatewayV2httpResponse);
}

/// `http`'s own request and response types, with any body: `lambda_http`'s
/// (`lambda_http::Request` is `http::Request<lambda_http::Body>`), an axum `Router`'s,
/// streaming bodies, and the bodies tower-http's layers wrap them in.
mod http_types {
    use http::{HeaderName, HeaderValue, Request, Response, StatusCode};

    use super::{BuildHttpResponse, HttpRequest, HttpResponse};

    fn set(headers: &mut http::HeaderMap, name: &str, value: &str) -> bool {
        let (Ok(name), Ok(value)) = (HeaderName::from_bytes(name.as_bytes()), HeaderValue::from_str(value)) else {
            return false;
        };
        headers.insert(name, value);
        true
    }

    /// An HTTP request: API Gateway REST and HTTP APIs and function URLs as
    /// `lambda_http` hands them over, whatever the body type.
    impl<B> HttpRequest for Request<B> {
        fn method(&self) -> Option<&str> {
            Some(Request::method(self).as_str())
        }

        fn header(&self, name: &str) -> Option<&str> {
            self.headers().get(name)?.to_str().ok()
        }

        fn set_header(&mut self, name: &str, value: &str) -> bool {
            set(self.headers_mut(), name, value)
        }

        /// API Gateway's request id, from the request context `lambda_http` puts in the
        /// request's extensions (feature `http`); `None` without it.
        fn request_id(&self) -> Option<&str> {
            #[cfg(feature = "http")]
            {
                use lambda_http::RequestExt;
                use lambda_http::request::RequestContext;
                match self.request_context_ref()? {
                    RequestContext::ApiGatewayV1(context) => context.request_id.as_deref(),
                    RequestContext::ApiGatewayV2(context) => context.request_id.as_deref(),
                    // Other sources exist when other crates turn on more of lambda_http's features.
                    #[allow(unreachable_patterns)]
                    _ => None,
                }
            }
            #[cfg(not(feature = "http"))]
            {
                None
            }
        }
    }

    impl<B> HttpResponse for Response<B> {
        fn status(&self) -> Option<u16> {
            Some(Response::status(self).as_u16())
        }

        fn header(&self, name: &str) -> Option<&str> {
            self.headers().get(name)?.to_str().ok()
        }

        fn set_header(&mut self, name: &str, value: &str) -> bool {
            set(self.headers_mut(), name, value)
        }
    }

    impl<B: Default + From<String>> BuildHttpResponse for Response<B> {
        fn with_status(status: u16, body: Option<String>) -> Self {
            let mut response = Response::new(body.map_or_else(B::default, B::from));
            *response.status_mut() = StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
            response
        }
    }
}

/// A streaming response of `lambda_runtime`: its status and headers are those of its
/// metadata prelude, which Lambda sends before the first byte of the body, so the
/// middlewares around a streaming handler set them as for any response.
impl<S> HttpResponse for lambda_runtime::StreamResponse<S> {
    fn status(&self) -> Option<u16> {
        Some(self.metadata_prelude.status_code.as_u16())
    }

    fn header(&self, name: &str) -> Option<&str> {
        self.metadata_prelude.headers.get(name)?.to_str().ok()
    }

    fn set_header(&mut self, name: &str, value: &str) -> bool {
        let (Ok(name), Ok(value)) = (
            http::HeaderName::from_bytes(name.as_bytes()),
            http::HeaderValue::from_str(value),
        ) else {
            return false;
        };
        self.metadata_prelude.headers.insert(name, value);
        true
    }
}

/// The HTTP middlewares read a [`With`](lambda_middleware_core::With)'s event: data that a middleware
/// outside added does not hide the request's headers from those inside.
impl<D, E: HttpRequest> HttpRequest for lambda_middleware_core::With<D, E> {
    fn method(&self) -> Option<&str> {
        self.event.method()
    }

    fn header(&self, name: &str) -> Option<&str> {
        self.event.header(name)
    }

    fn set_header(&mut self, name: &str, value: &str) -> bool {
        self.event.set_header(name, value)
    }

    fn request_id(&self) -> Option<&str> {
        self.event.request_id()
    }

    fn json_pointer(&self, pointer: &JsonPointer) -> Option<Cow<'_, Value>> {
        self.event.json_pointer(pointer)
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::{HttpRequest, HttpResponse};

    #[test]
    fn json_headers_of_the_wrong_shape_are_absent() {
        for event in [
            json!(null),
            json!("GET /"),
            json!({ "headers": null }),
            json!({ "headers": "x-a: 1" }),
            json!({ "headers": { "x-a": 1 } }),
            json!({ "headers": { "x-a": null } }),
            json!({ "multiValueHeaders": { "x-a": [] } }),
            json!({ "multiValueHeaders": { "x-a": [7] } }),
        ] {
            assert_eq!(HttpRequest::header(&event, "x-a"), None, "{event}");
            assert_eq!(HttpRequest::method(&event), None, "{event}");
            assert_eq!(event.request_id(), None, "{event}");
        }
    }

    #[test]
    fn json_headers_are_found_in_any_case_and_in_multi_value_headers() {
        let event = json!({
            "requestContext": { "http": { "method": "OPTIONS" } },
            "headers": { "ORIGIN": "https://a.example" },
            "multiValueHeaders": { "X-Many": ["1", "2"] },
        });
        assert_eq!(HttpRequest::header(&event, "origin"), Some("https://a.example"));
        assert_eq!(HttpRequest::header(&event, "x-many"), Some("1"));
        assert_eq!(HttpRequest::method(&event), Some("OPTIONS"));
    }

    #[test]
    fn setting_a_json_header_replaces_every_case_of_it() {
        let mut event = json!({
            "headers": { "X-Id": "old", "x-id": "older" },
            "multiValueHeaders": { "X-ID": ["oldest"] },
        });
        assert!(HttpRequest::set_header(&mut event, "x-id", "new"));
        assert_eq!(
            event,
            json!({ "headers": { "x-id": "new" }, "multiValueHeaders": { "x-id": ["new"] } })
        );

        let mut no_headers = json!({ "headers": null });
        assert!(HttpRequest::set_header(&mut no_headers, "a", "b"));
        assert_eq!(no_headers, json!({ "headers": { "a": "b" } }));

        let mut headers_not_an_object = json!({ "headers": [1] });
        assert!(!HttpRequest::set_header(&mut headers_not_an_object, "a", "b"));
        assert!(!HttpRequest::set_header(&mut json!(3), "a", "b"));
    }

    #[test]
    fn json_status_codes_out_of_range_are_none() {
        assert_eq!(json!({ "statusCode": 70000 }).status(), None);
        assert_eq!(json!({ "statusCode": "200" }).status(), None);
        assert_eq!(json!({ "statusCode": -1 }).status(), None);
        assert_eq!(json!({ "statusCode": 204 }).status(), Some(204));
    }

    #[cfg(feature = "apigw")]
    #[test]
    fn typed_headers_skip_non_utf8_and_invalid_names() {
        use super::BuildHttpResponse;
        use aws_lambda_events::apigw::{ApiGatewayProxyRequest, ApiGatewayProxyResponse};
        use aws_lambda_events::http::HeaderValue;

        let mut request = ApiGatewayProxyRequest::default();
        request
            .headers
            .insert("x-raw", HeaderValue::from_bytes(b"caf\xe9").unwrap());
        assert_eq!(request.header("x-raw"), None);
        assert_eq!(request.header("not a header name"), None);
        assert!(!request.set_header("bad name", "v"));
        assert!(!request.set_header("x-ok", "line\nbreak"));
        assert!(request.set_header("X-Ok", "fine"));
        assert_eq!(request.header("x-ok"), Some("fine"));
        assert_eq!(request.multi_value_headers.get("x-ok").unwrap(), "fine");

        let mut response = ApiGatewayProxyResponse::with_status(201, None);
        response
            .multi_value_headers
            .append("vary", HeaderValue::from_static("Accept"));
        assert_eq!(response.header("Vary"), Some("Accept"));
        assert!(response.set_header("Vary", "Origin"));
        assert_eq!(response.header("vary"), Some("Origin"));
        assert!(response.multi_value_headers.is_empty());
        assert_eq!(response.status(), Some(201));
    }
}
