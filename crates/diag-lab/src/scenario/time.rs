//! Timestamps in scenario files: a quoted RFC 3339 string, a bare TOML datetime, or a date.

use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Deserializer, Serializer};

fn parse(text: &str) -> Result<DateTime<Utc>, String> {
    if let Ok(t) = DateTime::parse_from_rfc3339(text) {
        return Ok(t.with_timezone(&Utc));
    }
    if let Ok(d) = NaiveDate::parse_from_str(text, "%Y-%m-%d")
        && let Some(t) = d.and_hms_opt(0, 0, 0)
    {
        return Ok(t.and_utc());
    }
    Err(format!(
        "`{text}` is not a timestamp (use RFC 3339, e.g. 2027-01-01T00:00:00Z, or a date)"
    ))
}

pub(crate) fn deserialize_opt<'de, D>(d: D) -> Result<Option<DateTime<Utc>>, D::Error>
where
    D: Deserializer<'de>,
{
    let value = toml::Value::deserialize(d)?;
    let text = match value {
        toml::Value::String(s) => s,
        toml::Value::Datetime(dt) => dt.to_string(),
        other => {
            return Err(serde::de::Error::custom(format!(
                "expected a timestamp, found a {}",
                other.type_str()
            )));
        }
    };
    parse(&text).map(Some).map_err(serde::de::Error::custom)
}

pub(crate) fn serialize_opt<S>(t: &Option<DateTime<Utc>>, s: S) -> Result<S::Ok, S::Error>
where
    S: Serializer,
{
    match t {
        Some(t) => s.serialize_str(&t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)),
        None => s.serialize_none(),
    }
}

#[cfg(test)]
mod tests {
    use super::parse;

    #[test]
    fn accepts_rfc3339_and_dates() {
        assert_eq!(
            parse("2027-01-01T00:00:00Z").map(|t| t.timestamp()),
            Ok(1_798_761_600)
        );
        assert_eq!(
            parse("2027-01-01").map(|t| t.timestamp()),
            Ok(1_798_761_600)
        );
        assert!(parse("next tuesday").is_err());
    }
}
