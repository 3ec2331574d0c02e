//! Turns Natural Earth's 1:110m land polygons (public domain, `assets/ne_110m_land.json`) into
//! one SVG path in an equirectangular projection (x = longitude + 180, y = 90 - latitude, so
//! the world is 360 × 180 units), which the console's map draws under the sign-in locations.
//! Done at build time so that the binary carries a few kilobytes of path, not the GeoJSON, and
//! no tile server or map library is needed.

use std::fmt::Write as _;

const SOURCE: &str = "assets/ne_110m_land.json";

/// A JSON array of arrays … of numbers: all the "coordinates" value holds.
enum Nested {
    Number(f64),
    List(Vec<Nested>),
}

/// Reads the nested array starting at `text[*at]`.
fn parse(text: &[u8], at: &mut usize) -> Nested {
    while text[*at].is_ascii_whitespace() {
        *at += 1;
    }
    if text[*at] == b'[' {
        *at += 1;
        let mut items = Vec::new();
        loop {
            while text[*at].is_ascii_whitespace() || text[*at] == b',' {
                *at += 1;
            }
            if text[*at] == b']' {
                *at += 1;
                return Nested::List(items);
            }
            items.push(parse(text, at));
        }
    }
    let start = *at;
    while matches!(text[*at], b'-' | b'+' | b'.' | b'e' | b'E' | b'0'..=b'9') {
        *at += 1;
    }
    let number = std::str::from_utf8(&text[start..*at])
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("{SOURCE}: a number expected at byte {start}"));
    Nested::Number(number)
}

/// Appends every ring under `node` to `path`: a ring is a list of [lon, lat] points.
fn rings(node: &Nested, path: &mut String) {
    let Nested::List(items) = node else { return };
    let is_point =
        |n: &Nested| matches!(n, Nested::List(p) if matches!(p.first(), Some(Nested::Number(_))));
    if items.first().is_some_and(is_point) {
        let mut last = None;
        for (i, point) in items.iter().enumerate() {
            let Nested::List(p) = point else { continue };
            let (Some(Nested::Number(lon)), Some(Nested::Number(lat))) = (p.first(), p.get(1))
            else {
                continue;
            };
            // One decimal (about 10 km at the equator) is finer than the 110m data itself.
            let xy = (
                ((lon + 180.0) * 10.0).round() / 10.0,
                ((90.0 - lat) * 10.0).round() / 10.0,
            );
            if last == Some(xy) {
                continue;
            }
            let _ = write!(path, "{}{} {}", if i == 0 { "M" } else { "L" }, xy.0, xy.1);
            last = Some(xy);
        }
        path.push('Z');
    } else {
        for item in items {
            rings(item, path);
        }
    }
}

fn main() {
    println!("cargo::rerun-if-changed={SOURCE}");
    let text = std::fs::read(SOURCE).unwrap_or_else(|e| panic!("{SOURCE}: {e}"));
    let key = b"\"coordinates\":";
    let mut path = String::new();
    let mut at = 0;
    while let Some(found) = text[at..].windows(key.len()).position(|w| w == key) {
        at += found + key.len();
        let coordinates = parse(&text, &mut at);
        rings(&coordinates, &mut path);
    }
    assert!(path.len() > 1000, "{SOURCE} holds no land");
    let out = std::path::PathBuf::from(std::env::var("OUT_DIR").expect("cargo sets OUT_DIR"));
    std::fs::write(out.join("land_path.txt"), path).expect("OUT_DIR is writable");
}
