//! JSON documents as template data, and back: Docker's `json` template function.
//!
//! gotmpl keeps a map as a `BTreeMap`, so `range` walks keys sorted and `{{.}}` prints
//! `map[a:1 b:2]` as Go does for its maps. But Docker's JSON objects are mostly Go
//! *structs*, which `encoding/json` writes in field order (`{"Status":"running",
//! "Running":true,…}`), not sorted. [`KeyOrder`] remembers, for every object of the
//! document, the order its keys had, so `{{json .State}}` prints them as Docker does.

use gotmpl::Value;
use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

/// The key order of every object in a document, by its set of keys (sorted). Objects
/// of one Go struct type share a key set and an order; a set seen twice in two orders
/// (two Go maps with the same keys) keeps the first.
#[derive(Debug, Default, Clone)]
pub struct KeyOrder(HashMap<Vec<String>, Vec<String>>);

impl KeyOrder {
    /// The key orders of `doc`'s objects, nested ones included.
    pub fn of(doc: &serde_json::Value) -> KeyOrder {
        let mut order = KeyOrder::default();
        order.learn(doc);
        order
    }

    fn learn(&mut self, v: &serde_json::Value) {
        match v {
            serde_json::Value::Object(m) => {
                let original: Vec<String> = m.keys().cloned().collect();
                let mut sorted = original.clone();
                sorted.sort();
                self.0.entry(sorted).or_insert(original);
                m.values().for_each(|v| self.learn(v));
            }
            serde_json::Value::Array(a) => a.iter().for_each(|v| self.learn(v)),
            _ => {}
        }
    }

    /// The document's order for an object with these keys (given sorted), if it had one.
    fn order(&self, sorted: &[String]) -> Option<&[String]> {
        self.0.get(sorted).map(Vec::as_slice)
    }
}

/// A JSON value as template data: objects become maps (missing keys print
/// `<no value>`), arrays lists, `null` nil, integers stay integers.
pub fn to_value(v: &serde_json::Value) -> Value {
    match v {
        serde_json::Value::Null => Value::Nil,
        serde_json::Value::Bool(b) => Value::Bool(*b),
        serde_json::Value::Number(n) => {
            if let Some(i) = n.as_i64() {
                Value::Int(i)
            } else if let Some(u) = n.as_u64() {
                Value::Uint(u)
            } else {
                Value::Float(n.as_f64().unwrap_or(0.0))
            }
        }
        serde_json::Value::String(s) => Value::String(Arc::from(s.as_str())),
        serde_json::Value::Array(a) => Value::List(a.iter().map(to_value).collect()),
        serde_json::Value::Object(m) => Value::Map(Arc::new(
            m.iter()
                .map(|(k, v)| (Arc::from(k.as_str()), to_value(v)))
                .collect::<BTreeMap<_, _>>(),
        )),
    }
}

/// Template data back as JSON, objects in the document's key order ([`KeyOrder`]) and
/// keys renamed where the template's field name is not the JSON name (Docker's
/// `APIVersion` is written `ApiVersion`). Functions have no JSON form: `null`.
pub fn to_json(v: &Value, order: &KeyOrder, renames: &[(&str, &str)]) -> serde_json::Value {
    match v {
        Value::Nil | Value::Function(_) => serde_json::Value::Null,
        Value::Bool(b) => serde_json::Value::Bool(*b),
        Value::Int(i) => serde_json::Value::from(*i),
        Value::Uint(u) => serde_json::Value::from(*u),
        Value::Float(f) => serde_json::Value::from(*f),
        Value::String(s) => serde_json::Value::String(s.to_string()),
        Value::List(l) => {
            serde_json::Value::Array(l.iter().map(|v| to_json(v, order, renames)).collect())
        }
        Value::Map(m) => {
            let sorted: Vec<String> = m.keys().map(|k| k.to_string()).collect();
            let keys = order.order(&sorted).unwrap_or(&sorted);
            let mut out = serde_json::Map::new();
            for k in keys {
                let Some(v) = m.get(k.as_str()) else { continue };
                let name = renames
                    .iter()
                    .find(|(from, _)| from == k)
                    .map_or(k.as_str(), |(_, to)| to);
                out.insert(name.to_string(), to_json(v, order, renames));
            }
            serde_json::Value::Object(out)
        }
    }
}

/// Docker's `json` function: compact JSON, one line, no HTML escaping (`<` stays `<`:
/// the CLI turns `SetEscapeHTML` off).
pub fn json_text(v: &Value, order: &KeyOrder, renames: &[(&str, &str)]) -> String {
    serde_json::to_string(&to_json(v, order, renames)).unwrap_or_else(|_| "null".into())
}
