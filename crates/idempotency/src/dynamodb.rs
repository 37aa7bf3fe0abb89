//! [`DynamoDbStore`]: idempotency records in a DynamoDB table, in Powertools' layout.

use std::collections::HashMap;
use std::fmt;
use std::time::SystemTime;

use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::error::{DisplayErrorContext, SdkError};
use aws_sdk_dynamodb::operation::delete_item::DeleteItemError;
use aws_sdk_dynamodb::operation::put_item::PutItemError;
use aws_sdk_dynamodb::operation::update_item::UpdateItemError;
use aws_sdk_dynamodb::types::{AttributeValue, ReturnValuesOnConditionCheckFailure};
use aws_smithy_http_client::tls::{Provider, rustls_provider::CryptoMode};

use super::record::{IdempotencyRecord, RecordStatus, epoch_millis, epoch_seconds};
use super::store::{PutOutcome, Store, StoreError};

/// Powertools' conditional write: no record, or an expired one, or an in-progress one
/// past its invocation's deadline.
const PUT_CONDITION: &str = "attribute_not_exists(#id) OR #expiry < :now OR \
     (#status = :inprogress AND attribute_exists(#in_progress_expiry) AND #in_progress_expiry < :now_in_millis)";

/// The condition of an update or a delete: the record is still the in-progress one this
/// invocation wrote (Powertools' are unconditional). It uses the attributes Powertools
/// writes, so the table stays Python's.
const HELD_CONDITION: &str = "#status = :inprogress AND #in_progress_expiry = :in_progress_expiry";

/// A [`Store`] on a DynamoDB table, with Powertools' layout and conditional writes, so
/// that Rust and Python functions can share one table. Feature `dynamodb`.
///
/// | attribute | type | holds |
/// |-----------|------|-------|
/// | `id` | S, the partition key | the idempotency key |
/// | `expiration` | N | expiry in epoch seconds: make it the table's TTL attribute |
/// | `status` | S | `INPROGRESS` or `COMPLETED` |
/// | `data` | S | the response as JSON |
/// | `validation` | S | the payload validation hash |
/// | `in_progress_expiration` | N | the running invocation's deadline, in epoch milliseconds |
///
/// Every attribute name can be changed, as in Powertools'
/// `DynamoDBPersistenceLayer`, and a table with a sort key is supported
/// ([`sort_key_attr`](DynamoDbStore::sort_key_attr)).
///
/// Each operation is one request: `PutItem` with a condition (which returns the
/// existing item when the condition fails), `GetItem` with a consistent read (only
/// when a store does not return that item), `UpdateItem` and `DeleteItem`, each on
/// the condition that the item is still the in-progress one this invocation wrote
/// (`status` and `in_progress_expiration`, so that an invocation that outlived its
/// hold cannot overwrite or delete the record of the one that took the key after it).
/// The function needs `dynamodb:PutItem`, `GetItem`, `UpdateItem` and `DeleteItem` on
/// the table.
///
/// # The client
///
/// Pass an `aws_sdk_dynamodb::Client` — its region, credentials, endpoint, retries
/// and timeouts are yours. A client configured without an HTTP client (this crate
/// turns off the SDK's default features, whose TLS is aws-lc, a C library) gets one
/// speaking HTTPS through rustls with ring. With `aws-config` (in your function's
/// crate, not this one):
///
/// ```no_run
/// # mod aws_config { pub async fn load_from_env() -> aws_types::SdkConfig { aws_types::SdkConfig::builder().build() } }
/// # async fn example() {
/// use lambda_middleware::middlewares::idempotency::DynamoDbStore;
///
/// let config = aws_config::load_from_env().await;
/// let store = DynamoDbStore::new(aws_sdk_dynamodb::Client::new(&config), "IdempotencyTable");
/// # }
/// ```
///
/// Without `aws-config`, from the variables Lambda sets (`AWS_REGION` and the
/// function's credentials):
///
/// ```no_run
/// use aws_sdk_dynamodb::config::{BehaviorVersion, Credentials, Region};
/// use lambda_middleware::middlewares::idempotency::DynamoDbStore;
///
/// let var = |name: &str| std::env::var(name).unwrap_or_default();
/// let credentials = Credentials::new(
///     var("AWS_ACCESS_KEY_ID"),
///     var("AWS_SECRET_ACCESS_KEY"),
///     std::env::var("AWS_SESSION_TOKEN").ok(),
///     None,
///     "lambda-environment",
/// );
/// let config = aws_sdk_dynamodb::Config::builder()
///     .behavior_version(BehaviorVersion::latest())
///     .region(Region::new(var("AWS_REGION")))
///     .credentials_provider(credentials)
///     .build();
/// let store = DynamoDbStore::new(aws_sdk_dynamodb::Client::from_conf(config), "IdempotencyTable");
/// ```
#[derive(Clone)]
pub struct DynamoDbStore {
    client: Client,
    table: String,
    names: Names,
}

/// The attribute names, and the partition key value when the table has a sort key.
#[derive(Clone, Debug)]
struct Names {
    key: String,
    sort_key: Option<String>,
    static_pk_value: String,
    expiry: String,
    in_progress_expiry: String,
    status: String,
    data: String,
    validation: String,
}

impl DynamoDbStore {
    /// A store on `table` through `client`, with Powertools' attribute names.
    ///
    /// ```no_run
    /// # fn example(client: aws_sdk_dynamodb::Client) {
    /// use lambda_middleware::middlewares::idempotency::DynamoDbStore;
    ///
    /// let store = DynamoDbStore::new(client, "IdempotencyTable");
    /// # }
    /// ```
    pub fn new(client: Client, table: impl Into<String>) -> Self {
        let client = if client.config().http_client().is_none() {
            let config = client.config().to_builder().http_client(https_client()).build();
            Client::from_conf(config)
        } else {
            client
        };
        let function = std::env::var("AWS_LAMBDA_FUNCTION_NAME").unwrap_or_default();
        DynamoDbStore {
            client,
            table: table.into(),
            names: Names {
                key: "id".into(),
                sort_key: None,
                static_pk_value: format!("idempotency#{function}"),
                expiry: "expiration".into(),
                in_progress_expiry: "in_progress_expiration".into(),
                status: "status".into(),
                data: "data".into(),
                validation: "validation".into(),
            },
        }
    }

    /// The partition key attribute. Default: `id`.
    ///
    /// ```no_run
    /// # fn example(store: lambda_middleware::middlewares::idempotency::DynamoDbStore) {
    /// let store = store.key_attr("pk");
    /// # }
    /// ```
    #[must_use]
    pub fn key_attr(mut self, name: impl Into<String>) -> Self {
        self.names.key = name.into();
        self
    }

    /// A sort key attribute, for a table that has one: the idempotency key goes in it,
    /// and the partition key holds [`static_pk_value`](Self::static_pk_value). Default:
    /// none. The same name as [`key_attr`](Self::key_attr) is refused when the handler
    /// is built (a [`BuildError`](lambda_middleware_core::BuildError)), as Powertools refuses it.
    ///
    /// ```no_run
    /// # fn example(store: lambda_middleware::middlewares::idempotency::DynamoDbStore) {
    /// let store = store.key_attr("pk").sort_key_attr("sk");
    /// # }
    /// ```
    #[must_use]
    pub fn sort_key_attr(mut self, name: impl Into<String>) -> Self {
        self.names.sort_key = Some(name.into());
        self
    }

    /// The partition key's value when there is a sort key. Default:
    /// `idempotency#<AWS_LAMBDA_FUNCTION_NAME>`, as in Powertools.
    ///
    /// ```no_run
    /// # fn example(store: lambda_middleware::middlewares::idempotency::DynamoDbStore) {
    /// let store = store.sort_key_attr("sk").static_pk_value("idempotency#payments");
    /// # }
    /// ```
    #[must_use]
    pub fn static_pk_value(mut self, value: impl Into<String>) -> Self {
        self.names.static_pk_value = value.into();
        self
    }

    /// The expiry attribute (epoch seconds; the table's TTL). Default: `expiration`.
    ///
    /// ```no_run
    /// # fn example(store: lambda_middleware::middlewares::idempotency::DynamoDbStore) {
    /// let store = store.expiry_attr("ttl");
    /// # }
    /// ```
    #[must_use]
    pub fn expiry_attr(mut self, name: impl Into<String>) -> Self {
        self.names.expiry = name.into();
        self
    }

    /// The in-progress expiry attribute (epoch milliseconds). Default:
    /// `in_progress_expiration`.
    ///
    /// ```no_run
    /// # fn example(store: lambda_middleware::middlewares::idempotency::DynamoDbStore) {
    /// let store = store.in_progress_expiry_attr("in_progress_until");
    /// # }
    /// ```
    #[must_use]
    pub fn in_progress_expiry_attr(mut self, name: impl Into<String>) -> Self {
        self.names.in_progress_expiry = name.into();
        self
    }

    /// The status attribute. Default: `status`.
    ///
    /// ```no_run
    /// # fn example(store: lambda_middleware::middlewares::idempotency::DynamoDbStore) {
    /// let store = store.status_attr("state");
    /// # }
    /// ```
    #[must_use]
    pub fn status_attr(mut self, name: impl Into<String>) -> Self {
        self.names.status = name.into();
        self
    }

    /// The response attribute. Default: `data`.
    ///
    /// ```no_run
    /// # fn example(store: lambda_middleware::middlewares::idempotency::DynamoDbStore) {
    /// let store = store.data_attr("response");
    /// # }
    /// ```
    #[must_use]
    pub fn data_attr(mut self, name: impl Into<String>) -> Self {
        self.names.data = name.into();
        self
    }

    /// The payload validation hash attribute. Default: `validation`.
    ///
    /// ```no_run
    /// # fn example(store: lambda_middleware::middlewares::idempotency::DynamoDbStore) {
    /// let store = store.validation_key_attr("payload_hash");
    /// # }
    /// ```
    #[must_use]
    pub fn validation_key_attr(mut self, name: impl Into<String>) -> Self {
        self.names.validation = name.into();
        self
    }

    /// The client the store uses (with the HTTP client it was given, if it had none),
    /// for other calls to the same table.
    ///
    /// ```no_run
    /// # async fn example(client: aws_sdk_dynamodb::Client) -> Result<(), aws_sdk_dynamodb::Error> {
    /// # use lambda_middleware::middlewares::idempotency::DynamoDbStore;
    /// let store = DynamoDbStore::new(client, "IdempotencyTable");
    /// let table = store.client().describe_table().table_name(store.table_name()).send().await?;
    /// # Ok(()) }
    /// ```
    pub fn client(&self) -> &Client {
        &self.client
    }

    /// The table's name.
    ///
    /// ```no_run
    /// # fn example(client: aws_sdk_dynamodb::Client) {
    /// # use lambda_middleware::middlewares::idempotency::DynamoDbStore;
    /// assert_eq!(DynamoDbStore::new(client, "IdempotencyTable").table_name(), "IdempotencyTable");
    /// # }
    /// ```
    pub fn table_name(&self) -> &str {
        &self.table
    }

    /// The item key for an idempotency key.
    fn item_key(&self, key: &str) -> HashMap<String, AttributeValue> {
        let names = &self.names;
        match &names.sort_key {
            Some(sort_key) => HashMap::from([
                (names.key.clone(), AttributeValue::S(names.static_pk_value.clone())),
                (sort_key.clone(), AttributeValue::S(key.to_owned())),
            ]),
            None => HashMap::from([(names.key.clone(), AttributeValue::S(key.to_owned()))]),
        }
    }

    /// Reads an item as a record; `key` names it in errors.
    fn record_of(&self, key: &str, item: &HashMap<String, AttributeValue>) -> Result<IdempotencyRecord, StoreError> {
        let names = &self.names;
        let key_attr = names.sort_key.as_ref().unwrap_or(&names.key);
        let stored_key = string(key, item, key_attr)?.unwrap_or_else(|| key.to_owned());
        let status = string(key, item, &names.status)?
            .ok_or_else(|| StoreError::corrupted(key, format!("it has no `{}` attribute", names.status)))?;
        let status: RecordStatus = status
            .parse()
            .map_err(|error| StoreError::corrupted(key, format!("attribute `{}`: {error}", names.status)))?;
        let expiration = number(key, item, &names.expiry)?
            .ok_or_else(|| StoreError::corrupted(key, format!("it has no `{}` attribute", names.expiry)))?;
        Ok(IdempotencyRecord {
            key: stored_key,
            status,
            expiration,
            in_progress_expiration: number(key, item, &names.in_progress_expiry)?,
            data: string(key, item, &names.data)?,
            validation: string(key, item, &names.validation)?,
        })
    }

    /// What a `PutItem` that failed with `error` means: a refused condition, with the
    /// existing record when DynamoDB returned it (`ALL_OLD`), or a store failure.
    fn refused(&self, key: &str, error: &PutItemError) -> Result<PutOutcome, StoreError> {
        match error {
            PutItemError::ConditionalCheckFailedException(refused) => {
                let existing = refused.item().map(|item| self.record_of(key, item)).transpose()?;
                Ok(PutOutcome::Exists(existing))
            }
            other => Err(self.unavailable("PutItem", other)),
        }
    }

    fn unavailable(&self, operation: &str, error: &(dyn std::error::Error + 'static)) -> StoreError {
        StoreError::unavailable(format!(
            "DynamoDB {operation} on table {}: {}",
            self.table,
            DisplayErrorContext(error)
        ))
    }
}

/// An HTTPS (and HTTP) client on rustls with ring, for clients configured without one.
fn https_client() -> aws_sdk_dynamodb::config::SharedHttpClient {
    aws_smithy_http_client::Builder::new()
        .tls_provider(Provider::Rustls(CryptoMode::Ring))
        .build_https()
}

/// The string attribute `name`, if present; another type is a corrupted record.
fn string(key: &str, item: &HashMap<String, AttributeValue>, name: &str) -> Result<Option<String>, StoreError> {
    match item.get(name) {
        None | Some(AttributeValue::Null(_)) => Ok(None),
        Some(AttributeValue::S(text)) => Ok(Some(text.clone())),
        Some(other) => Err(StoreError::corrupted(
            key,
            format!("attribute `{name}` is {}; expected a string (S)", type_of(other)),
        )),
    }
}

/// The number attribute `name` as a whole non-negative number, if present.
fn number(key: &str, item: &HashMap<String, AttributeValue>, name: &str) -> Result<Option<u64>, StoreError> {
    match item.get(name) {
        None | Some(AttributeValue::Null(_)) => Ok(None),
        Some(AttributeValue::N(text)) => text.parse().map(Some).map_err(|_| {
            StoreError::corrupted(
                key,
                format!("attribute `{name}` is {text:?}; expected a whole number of seconds or milliseconds"),
            )
        }),
        Some(other) => Err(StoreError::corrupted(
            key,
            format!("attribute `{name}` is {}; expected a number (N)", type_of(other)),
        )),
    }
}

fn type_of(value: &AttributeValue) -> &'static str {
    match value {
        AttributeValue::B(_) => "binary (B)",
        AttributeValue::Bool(_) => "a boolean (BOOL)",
        AttributeValue::Bs(_) => "a binary set (BS)",
        AttributeValue::L(_) => "a list (L)",
        AttributeValue::M(_) => "a map (M)",
        AttributeValue::N(_) => "a number (N)",
        AttributeValue::Ns(_) => "a number set (NS)",
        AttributeValue::Null(_) => "null (NULL)",
        AttributeValue::S(_) => "a string (S)",
        AttributeValue::Ss(_) => "a string set (SS)",
        _ => "of an unknown type",
    }
}

impl Store for DynamoDbStore {
    async fn put_if_absent(&self, record: &IdempotencyRecord, now: SystemTime) -> Result<PutOutcome, StoreError> {
        let names = &self.names;
        let mut item = self.item_key(&record.key);
        item.insert(names.expiry.clone(), AttributeValue::N(record.expiration.to_string()));
        item.insert(names.status.clone(), AttributeValue::S(record.status.as_str().into()));
        if let Some(until) = record.in_progress_expiration {
            item.insert(names.in_progress_expiry.clone(), AttributeValue::N(until.to_string()));
        }
        if let Some(validation) = &record.validation {
            item.insert(names.validation.clone(), AttributeValue::S(validation.clone()));
        }
        let put = self
            .client
            .put_item()
            .table_name(&self.table)
            .set_item(Some(item))
            .condition_expression(PUT_CONDITION)
            .expression_attribute_names("#id", &names.key)
            .expression_attribute_names("#expiry", &names.expiry)
            .expression_attribute_names("#in_progress_expiry", &names.in_progress_expiry)
            .expression_attribute_names("#status", &names.status)
            .expression_attribute_values(":now", AttributeValue::N(epoch_seconds(now).to_string()))
            .expression_attribute_values(":now_in_millis", AttributeValue::N(epoch_millis(now).to_string()))
            .expression_attribute_values(
                ":inprogress",
                AttributeValue::S(RecordStatus::InProgress.as_str().into()),
            )
            .return_values_on_condition_check_failure(ReturnValuesOnConditionCheckFailure::AllOld)
            .send()
            .await;
        match put {
            Ok(_) => Ok(PutOutcome::Written),
            Err(SdkError::ServiceError(failure)) => self.refused(&record.key, failure.err()),
            Err(error) => Err(self.unavailable("PutItem", &error)),
        }
    }

    async fn get(&self, key: &str) -> Result<Option<IdempotencyRecord>, StoreError> {
        let got = self
            .client
            .get_item()
            .table_name(&self.table)
            .set_key(Some(self.item_key(key)))
            .consistent_read(true)
            .send()
            .await
            .map_err(|error| self.unavailable("GetItem", &error))?;
        got.item().map(|item| self.record_of(key, item)).transpose()
    }

    async fn update(&self, record: &IdempotencyRecord, in_progress_expiration: u64) -> Result<(), StoreError> {
        let names = &self.names;
        let mut update = self
            .client
            .update_item()
            .table_name(&self.table)
            .set_key(Some(self.item_key(&record.key)))
            .condition_expression(HELD_CONDITION)
            .expression_attribute_names("#response_data", &names.data)
            .expression_attribute_names("#expiry", &names.expiry)
            .expression_attribute_names("#status", &names.status)
            .expression_attribute_names("#in_progress_expiry", &names.in_progress_expiry)
            .expression_attribute_values(
                ":response_data",
                AttributeValue::S(record.data.clone().unwrap_or_else(|| "null".into())),
            )
            .expression_attribute_values(":expiry", AttributeValue::N(record.expiration.to_string()))
            .expression_attribute_values(":status", AttributeValue::S(record.status.as_str().into()))
            .expression_attribute_values(
                ":inprogress",
                AttributeValue::S(RecordStatus::InProgress.as_str().into()),
            )
            .expression_attribute_values(
                ":in_progress_expiry",
                AttributeValue::N(in_progress_expiration.to_string()),
            );
        let expression = match &record.validation {
            Some(validation) => {
                update = update
                    .expression_attribute_names("#validation_key", &names.validation)
                    .expression_attribute_values(":validation_key", AttributeValue::S(validation.clone()));
                "SET #response_data = :response_data, #expiry = :expiry, #status = :status, #validation_key = :validation_key"
            }
            None => "SET #response_data = :response_data, #expiry = :expiry, #status = :status",
        };
        match update.update_expression(expression).send().await {
            Ok(_) => Ok(()),
            Err(SdkError::ServiceError(failure))
                if matches!(failure.err(), UpdateItemError::ConditionalCheckFailedException(_)) =>
            {
                Err(StoreError::not_held(&record.key, in_progress_expiration))
            }
            Err(error) => Err(self.unavailable("UpdateItem", &error)),
        }
    }

    async fn delete(&self, key: &str, in_progress_expiration: u64) -> Result<(), StoreError> {
        let names = &self.names;
        let delete = self
            .client
            .delete_item()
            .table_name(&self.table)
            .set_key(Some(self.item_key(key)))
            .condition_expression(HELD_CONDITION)
            .expression_attribute_names("#status", &names.status)
            .expression_attribute_names("#in_progress_expiry", &names.in_progress_expiry)
            .expression_attribute_values(
                ":inprogress",
                AttributeValue::S(RecordStatus::InProgress.as_str().into()),
            )
            .expression_attribute_values(
                ":in_progress_expiry",
                AttributeValue::N(in_progress_expiration.to_string()),
            )
            .send()
            .await;
        match delete {
            Ok(_) => Ok(()),
            Err(SdkError::ServiceError(failure))
                if matches!(failure.err(), DeleteItemError::ConditionalCheckFailedException(_)) =>
            {
                Err(StoreError::not_held(key, in_progress_expiration))
            }
            Err(error) => Err(self.unavailable("DeleteItem", &error)),
        }
    }

    fn check(&self) -> Result<(), String> {
        match &self.names.sort_key {
            Some(sort_key) if *sort_key == self.names.key => Err(format!(
                "DynamoDbStore: key_attr and sort_key_attr are both {sort_key:?}; expected two attributes \
                 (the partition key holds static_pk_value, the sort key the idempotency key)"
            )),
            _ => Ok(()),
        }
    }
}

impl fmt::Debug for DynamoDbStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("DynamoDbStore")
            .field("table", &self.table)
            .field("key_attr", &self.names.key)
            .field("sort_key_attr", &self.names.sort_key)
            .finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn item(pairs: &[(&str, AttributeValue)]) -> HashMap<String, AttributeValue> {
        pairs
            .iter()
            .map(|(name, value)| ((*name).to_owned(), value.clone()))
            .collect()
    }

    fn store() -> DynamoDbStore {
        let config = aws_sdk_dynamodb::Config::builder()
            .behavior_version(aws_sdk_dynamodb::config::BehaviorVersion::latest())
            .build();
        DynamoDbStore::new(Client::from_conf(config), "t")
    }

    /// Lambda's `errorType` for the SDK's own `SdkError::ServiceError`: the service
    /// error's code, as a `Catch` matches it, not `ServiceError`.
    #[test]
    fn a_service_error_of_the_sdk_is_named_after_its_code() {
        use aws_sdk_dynamodb::error::SdkError;
        use aws_sdk_dynamodb::operation::put_item::PutItemError;
        use aws_sdk_dynamodb::types::error::ConditionalCheckFailedException;

        let failed = PutItemError::ConditionalCheckFailedException(
            ConditionalCheckFailedException::builder()
                .message("The conditional request failed")
                .build(),
        );
        let raw = aws_sdk_dynamodb::config::http::HttpResponse::new(
            aws_smithy_runtime_api::http::StatusCode::try_from(400).unwrap(),
            aws_smithy_types::body::SdkBody::empty(),
        );
        let error: lambda_middleware_core::Error = SdkError::service_error(failed, raw).into();
        let lambda_sees = lambda_middleware_core::InvocationError::from(error);
        assert_eq!(lambda_sees.error_type(), "ConditionalCheckFailedException");
        let timeout: SdkError<PutItemError, aws_sdk_dynamodb::config::http::HttpResponse> =
            SdkError::timeout_error("no answer");
        let error = lambda_middleware_core::InvocationError::from(lambda_middleware_core::Error::from(timeout));
        assert_eq!(error.error_type(), "TimeoutError");
    }

    #[test]
    fn items_read_as_records_and_wrong_types_name_the_key_and_attribute() {
        let store = store();
        let good = item(&[
            ("id", AttributeValue::S("k".into())),
            ("status", AttributeValue::S("COMPLETED".into())),
            ("expiration", AttributeValue::N("1700003600".into())),
            ("in_progress_expiration", AttributeValue::N("1700000003000".into())),
            ("data", AttributeValue::S("{\"a\":1}".into())),
        ]);
        let record = store.record_of("k", &good).unwrap();
        assert_eq!(record.status, RecordStatus::Completed);
        assert_eq!(record.expiration, 1_700_003_600);
        assert_eq!(record.in_progress_expiration, Some(1_700_000_003_000));
        assert_eq!(record.data.as_deref(), Some("{\"a\":1}"));
        assert_eq!(record.validation, None);

        let mut bad = good.clone();
        bad.insert("data".into(), AttributeValue::N("42".into()));
        assert_eq!(
            store.record_of("k", &bad).unwrap_err().to_string(),
            "record k is corrupted: attribute `data` is a number (N); expected a string (S)"
        );
        let mut bad = good.clone();
        bad.insert("status".into(), AttributeValue::S("DONE".into()));
        assert_eq!(
            store.record_of("k", &bad).unwrap_err().to_string(),
            "record k is corrupted: attribute `status`: status \"DONE\" is not INPROGRESS or COMPLETED"
        );
        let mut bad = good;
        bad.remove("expiration");
        assert_eq!(
            store.record_of("k", &bad).unwrap_err().to_string(),
            "record k is corrupted: it has no `expiration` attribute"
        );
    }

    #[test]
    fn a_refused_write_carries_the_existing_record_when_dynamodb_returns_it() {
        use aws_sdk_dynamodb::types::error::ConditionalCheckFailedException;

        let store = store();
        let existing = item(&[
            ("id", AttributeValue::S("k".into())),
            ("status", AttributeValue::S("INPROGRESS".into())),
            ("expiration", AttributeValue::N("1700003600".into())),
            ("in_progress_expiration", AttributeValue::N("1700000003000".into())),
        ]);
        let with_item = ConditionalCheckFailedException::builder()
            .message("The conditional request failed")
            .set_item(Some(existing))
            .build();
        let outcome = store.refused("k", &PutItemError::ConditionalCheckFailedException(with_item));
        let record = IdempotencyRecord::in_progress("k", 1_700_003_600, Some(1_700_000_003_000));
        assert_eq!(outcome.unwrap(), PutOutcome::Exists(Some(record)));

        // Without `ReturnValuesOnConditionCheckFailure` support (dynalite): no record.
        let without = ConditionalCheckFailedException::builder().build();
        let outcome = store.refused("k", &PutItemError::ConditionalCheckFailedException(without));
        assert_eq!(outcome.unwrap(), PutOutcome::Exists(None));

        // A corrupted existing record is reported as such.
        let bad = ConditionalCheckFailedException::builder()
            .set_item(Some(item(&[("id", AttributeValue::S("k".into()))])))
            .build();
        let error = store
            .refused("k", &PutItemError::ConditionalCheckFailedException(bad))
            .unwrap_err();
        assert_eq!(error.to_string(), "record k is corrupted: it has no `status` attribute");
    }

    #[test]
    fn a_sort_key_table_keeps_the_idempotency_key_in_the_sort_key() {
        let store = store()
            .key_attr("pk")
            .sort_key_attr("sk")
            .static_pk_value("idempotency#f");
        assert_eq!(
            store.item_key("f.handler#ab"),
            item(&[
                ("pk", AttributeValue::S("idempotency#f".into())),
                ("sk", AttributeValue::S("f.handler#ab".into())),
            ])
        );
    }

    #[test]
    fn a_client_without_an_http_client_gets_one() {
        assert!(store().client.config().http_client().is_some());
    }
}
