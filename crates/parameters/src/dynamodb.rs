//! [`DynamoDbProvider`]: parameters in a DynamoDB table, in Powertools' layout.

use std::collections::HashMap;
use std::fmt;

use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::types::AttributeValue;
use lambda_runtime::BoxFuture;

use crate::error::FetchError;
use crate::provider::{Provider, ProviderId};
use crate::sdk::{fetch_error, https_client};
use crate::value::Fetched;

/// Parameters from a DynamoDB table (feature `dynamodb`; `parameters-dynamodb` in the
/// facade), in the layout of Powertools' `DynamoDBProvider`, so that Rust and Python
/// functions read one table:
///
/// | attribute | type | holds |
/// |-----------|------|-------|
/// | `id` | S, the partition key | the parameter's name; for [`get_multiple`](crate::Cache::get_multiple), the path |
/// | `sk` | S, the sort key (tables for `get_multiple` only) | the name under the path |
/// | `value` | S (or B) | the value |
///
/// One parameter is a `GetItem` on `id`; several under a path a `Query` on `id`, every
/// page, named by `sk`. The attribute names can be changed, as in Powertools. The
/// function needs `dynamodb:GetItem` and `dynamodb:Query` on the table.
///
/// ```no_run
/// use lambda_middleware::parameters::{self, DynamoDbProvider};
///
/// # async fn example(client: aws_sdk_dynamodb::Client) -> Result<(), parameters::ParameterError> {
/// let table = DynamoDbProvider::new(client, "ParametersTable");
/// let url = parameters::get(&table, "db-url").await?;
/// let flags = parameters::get_multiple(&table, "feature-flags").await?;
/// # Ok(()) }
/// ```
#[derive(Clone)]
pub struct DynamoDbProvider {
    client: Client,
    id: ProviderId,
    table: String,
    key_attr: String,
    sort_attr: String,
    value_attr: String,
}

impl fmt::Debug for DynamoDbProvider {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("DynamoDbProvider")
            .field("id", &self.id)
            .field("table", &self.table)
            .field("key_attr", &self.key_attr)
            .field("sort_attr", &self.sort_attr)
            .field("value_attr", &self.value_attr)
            .finish_non_exhaustive()
    }
}

impl DynamoDbProvider {
    /// A provider on `table` through `client` (given an HTTPS client if it has none),
    /// with Powertools' attribute names.
    ///
    /// ```no_run
    /// # fn example(client: aws_sdk_dynamodb::Client) {
    /// let table = lambda_middleware::parameters::DynamoDbProvider::new(client, "ParametersTable");
    /// # }
    /// ```
    pub fn new(client: Client, table: impl Into<String>) -> Self {
        let client = if client.config().http_client().is_none() {
            Client::from_conf(client.config().to_builder().http_client(https_client()).build())
        } else {
            client
        };
        DynamoDbProvider {
            client,
            id: ProviderId::new(),
            table: table.into(),
            key_attr: "id".to_owned(),
            sort_attr: "sk".to_owned(),
            value_attr: "value".to_owned(),
        }
    }

    /// The partition key attribute. Default: `id`.
    ///
    /// ```no_run
    /// # fn example(table: lambda_middleware::parameters::DynamoDbProvider) {
    /// let table = table.key_attr("pk");
    /// # }
    /// ```
    #[must_use]
    pub fn key_attr(mut self, name: &str) -> Self {
        self.key_attr = name.to_owned();
        self
    }

    /// The sort key attribute. Default: `sk`.
    ///
    /// ```no_run
    /// # fn example(table: lambda_middleware::parameters::DynamoDbProvider) {
    /// let table = table.sort_attr("name");
    /// # }
    /// ```
    #[must_use]
    pub fn sort_attr(mut self, name: &str) -> Self {
        self.sort_attr = name.to_owned();
        self
    }

    /// The value attribute. Default: `value`.
    ///
    /// ```no_run
    /// # fn example(table: lambda_middleware::parameters::DynamoDbProvider) {
    /// let table = table.value_attr("v");
    /// # }
    /// ```
    #[must_use]
    pub fn value_attr(mut self, name: &str) -> Self {
        self.value_attr = name.to_owned();
        self
    }

    /// The SDK client.
    ///
    /// ```no_run
    /// # fn example(table: lambda_middleware::parameters::DynamoDbProvider) {
    /// let client: &aws_sdk_dynamodb::Client = table.client();
    /// # }
    /// ```
    pub fn client(&self) -> &Client {
        &self.client
    }

    fn value(&self, item: &HashMap<String, AttributeValue>) -> Result<Fetched, FetchError> {
        match item.get(&self.value_attr) {
            Some(AttributeValue::S(text)) => Ok(Fetched::Text(text.clone())),
            Some(AttributeValue::B(bytes)) => Ok(Fetched::Binary(bytes.as_ref().to_vec())),
            Some(_) => Err(FetchError::Unreadable(format!(
                "attribute `{}` is neither a string (S) nor binary (B)",
                self.value_attr
            ))),
            None => Err(FetchError::Unreadable(format!(
                "the item has no `{}` attribute",
                self.value_attr
            ))),
        }
    }
}

/// A missing item is `NotFound`; a missing table (`ResourceNotFoundException`) is a
/// service error, since it is the deployment that is wrong, not the parameter.
const NOT_FOUND: &[&str] = &[];

impl Provider for DynamoDbProvider {
    fn id(&self) -> ProviderId {
        self.id
    }

    fn kind(&self) -> &'static str {
        "dynamodb"
    }

    fn fetch<'a>(&'a self, name: &'a str) -> BoxFuture<'a, Result<Fetched, FetchError>> {
        Box::pin(async move {
            let output = self
                .client
                .get_item()
                .table_name(&self.table)
                .key(&self.key_attr, AttributeValue::S(name.to_owned()))
                .send()
                .await
                .map_err(|error| fetch_error(error, NOT_FOUND))?;
            match output.item() {
                Some(item) => self.value(item),
                None => Err(FetchError::NotFound),
            }
        })
    }

    fn fetch_multiple<'a>(&'a self, path: &'a str) -> BoxFuture<'a, Result<Vec<(String, Fetched)>, FetchError>> {
        Box::pin(async move {
            let mut out = Vec::new();
            let mut start = None;
            loop {
                let output = self
                    .client
                    .query()
                    .table_name(&self.table)
                    .key_condition_expression("#id = :id")
                    .expression_attribute_names("#id", &self.key_attr)
                    .expression_attribute_values(":id", AttributeValue::S(path.to_owned()))
                    .set_exclusive_start_key(start)
                    .send()
                    .await
                    .map_err(|error| fetch_error(error, NOT_FOUND))?;
                for item in output.items() {
                    let name = match item.get(&self.sort_attr) {
                        Some(AttributeValue::S(name)) => name.clone(),
                        _ => {
                            return Err(FetchError::Unreadable(format!(
                                "an item under {path} has no string `{}` attribute",
                                self.sort_attr
                            )));
                        }
                    };
                    out.push((name, self.value(item)?));
                }
                start = output.last_evaluated_key().cloned();
                if start.is_none() {
                    return Ok(out);
                }
            }
        })
    }
}
