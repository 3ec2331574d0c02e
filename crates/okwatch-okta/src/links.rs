//! `Link` headers (RFC 8288) as Okta uses them for paging: one header field per link,
//! `<url>; rel="self"` and `<url>; rel="next"`.

use percent_encoding::{utf8_percent_encode, AsciiSet, NON_ALPHANUMERIC};

/// Everything but RFC 3986's unreserved characters is escaped in a query value.
const QUERY_VALUE: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'.')
    .remove(b'_')
    .remove(b'~');

/// `base` + `path` + the query parameters, encoded.
pub fn url(base: &str, path: &str, params: &[(String, String)]) -> String {
    let mut out = format!("{}{}", base.trim_end_matches('/'), path);
    for (i, (key, value)) in params.iter().enumerate() {
        out.push(if i == 0 { '?' } else { '&' });
        out.extend(utf8_percent_encode(key, QUERY_VALUE));
        out.push('=');
        out.extend(utf8_percent_encode(value, QUERY_VALUE));
    }
    out
}

/// One `Link` header value.
pub fn header_value(url: &str, rel: &str) -> String {
    format!("<{url}>; rel=\"{rel}\"")
}

/// The `(url, rel)` pairs in `Link` header values, whether sent as separate fields or joined
/// with commas in one.
pub fn parse<'a>(values: impl IntoIterator<Item = &'a str>) -> Vec<(String, String)> {
    let mut links = Vec::new();
    for value in values {
        let mut rest = value;
        while let Some(open) = rest.find('<') {
            let Some(close) = rest[open..].find('>') else {
                break;
            };
            let target = &rest[open + 1..open + close];
            rest = &rest[open + close + 1..];
            let params_end = rest.find('<').unwrap_or(rest.len());
            let params = &rest[..params_end];
            let rel = params
                .split([';', ','])
                .filter_map(|p| p.trim().strip_prefix("rel="))
                .map(|r| r.trim_matches('"').to_string())
                .next()
                .unwrap_or_default();
            links.push((target.to_string(), rel));
            rest = &rest[params_end..];
        }
    }
    links
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_escape_filter_text() {
        let params = vec![
            ("filter".to_string(), "eventType eq \"a b\"".to_string()),
            ("limit".to_string(), "20".to_string()),
        ];
        assert_eq!(
            url("http://h:1/", "/api/v1/logs", &params),
            "http://h:1/api/v1/logs?filter=eventType%20eq%20%22a%20b%22&limit=20"
        );
    }

    #[test]
    fn links_are_read_from_separate_or_joined_fields() {
        let separate = parse([
            "<https://o/api/v1/logs?limit=2>; rel=\"self\"",
            "<https://o/api/v1/logs?limit=2&after=1_2>; rel=\"next\"",
        ]);
        let joined = parse([
            "<https://o/api/v1/logs?limit=2>; rel=\"self\", <https://o/api/v1/logs?limit=2&after=1_2>; rel=\"next\"",
        ]);
        assert_eq!(separate, joined);
        assert_eq!(separate[1].1, "next");
        assert!(separate[1].0.ends_with("after=1_2"));
    }
}
