//! boto3 resource models (`boto3/data/*/resources-1.json`), normalised by the
//! generator: per resource its identifiers, shape attributes (reading one
//! triggers `load`), actions, batch actions, sub-resources, references,
//! collections, waiters and the methods boto3 injects.

use std::collections::BTreeMap;
use std::sync::OnceLock;

use serde::Deserialize;

static RESOURCES_TXT: &str = include_str!("data/resources.txt");

/// The services boto3 has a resource API for.
pub const RESOURCE_SERVICES: [&str; 9] =
    ["cloudformation", "cloudwatch", "dynamodb", "ec2", "glacier", "iam", "s3", "sns", "sqs"];

#[derive(Debug, Deserialize)]
pub struct ResourceServiceModel {
    pub service: ServiceResourceModel,
    pub resources: BTreeMap<String, ResourceModel>,
}

/// What `boto3.resource(svc)` itself offers.
#[derive(Debug, Deserialize)]
pub struct ServiceResourceModel {
    pub actions: BTreeMap<String, ResourceAction>,
    /// Sub-resource constructors: `Table` → `Table`.
    pub has: BTreeMap<String, String>,
    pub collections: BTreeMap<String, CollectionModel>,
    pub injected: BTreeMap<String, InjectedMethod>,
}

#[derive(Debug, Deserialize)]
pub struct ResourceModel {
    pub identifiers: Vec<String>,
    /// snake_case shape members that are not identifiers; reading one loads.
    pub attributes: Vec<String>,
    /// The operation `load()` / `reload()` / a first attribute read sends.
    pub load: Option<String>,
    pub actions: BTreeMap<String, ResourceAction>,
    pub batch_actions: BTreeMap<String, String>,
    /// Constructors with the CamelCase name boto3 uses: `Object` → `Object`.
    pub subresources: BTreeMap<String, String>,
    /// Attributes that build a resource from loaded data: `vpc` → `Vpc`.
    pub references: BTreeMap<String, String>,
    pub collections: BTreeMap<String, CollectionModel>,
    /// `wait_until_exists` → the botocore waiter name (`TableExists`).
    pub waiters: BTreeMap<String, String>,
    pub injected: BTreeMap<String, InjectedMethod>,
}

#[derive(Debug, Deserialize)]
pub struct ResourceAction {
    pub op: String,
    /// The resource type the action returns, if any (`put_alarm` → `Alarm`).
    pub returns: Option<String>,
    /// Whether it returns a list of them (`receive_messages`).
    pub returns_list: bool,
    /// Whether the returned resources come with their data (no load needed).
    pub returns_loaded: bool,
    /// Whether a request parameter comes from the resource's data, so that
    /// calling it on an unloaded resource sends the resource's load first
    /// (`vpc_address.release()`: DescribeAddresses, then ReleaseAddress).
    pub loads_first: bool,
}

#[derive(Debug, Deserialize)]
pub struct CollectionModel {
    /// The operation iterating the collection sends (`ListObjects`).
    pub op: String,
    /// The resource type of its items.
    #[serde(rename = "type")]
    pub item_type: String,
    /// Batch actions over the items (`bucket.objects.delete()`).
    pub batch: BTreeMap<String, String>,
    /// Whether the items come with their data from the listing response.
    pub items_loaded: bool,
}

#[derive(Debug, Deserialize)]
pub struct InjectedMethod {
    pub ops: Vec<String>,
    pub conditional: Vec<String>,
}

/// The resource model of one of [`RESOURCE_SERVICES`], parsed on first use.
pub fn resource_model(service: &str) -> Option<&'static ResourceServiceModel> {
    static MODELS: [OnceLock<Option<ResourceServiceModel>>; 9] = [const { OnceLock::new() }; 9];
    let i = RESOURCE_SERVICES.iter().position(|s| *s == service)?;
    MODELS[i]
        .get_or_init(|| {
            let line = super::records(RESOURCES_TXT).find(|l| l.split('\t').next() == Some(service))?;
            let json = line.split_once('\t')?.1;
            // The data is generated and embedded: a parse failure is a build
            // defect that the tests below catch, not a user error.
            serde_json::from_str(json).ok()
        })
        .as_ref()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn all_nine_resource_models_parse() {
        for s in RESOURCE_SERVICES {
            let m = resource_model(s).unwrap_or_else(|| panic!("{s} model missing"));
            assert!(!m.resources.is_empty(), "{s}");
        }
        let ddb = resource_model("dynamodb").unwrap();
        let table = &ddb.resources["Table"];
        assert_eq!(table.actions["scan"].op, "Scan");
        assert_eq!(table.load.as_deref(), Some("DescribeTable"));
        assert!(table.attributes.contains(&"item_count".to_string()));
        assert!(!table.attributes.contains(&"name".to_string()));
        assert_eq!(ddb.service.has["Table"], "Table");
        let s3 = resource_model("s3").unwrap();
        assert_eq!(s3.resources["Bucket"].collections["objects"].op, "ListObjects");
        assert_eq!(s3.resources["Bucket"].subresources["Object"], "Object");
        assert_eq!(s3.resources["ObjectSummary"].subresources["Bucket"], "Bucket");
        assert_eq!(s3.resources["Bucket"].injected["load"].ops, vec!["ListBuckets"]);
        assert!(resource_model("lambda").is_none());
    }
}
