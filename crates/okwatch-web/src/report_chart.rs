//! A report's chart as the server draws it: lines or stacked bars per time bucket, a y axis
//! with round numbers, dates along the x axis and a legend whose entries open each series'
//! events. Geometry only; `report.html` turns it into SVG, so every text is escaped there.

use okwatch_engine::reports::{Chart, ChartKind};

/// Drawing width in SVG units (the SVG scales to the page).
pub const WIDTH: f64 = 1000.0;
/// Plot height.
pub const HEIGHT: f64 = 220.0;
/// Left margin, for the y axis' labels.
pub const LEFT: f64 = 48.0;

/// One series drawn.
pub struct Drawn {
    /// Its colour's class (`s0`…`s5`).
    pub class: String,
    /// Its name.
    pub name: String,
    /// Its total over the period.
    pub total: u64,
    /// The explorer link of its events.
    pub href: String,
    /// A line's points (`x,y x,y …`); empty for bars.
    pub points: String,
    /// Points and bars: where, how big, and what they count (for their tooltip).
    pub marks: Vec<Mark>,
}

/// A point of a line or a segment of a bar.
pub struct Mark {
    /// x (a line's point) or left edge (a bar).
    pub x: f64,
    /// y (a line's point) or top edge (a bar).
    pub y: f64,
    /// A bar's width.
    pub w: f64,
    /// A bar's height.
    pub h: f64,
    /// The tooltip: bucket and count.
    pub title: String,
}

/// A label on an axis.
pub struct Tick {
    /// Position along its axis.
    pub at: f64,
    /// Text.
    pub label: String,
}

/// The whole drawing.
pub struct View {
    /// `line` or `bar`.
    pub kind: &'static str,
    /// The series.
    pub series: Vec<Drawn>,
    /// Round values up the y axis.
    pub y_ticks: Vec<Tick>,
    /// Dates along the x axis.
    pub x_ticks: Vec<Tick>,
    /// What the y axis counts, for screen readers and the axis title.
    pub unit: String,
}

/// The smallest "round" number (1, 2 or 5 times a power of ten) at least `n`.
fn round_up(n: u64) -> u64 {
    let mut step = 1;
    loop {
        for m in [1, 2, 5] {
            if step * m >= n {
                return step * m;
            }
        }
        step *= 10;
    }
}

/// The drawing of `chart`; `link` makes an explorer URL of a search.
pub fn view(chart: &Chart, link: impl Fn(&str) -> String) -> View {
    let n = chart.buckets.len().max(1);
    let slot = (WIDTH - LEFT) / n as f64;
    let stacked = chart.kind == ChartKind::Bar;
    let top = if stacked {
        (0..n)
            .map(|i| {
                chart
                    .series
                    .iter()
                    .map(|s| s.values.get(i).copied().unwrap_or(0))
                    .sum::<u64>()
            })
            .max()
            .unwrap_or(0)
    } else {
        chart
            .series
            .iter()
            .flat_map(|s| s.values.iter().copied())
            .max()
            .unwrap_or(0)
    };
    let top = round_up(top.max(1));
    let y = |v: u64| HEIGHT - v as f64 / top as f64 * HEIGHT;
    let label = |i: usize| {
        let t = chart.buckets[i];
        match chart.bucket {
            "hour" => t.format("%b %-d %H:00").to_string(),
            "month" => t.format("%b %Y").to_string(),
            _ => t.format("%b %-d").to_string(),
        }
    };
    let mut base = vec![0u64; n];
    let series = chart
        .series
        .iter()
        .enumerate()
        .map(|(k, s)| {
            let mut marks = Vec::new();
            let mut points = Vec::new();
            for (i, &v) in s.values.iter().enumerate() {
                let title = format!("{}: {} {v}", label(i), s.name);
                if stacked {
                    if v == 0 {
                        continue;
                    }
                    let (low, high) = (y(base[i]), y(base[i] + v));
                    base[i] += v;
                    marks.push(Mark {
                        x: LEFT + i as f64 * slot + slot * 0.1,
                        y: high,
                        w: (slot * 0.8).max(0.5),
                        h: (low - high).max(0.5),
                        title,
                    });
                } else {
                    let x = LEFT + (i as f64 + 0.5) * slot;
                    points.push(format!("{x:.1},{:.1}", y(v)));
                    marks.push(Mark {
                        x,
                        y: y(v),
                        w: 0.0,
                        h: 0.0,
                        title,
                    });
                }
            }
            Drawn {
                class: format!("s{k}"),
                name: s.name.clone(),
                total: s.total.value,
                href: link(&s.total.search),
                points: points.join(" "),
                marks,
            }
        })
        .collect();
    let y_ticks = [0, top / 2, top]
        .iter()
        .map(|&v| Tick {
            at: y(v),
            label: v.to_string(),
        })
        .collect();
    let every = (n / 7).max(1);
    let x_ticks = (0..n)
        .step_by(every)
        .map(|i| Tick {
            at: LEFT + (i as f64 + 0.5) * slot,
            label: label(i),
        })
        .collect();
    View {
        kind: if stacked { "bar" } else { "line" },
        series,
        y_ticks,
        x_ticks,
        unit: if chart.unit == "distinct" {
            "people".into()
        } else {
            "events".into()
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_axis_ends_on_a_round_number_above_the_largest_value() {
        assert_eq!(round_up(1), 1);
        assert_eq!(round_up(3), 5);
        assert_eq!(round_up(7), 10);
        assert_eq!(round_up(101), 200);
        assert_eq!(round_up(4_999), 5_000);
    }
}
