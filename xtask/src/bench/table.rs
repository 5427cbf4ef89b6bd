//! Markdown tables and the number formats every benchmark section shares.

use std::fmt::Write as _;

/// A column's alignment in Markdown.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Align {
    Left,
    Right,
}

/// A Markdown table: a header, then rows of already formatted cells.
#[derive(Clone, Debug, Default)]
pub(crate) struct Table {
    columns: Vec<(String, Align)>,
    rows: Vec<Vec<String>>,
}

impl Table {
    /// A table with these columns: the first left-aligned (labels), the rest right-aligned
    /// (figures) unless a name starts with `<` (then left-aligned, the `<` dropped).
    pub(crate) fn new(columns: &[&str]) -> Self {
        let columns = columns
            .iter()
            .enumerate()
            .map(|(i, name)| match name.strip_prefix('<') {
                Some(name) => (name.to_owned(), Align::Left),
                None if i == 0 => ((*name).to_owned(), Align::Left),
                None => ((*name).to_owned(), Align::Right),
            })
            .collect();
        Self {
            columns,
            rows: Vec::new(),
        }
    }

    /// Appends a row; missing cells render empty, extra cells are a bug in the caller.
    pub(crate) fn row<S: Into<String>>(&mut self, cells: impl IntoIterator<Item = S>) {
        let mut cells: Vec<String> = cells.into_iter().map(Into::into).collect();
        assert!(
            cells.len() <= self.columns.len(),
            "a row of {} cells in a table of {} columns",
            cells.len(),
            self.columns.len()
        );
        cells.resize(self.columns.len(), String::new());
        self.rows.push(cells);
    }

    /// The table as GitHub-flavoured Markdown (`|` inside a cell is escaped).
    pub(crate) fn to_markdown(&self) -> String {
        let mut out = String::new();
        let line = |cells: &mut dyn Iterator<Item = String>| {
            let cells: Vec<String> = cells.collect();
            format!("| {} |\n", cells.join(" | "))
        };
        out += &line(&mut self.columns.iter().map(|(name, _)| escape(name)));
        let rule: Vec<&str> = self
            .columns
            .iter()
            .map(|(_, align)| match align {
                Align::Left => "---",
                Align::Right => "---:",
            })
            .collect();
        let _ = writeln!(out, "|{}|", rule.join("|"));
        for row in &self.rows {
            out += &line(&mut row.iter().map(|cell| escape(cell)));
        }
        out
    }
}

fn escape(cell: &str) -> String {
    cell.replace('|', "\\|")
}

/// `1234567.8` → `1,234,568`.
pub(crate) fn thousands(value: f64) -> String {
    if !value.is_finite() {
        return "n/a".into();
    }
    let digits = format!("{:.0}", value.abs());
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    if value < 0.0 && digits != "0" {
        out.insert(0, '-');
    }
    out
}

/// Seconds with three decimals below 10 s, one above: `0.220 s`, `30.4 s`.
pub(crate) fn secs(value: f64) -> String {
    match value {
        v if !v.is_finite() => "n/a".into(),
        v if v < 10.0 => format!("{v:.3} s"),
        v => format!("{v:.1} s"),
    }
}

/// Seconds with two decimals: `1.77 s` (the polling simulation's lags).
pub(crate) fn secs2(value: f64) -> String {
    if value.is_finite() {
        format!("{value:.2} s")
    } else {
        "n/a".into()
    }
}

/// Milliseconds: `0.521 ms` below 10 ms, `12.3 ms` above.
pub(crate) fn ms(value: f64) -> String {
    match value {
        v if !v.is_finite() => "n/a".into(),
        v if v < 10.0 => format!("{v:.3} ms"),
        v => format!("{v:.1} ms"),
    }
}

/// Mebibytes with one decimal: `8.4 MiB`.
pub(crate) fn mib(value: f64) -> String {
    if value.is_finite() {
        format!("{value:.1} MiB")
    } else {
        "n/a".into()
    }
}

/// A ratio: `1.08×`; two decimals below 10, one above.
pub(crate) fn ratio(ours: f64, baseline: f64) -> String {
    let r = ours / baseline;
    match r {
        r if !r.is_finite() => "n/a".into(),
        r if r < 10.0 => format!("{r:.2}×"),
        r => format!("{r:.1}×"),
    }
}

/// A percentage without decimals: `86 %`.
pub(crate) fn percent(ours: f64, baseline: f64) -> String {
    let p = 100.0 * ours / baseline;
    if p.is_finite() {
        format!("{p:.0} %")
    } else {
        "n/a".into()
    }
}

/// A byte count as `134217728` → `128 MiB`, `1073741824` → `1 GiB`.
pub(crate) fn size(bytes: u64) -> String {
    if bytes >= 1 << 30 && bytes.is_multiple_of(1 << 30) {
        format!("{} GiB", bytes >> 30)
    } else if bytes.is_multiple_of(1 << 20) {
        format!("{} MiB", bytes >> 20)
    } else {
        format!("{:.1} MiB", bytes as f64 / f64::from(1 << 20))
    }
}

/// The median of some values (the mean of the middle two for an even count); NaN when empty.
pub(crate) fn median(values: &[f64]) -> f64 {
    let mut sorted = values.to_vec();
    sorted.sort_by(f64::total_cmp);
    match sorted.len() {
        0 => f64::NAN,
        n if n % 2 == 1 => sorted[n / 2],
        n => (sorted[n / 2 - 1] + sorted[n / 2]) / 2.0,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_alignment_and_pads_short_rows() {
        let mut table = Table::new(&["size", "<client", "wall"]);
        table.row(["128 MiB", "curl -o", "0.124 s"]);
        table.row(["1 GiB", "a|b"]);
        assert_eq!(
            table.to_markdown(),
            "| size | client | wall |\n\
             |---|---|---:|\n\
             | 128 MiB | curl -o | 0.124 s |\n\
             | 1 GiB | a\\|b |  |\n"
        );
    }

    #[test]
    #[should_panic(expected = "a row of 3 cells in a table of 2 columns")]
    fn refuses_rows_wider_than_the_header() {
        Table::new(&["a", "b"]).row(["1", "2", "3"]);
    }

    #[test]
    fn formats_numbers() {
        assert_eq!(thousands(119_982.4), "119,982");
        assert_eq!(thousands(999.0), "999");
        assert_eq!(thousands(1_000.0), "1,000");
        assert_eq!(thousands(-2_600_000.0), "-2,600,000");
        assert_eq!(secs(0.2204), "0.220 s");
        assert_eq!(secs(30.44), "30.4 s");
        assert_eq!(ms(0.5214), "0.521 ms");
        assert_eq!(ratio(0.901, 0.832), "1.08×");
        assert_eq!(ratio(30.3, 0.77), "39.4×");
        assert_eq!(ratio(1.0, 0.0), "n/a");
        assert_eq!(percent(103_412.0, 119_982.0), "86 %");
        assert_eq!(size(128 << 20), "128 MiB");
        assert_eq!(size(1 << 30), "1 GiB");
        assert_eq!(size(3 << 30), "3 GiB");
        assert_eq!(median(&[3.0, 1.0, 2.0]), 2.0);
        assert_eq!(median(&[4.0, 1.0, 2.0, 3.0]), 2.5);
        assert!(median(&[]).is_nan());
    }
}
