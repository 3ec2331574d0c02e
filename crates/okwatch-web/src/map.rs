//! The map (`/map`): where the events of a search came from, from each event's
//! `client.geographicalContext` (Okta resolves it; no GeoIP database is needed), drawn by the
//! server as SVG over Natural Earth's land outline, which the build turns into one path. Every
//! place counts all matches, not a sample; failures are marked; each place links to its events.

use crate::auth::SignedIn;
use crate::search::{literal, SearchText};
use crate::{html, WebError, WebState};
use askama::Template;
use axum::extract::{RawQuery, State};
use axum::response::Response;
use axum::Extension;
use okwatch_query::AttrPath;
use std::collections::BTreeMap;

/// Natural Earth's land, as an SVG path in a 360 × 180 equirectangular frame.
const LAND: &str = include_str!(concat!(env!("OUT_DIR"), "/land_path.txt"));

/// Distinct locations asked of the store; a search over a huge org may have more, the rest
/// are counted as "elsewhere".
const MAX_LOCATIONS: usize = 2_000;

/// Places listed under the map.
const LISTED: usize = 20;

/// One place on the map.
#[derive(Debug, Clone, PartialEq)]
pub struct Place {
    /// City, region, country, as known.
    pub name: String,
    /// Latitude.
    pub lat: f64,
    /// Longitude.
    pub lon: f64,
    /// Matching events from there.
    pub events: u64,
    /// Of which failed or were denied.
    pub failed: u64,
    /// The condition that selects its events.
    pub filter: String,
}

/// The attributes a place is counted by: city, country, latitude, longitude.
const PLACE_FIELDS: [&str; 4] = [
    "client.geographicalContext.city",
    "client.geographicalContext.country",
    "client.geographicalContext.geolocation.lat",
    "client.geographicalContext.geolocation.lon",
];

/// A group of the store's: the values of [`PLACE_FIELDS`], and a count.
pub type Group = okwatch_store::FieldsGroup;

/// Folds the store's groups into places, one per city and country (at the first coordinates
/// seen for it), with their failures.
pub fn places(all: &[Group], failed: &[Group]) -> Vec<Place> {
    let mut by_place: BTreeMap<(String, String), Place> = BTreeMap::new();
    let mut add = |key: &[Option<String>], count: u64, failure: bool| {
        let value = |i: usize| key.get(i).cloned().flatten().unwrap_or_default();
        let (Ok(lat), Ok(lon)) = (value(2).parse::<f64>(), value(3).parse::<f64>()) else {
            return;
        };
        if !(-90.0..=90.0).contains(&lat) || !(-180.0..=180.0).contains(&lon) {
            return;
        }
        let (city, country) = (value(0), value(1));
        let place = by_place
            .entry((country.clone(), city.clone()))
            .or_insert_with(|| {
                let name = [city.as_str(), country.as_str()]
                    .iter()
                    .filter(|s| !s.is_empty())
                    .copied()
                    .collect::<Vec<_>>()
                    .join(", ");
                let mut conditions = Vec::new();
                if !city.is_empty() {
                    conditions.push(format!(
                        "client.geographicalContext.city eq {}",
                        literal(&city)
                    ));
                }
                if !country.is_empty() {
                    conditions.push(format!(
                        "client.geographicalContext.country eq {}",
                        literal(&country)
                    ));
                }
                Place {
                    name: if name.is_empty() {
                        format!("{lat:.2}, {lon:.2}")
                    } else {
                        name
                    },
                    lat,
                    lon,
                    events: 0,
                    failed: 0,
                    filter: conditions.join(" and "),
                }
            });
        if failure {
            place.failed += count;
        } else {
            place.events += count;
        }
    };
    for (key, count) in all {
        add(key, *count, false);
    }
    for (key, count) in failed {
        add(key, *count, true);
    }
    let mut places: Vec<Place> = by_place.into_values().filter(|p| p.events > 0).collect();
    places.sort_by(|a, b| b.events.cmp(&a.events).then_with(|| a.name.cmp(&b.name)));
    places
}

pub(crate) struct Spot {
    pub x: String,
    pub y: String,
    pub r: String,
    pub fail_r: Option<String>,
    pub title: String,
    pub href: String,
}

pub(crate) struct Listed {
    pub name: String,
    pub events: u64,
    pub failed: u64,
    pub href: String,
}

/// The map of a search, ready to draw: its spots, the places listed under it, and its counts.
pub(crate) struct Drawn {
    pub land: &'static str,
    pub spots: Vec<Spot>,
    pub listed: Vec<Listed>,
    pub total: u64,
    pub located: u64,
    pub failed: u64,
    pub places: usize,
}

#[derive(Template)]
#[template(path = "map.html")]
struct MapPage {
    user: SignedIn,
    map: Drawn,
    explorer: String,
    problem: Option<String>,
}

fn explorer_href(text: &SearchText) -> String {
    format!("/?{}", text.to_query())
}

/// Where the events of `text`'s search came from, every match counted.
pub(crate) async fn drawn(state: &WebState, text: &SearchText) -> Result<Drawn, WebError> {
    let now = chrono::Utc::now();
    let all_query = text.parse(now, 1).query;
    let failures = text
        .and_filter(r#"outcome.result eq "FAILURE" or outcome.result eq "DENY""#)
        .parse(now, 1)
        .query;
    let store = state.store.clone();
    let (total, all, failed) = tokio::task::spawn_blocking(move || -> Result<_, WebError> {
        let fields = PLACE_FIELDS.map(AttrPath::from_dotted);
        let total = store.count(&all_query)?;
        let all = store.count_by_fields(&all_query, &fields, MAX_LOCATIONS)?;
        let failed = store.count_by_fields(&failures, &fields, MAX_LOCATIONS)?;
        Ok((total, all, failed))
    })
    .await
    .map_err(|e| WebError::Internal(e.to_string()))??;
    let places = places(&all, &failed);
    let most = places.iter().map(|p| p.events).max().unwrap_or(1).max(1) as f64;
    let radius = |n: u64| 0.8 + 5.0 * (n as f64 / most).sqrt();
    let href = |p: &Place| explorer_href(&text.and_filter(&p.filter));
    // The biggest first, so that small places are drawn on top and stay clickable.
    let spots = places
        .iter()
        .map(|p| Spot {
            x: format!("{:.1}", p.lon + 180.0),
            y: format!("{:.1}", 90.0 - p.lat),
            r: format!("{:.2}", radius(p.events)),
            fail_r: (p.failed > 0).then(|| format!("{:.2}", radius(p.failed))),
            title: format!("{}: {} events, {} failed", p.name, p.events, p.failed),
            href: href(p),
        })
        .collect();
    let listed = places
        .iter()
        .take(LISTED)
        .map(|p| Listed {
            name: p.name.clone(),
            events: p.events,
            failed: p.failed,
            href: href(p),
        })
        .collect();
    Ok(Drawn {
        land: LAND,
        spots,
        listed,
        total,
        located: places.iter().map(|p| p.events).sum(),
        failed: places.iter().map(|p| p.failed).sum(),
        places: places.len(),
    })
}

/// `GET /map?{search}`.
pub(crate) async fn map(
    State(state): State<WebState>,
    Extension(user): Extension<SignedIn>,
    RawQuery(query): RawQuery,
) -> Result<Response, WebError> {
    let pairs = okwatch_okta::server::query_pairs(query.as_deref());
    let text = SearchText::from_pairs(&pairs).with(|t| t.highlight.clear());
    let search = text.parse(chrono::Utc::now(), 1);
    let problem = search
        .filter_problem
        .as_ref()
        .map(|p| {
            format!(
                "The filter has a mistake at character {}: {}",
                p.position + 1,
                p.message
            )
        })
        .or_else(|| search.problems.first().cloned());
    html(&MapPage {
        user,
        map: drawn(&state, &text).await?,
        explorer: explorer_href(&text),
        problem,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn group(city: &str, lat: &str, lon: &str, n: u64) -> Group {
        let text = |s: &str| (!s.is_empty()).then(|| s.to_string());
        (vec![text(city), text("France"), text(lat), text(lon)], n)
    }

    #[test]
    fn places_join_the_coordinates_of_a_city_and_keep_their_failures() {
        let all = [
            group("Paris", "48.86", "2.34", 7),
            group("Paris", "48.84", "2.29", 3),
            group("Lyon", "45.76", "4.83", 2),
            (vec![None, None, None, None], 40),
            group("Nowhere", "", "", 5),
            group("Offworld", "91.5", "0", 5),
        ];
        let failed = [group("Lyon", "45.76", "4.83", 1)];
        let places = places(&all, &failed);
        let summary: Vec<(&str, u64, u64)> = places
            .iter()
            .map(|p| (p.name.as_str(), p.events, p.failed))
            .collect();
        assert_eq!(summary, [("Paris, France", 10, 0), ("Lyon, France", 2, 1)]);
        assert_eq!(
            places[1].filter,
            r#"client.geographicalContext.city eq "Lyon" and client.geographicalContext.country eq "France""#
        );
        assert!(okwatch_query::parse_and_validate(
            &places[1].filter,
            okwatch_query::Dialect::Okwatch
        )
        .is_ok());
    }

    #[test]
    fn the_land_outline_is_in_the_frame() {
        assert!(LAND.starts_with('M') && LAND.len() > 10_000);
        for number in LAND
            .split(|c: char| c.is_ascii_alphabetic() || c == ' ')
            .filter(|s| !s.is_empty())
        {
            let n: f64 = number.parse().unwrap();
            assert!((0.0..=360.0).contains(&n), "{n}");
        }
    }
}
