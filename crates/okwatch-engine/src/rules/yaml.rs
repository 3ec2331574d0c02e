//! Reading untrusted YAML (rule files people paste, import or post) without letting anchors and
//! aliases multiply it: a 5 KB text whose anchors fan out expands to millions of values. A
//! first pass walks the document as the deserializer would, aliases expanded, counting values
//! without keeping any, and stops at [`MAX_VALUES`]; only a text within that budget is
//! deserialized for real. The count is the expanded size, so an alias used once or twice
//! (a shared list of IPs) is fine, and the cost of refusing is bounded by the budget.

use serde::de::{DeserializeOwned, DeserializeSeed, Error as _, MapAccess, SeqAccess, Visitor};
use std::cell::Cell;
use std::fmt;

/// The most values (scalars, lists and maps, counted after aliases are expanded) that one
/// rule's YAML may hold. The largest shipped or public Sigma rule for Okta holds a few hundred.
pub const MAX_VALUES: usize = 20_000;

/// The most bytes of one rule's text.
pub const MAX_BYTES: usize = 256 * 1024;

/// Deserializes `text` once its expanded size is known to be within [`MAX_VALUES`].
pub fn from_str<T: DeserializeOwned>(text: &str) -> Result<T, yaml_serde::Error> {
    if text.len() > MAX_BYTES {
        return Err(yaml_serde::Error::custom(format!(
            "a rule's text is at most {} KB; this one is {} KB",
            MAX_BYTES / 1024,
            text.len() / 1024
        )));
    }
    let spent = Cell::new(0);
    Budget(&spent).deserialize(yaml_serde::Deserializer::from_str(text))?;
    yaml_serde::from_str(text)
}

/// Counts each value it is shown; refuses past the budget.
#[derive(Clone, Copy)]
struct Budget<'c>(&'c Cell<usize>);

impl Budget<'_> {
    fn spend<E: serde::de::Error>(self) -> Result<(), E> {
        let spent = self.0.get() + 1;
        self.0.set(spent);
        if spent > MAX_VALUES {
            return Err(E::custom(format!(
                "the YAML expands to more than {MAX_VALUES} values (anchors and aliases \
                 multiply it): refused"
            )));
        }
        Ok(())
    }
}

impl<'de> DeserializeSeed<'de> for Budget<'_> {
    type Value = ();

    fn deserialize<D: serde::Deserializer<'de>>(self, deserializer: D) -> Result<(), D::Error> {
        deserializer.deserialize_any(self)
    }
}

macro_rules! scalars {
    ($($name:ident: $ty:ty),*) => {
        $(fn $name<E: serde::de::Error>(self, _: $ty) -> Result<(), E> {
            self.spend()
        })*
    };
}

impl<'de> Visitor<'de> for Budget<'_> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("any YAML value")
    }

    scalars!(visit_bool: bool, visit_i64: i64, visit_u64: u64, visit_i128: i128,
        visit_u128: u128, visit_f64: f64, visit_str: &str, visit_bytes: &[u8]);

    fn visit_unit<E: serde::de::Error>(self) -> Result<(), E> {
        self.spend()
    }

    fn visit_none<E: serde::de::Error>(self) -> Result<(), E> {
        self.spend()
    }

    fn visit_some<D: serde::Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_any(self)
    }

    fn visit_newtype_struct<D: serde::Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_any(self)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        self.spend()?;
        while seq.next_element_seed(self)?.is_some() {}
        Ok(())
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        self.spend()?;
        while map.next_key_seed(self)?.is_some() {
            map.next_value_seed(self)?;
        }
        Ok(())
    }

    fn visit_enum<A: serde::de::EnumAccess<'de>>(self, data: A) -> Result<(), A::Error> {
        // A tagged value (`!tag value`): the tag, then the value under it.
        use serde::de::VariantAccess;
        let ((), variant) = data.variant_seed(self)?;
        variant.newtype_variant_seed(self)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Nine levels of anchors, each naming the one before ten times: 10^9 values expanded.
    fn laughs() -> String {
        let mut text = String::from("a0: &a0 [\"lol\"]\n");
        for level in 1..10 {
            let refs = vec![format!("*a{}", level - 1); 10].join(", ");
            text.push_str(&format!("a{level}: &a{level} [{refs}]\n"));
        }
        text
    }

    #[test]
    fn fanned_out_aliases_are_refused_quickly() {
        let started = std::time::Instant::now();
        let err = from_str::<yaml_serde::Value>(&laughs()).unwrap_err();
        assert!(err.to_string().contains("expands to more than"), "{err}");
        assert!(started.elapsed() < std::time::Duration::from_secs(2));
    }

    #[test]
    fn ordinary_documents_and_a_shared_alias_read_as_before() {
        let text = "ips: &ips [\"10.0.0.1\", \"10.0.0.2\"]\nagain: *ips\nn: 3\nx: ~\n";
        let value: yaml_serde::Value = from_str(text).unwrap();
        assert_eq!(
            value,
            yaml_serde::from_str::<yaml_serde::Value>(text).unwrap()
        );
        let tagged: yaml_serde::Value = from_str("a: !custom 5\n").unwrap();
        assert!(tagged.get("a").is_some());
    }

    #[test]
    fn oversized_text_is_refused_by_size() {
        let text = format!("a: \"{}\"\n", "x".repeat(MAX_BYTES));
        assert!(from_str::<yaml_serde::Value>(&text)
            .unwrap_err()
            .to_string()
            .contains("at most"));
    }
}
