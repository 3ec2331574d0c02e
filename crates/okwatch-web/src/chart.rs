//! The count graph: matching events per time bucket, drawn by the server as SVG. Every bar is
//! a link to the same search narrowed to its bucket (click to zoom in), so the graph works
//! without script and from the keyboard.

use chrono::{DurationRound, TimeDelta};
use okwatch_model::Timestamp;
use okwatch_store::Bucket;

/// Drawing area, in SVG units (the SVG scales to the page's width).
pub const WIDTH: f64 = 1000.0;
/// Height of the bars' area.
pub const HEIGHT: f64 = 120.0;

/// One bar.
#[derive(Debug, Clone, PartialEq)]
pub struct Bar {
    /// Left edge.
    pub x: f64,
    /// Top edge.
    pub y: f64,
    /// Width.
    pub w: f64,
    /// Height.
    pub h: f64,
    /// Events in the bucket.
    pub count: u64,
    /// The bucket's start.
    pub start: Timestamp,
    /// The bucket's end.
    pub end: Timestamp,
}

/// A label under the x axis.
#[derive(Debug, Clone, PartialEq)]
pub struct Tick {
    /// Where.
    pub x: f64,
    /// What.
    pub label: String,
}

/// The graph.
#[derive(Debug, Clone, PartialEq)]
pub struct Chart {
    /// The bars, oldest first; empty buckets have no bar but keep their place.
    pub bars: Vec<Bar>,
    /// A few labels along the time axis.
    pub ticks: Vec<Tick>,
    /// The largest count (the y axis' top).
    pub max: u64,
    /// The bucket's name (`hour`, `day`…).
    pub unit: &'static str,
}

fn step(bucket: Bucket) -> TimeDelta {
    match bucket {
        Bucket::Hour => TimeDelta::hours(1),
        Bucket::Day => TimeDelta::days(1),
        Bucket::Week => TimeDelta::weeks(1),
        Bucket::Month => TimeDelta::days(30),
    }
}

fn truncate(t: Timestamp, bucket: Bucket) -> Timestamp {
    let unit = match bucket {
        Bucket::Hour => TimeDelta::hours(1),
        _ => TimeDelta::days(1),
    };
    t.duration_trunc(unit).unwrap_or(t)
}

/// The graph of `counts` (bucket start, events) between `from` and `to`; `None` without events.
pub fn chart(
    counts: &[(Timestamp, u64)],
    bucket: Bucket,
    from: Option<Timestamp>,
    to: Timestamp,
) -> Option<Chart> {
    let first = counts.first()?.0;
    let start = from.map_or(first, |f| truncate(f, bucket).min(first));
    let last = counts.last()?.0.max(truncate(to, bucket));
    let step = step(bucket);
    let slots = (((last - start).num_seconds() / step.num_seconds().max(1)) + 1).clamp(1, 2_000);
    let width = WIDTH / slots as f64;
    let max = counts.iter().map(|(_, n)| *n).max().unwrap_or(1).max(1);
    let bars = counts
        .iter()
        .map(|&(at, count)| {
            let slot = (at - start).num_seconds() as f64 / step.num_seconds() as f64;
            let h = (count as f64 / max as f64 * HEIGHT).max(1.0);
            Bar {
                x: slot * width,
                y: HEIGHT - h,
                w: (width * 0.85).max(0.5),
                h,
                count,
                start: at,
                end: at + step,
            }
        })
        .collect();
    let label_every = (slots / 6).max(1);
    let ticks = (0..slots)
        .step_by(label_every as usize)
        // A label must fit left of the right edge.
        .filter(|i| (*i as f64) * width < WIDTH - 90.0)
        .map(|i| {
            let at = start + step * i as i32;
            let label = match bucket {
                Bucket::Hour => at.format("%b %-d %H:%M").to_string(),
                _ => at.format("%b %-d").to_string(),
            };
            Tick {
                x: i as f64 * width,
                label,
            }
        })
        .collect();
    Some(Chart {
        bars,
        ticks,
        max,
        unit: bucket.name(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use okwatch_model::parse_timestamp;

    #[test]
    fn bars_keep_their_place_in_time_and_scale_to_the_largest() {
        let t = |s: &str| parse_timestamp(s).unwrap();
        let counts = [
            (t("2026-11-30T00:00:00Z"), 10),
            (t("2026-11-30T03:00:00Z"), 40),
        ];
        let chart = chart(
            &counts,
            Bucket::Hour,
            Some(t("2026-11-29T23:10:00Z")),
            t("2026-11-30T03:30:00Z"),
        )
        .unwrap();
        assert_eq!(chart.max, 40);
        // Five hourly slots from 23:00 to 03:00; the empty ones have no bar.
        assert_eq!(chart.bars.len(), 2);
        assert!((chart.bars[0].x - WIDTH / 5.0).abs() < 1e-9);
        assert!((chart.bars[1].h - HEIGHT).abs() < 1e-9);
        assert!((chart.bars[0].h - HEIGHT / 4.0).abs() < 1e-9);
        assert_eq!(chart.bars[1].end, t("2026-11-30T04:00:00Z"));
        assert!(super::chart(&[], Bucket::Day, None, t("2026-11-30T00:00:00Z")).is_none());
    }
}
