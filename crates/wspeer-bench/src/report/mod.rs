//! Markdown tables, and the figures formatted the way every report shows them;
//! [`sections`] turns a whole run into the report.

pub mod rounds;
pub mod sections;

use std::fmt::Write as _;

/// A markdown table built row by row.
#[derive(Debug, Clone, Default)]
pub struct Table {
    headers: Vec<String>,
    rows: Vec<Vec<String>>,
}

impl Table {
    /// A table with these column headers.
    pub fn new<S: Into<String>>(headers: impl IntoIterator<Item = S>) -> Self {
        Self {
            headers: headers.into_iter().map(Into::into).collect(),
            rows: Vec::new(),
        }
    }

    /// Adds a row; missing cells are left empty.
    pub fn row<S: Into<String>>(&mut self, cells: impl IntoIterator<Item = S>) {
        let mut cells: Vec<String> = cells.into_iter().map(Into::into).collect();
        cells.resize(self.headers.len(), String::new());
        self.rows.push(cells);
    }

    /// The table as GitHub-flavoured markdown.
    pub fn render(&self) -> String {
        let mut out = String::new();
        let line = |out: &mut String, cells: &[String]| {
            out.push('|');
            for cell in cells {
                let _ = write!(out, " {} |", cell.replace('|', "\\|"));
            }
            out.push('\n');
        };
        line(&mut out, &self.headers);
        out.push('|');
        for _ in &self.headers {
            out.push_str("---|");
        }
        out.push('\n');
        for row in &self.rows {
            line(&mut out, row);
        }
        out
    }
}

/// `value / baseline` as `1.23×`, or `n/a` when there is no baseline.
pub fn ratio(value: f64, baseline: Option<f64>) -> String {
    match baseline {
        Some(b) if b > 0.0 => format!("{:.2}×", value / b),
        _ => "n/a".to_owned(),
    }
}

/// A rate such as `123.4 k`.
pub fn rate(per_second: f64) -> String {
    if per_second >= 10_000.0 {
        format!("{:.1} k", per_second / 1000.0)
    } else {
        format!("{per_second:.0}")
    }
}

/// A number with one decimal.
pub fn num(value: f64) -> String {
    format!("{value:.1}")
}

/// An optional figure with `digits` decimals, or `–`.
pub fn opt(value: Option<f64>, digits: usize) -> String {
    value.map_or_else(|| "–".to_owned(), |v| format!("{v:.digits$}"))
}

/// "met" or "MISSED" for a target.
pub fn verdict(met: bool) -> &'static str {
    if met { "met" } else { "**MISSED**" }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_markdown() {
        let mut table = Table::new(["a", "b"]);
        table.row(["1"]);
        table.row(["x|y", "2"]);
        assert_eq!(
            table.render(),
            "| a | b |\n|---|---|\n| 1 |  |\n| x\\|y | 2 |\n"
        );
        assert_eq!(ratio(3.0, Some(2.0)), "1.50×");
        assert_eq!(ratio(3.0, None), "n/a");
        assert_eq!(rate(123_456.0), "123.5 k");
    }
}
