//! Figures over alternating rounds: the median and range of a figure, and a
//! verdict that says "undecided" when the rounds disagree, instead of letting
//! one lucky or unlucky round decide.

use std::fmt;

/// Fewest rounds a verdict is given on.
pub const MIN_ROUNDS: usize = 3;

/// The median and range of one figure over rounds.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Spread {
    /// The middle value (the mean of the two middle ones for an even count).
    pub median: f64,
    /// The smallest value.
    pub min: f64,
    /// The largest value.
    pub max: f64,
    /// How many values.
    pub count: usize,
}

impl Spread {
    /// The spread of `values`, or `None` if there are none.
    pub fn of(values: impl IntoIterator<Item = f64>) -> Option<Self> {
        let mut values: Vec<f64> = values.into_iter().collect();
        if values.is_empty() {
            return None;
        }
        values.sort_by(f64::total_cmp);
        let n = values.len();
        let median = if n % 2 == 1 {
            values[n / 2]
        } else {
            (values[n / 2 - 1] + values[n / 2]) / 2.0
        };
        Some(Self {
            median,
            min: values[0],
            max: values[n - 1],
            count: n,
        })
    }

    /// `1.23× (1.10–1.31)`: a ratio with its range.
    pub fn ratio(&self) -> String {
        format!("{:.2}× ({:.2}–{:.2})", self.median, self.min, self.max)
    }
}

/// Which side of the target passes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Direction {
    /// The figure must be at least the target (a rate).
    AtLeast,
    /// The figure must be at most the target (a cost).
    AtMost,
}

impl Direction {
    fn passes(self, value: f64, target: f64) -> bool {
        match self {
            Direction::AtLeast => value >= target,
            Direction::AtMost => value <= target,
        }
    }
}

/// What the rounds say about one target.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Decision {
    /// The median and at least two thirds of the rounds meet it.
    Met,
    /// The median and at least two thirds of the rounds miss it.
    Missed,
    /// The rounds disagree, or there are too few: `met` of `of` rounds met it.
    Undecided {
        /// Rounds that met the target.
        met: usize,
        /// Rounds compared.
        of: usize,
    },
}

impl Decision {
    /// Decides on one value per round (each already relative to its baseline
    /// in the same round).
    pub fn over(values: &[f64], target: f64, direction: Direction) -> Self {
        let of = values.len();
        let met = values
            .iter()
            .filter(|&&v| direction.passes(v, target))
            .count();
        let Some(spread) = Spread::of(values.iter().copied()) else {
            return Decision::Undecided { met, of };
        };
        if of < MIN_ROUNDS {
            return Decision::Undecided { met, of };
        }
        let median_met = direction.passes(spread.median, target);
        if median_met && 3 * met >= 2 * of {
            Decision::Met
        } else if !median_met && 3 * (of - met) >= 2 * of {
            Decision::Missed
        } else {
            Decision::Undecided { met, of }
        }
    }
}

impl fmt::Display for Decision {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Decision::Met => f.write_str("met"),
            Decision::Missed => f.write_str("**MISSED**"),
            Decision::Undecided { met, of } if *of < MIN_ROUNDS => write!(
                f,
                "undecided: {of} usable rounds, fewer than {MIN_ROUNDS} (met in {met})"
            ),
            Decision::Undecided { met, of } => {
                write!(f, "undecided: met in {met} of {of} rounds, re-run")
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_median_of_an_odd_and_an_even_count() {
        let odd = Spread::of([3.0, 1.0, 2.0]).expect("values");
        assert_eq!(
            (odd.median, odd.min, odd.max, odd.count),
            (2.0, 1.0, 3.0, 3)
        );
        let even = Spread::of([4.0, 1.0, 2.0, 3.0]).expect("values");
        assert_eq!(even.median, 2.5);
        assert_eq!(Spread::of([]), None);
    }

    #[test]
    fn two_thirds_of_the_rounds_and_the_median_decide() {
        let at_least = |v: &[f64]| Decision::over(v, 0.95, Direction::AtLeast);
        assert_eq!(at_least(&[0.96, 0.97, 0.99, 0.94, 1.0]), Decision::Met);
        assert_eq!(at_least(&[0.90, 0.91, 0.96, 0.89, 0.92]), Decision::Missed);
        assert_eq!(
            at_least(&[0.90, 0.97, 0.96, 0.89, 0.92]),
            Decision::Undecided { met: 2, of: 5 }
        );
        let at_most = |v: &[f64]| Decision::over(v, 1.2, Direction::AtMost);
        assert_eq!(at_most(&[1.1, 1.15, 1.3]), Decision::Met);
        assert_eq!(at_most(&[1.3, 1.25, 1.1]), Decision::Missed);
    }

    #[test]
    fn too_few_rounds_decide_nothing() {
        let decision = Decision::over(&[1.5, 1.6], 1.0, Direction::AtLeast);
        assert_eq!(decision, Decision::Undecided { met: 2, of: 2 });
        assert!(
            decision
                .to_string()
                .starts_with("undecided: 2 usable rounds")
        );
    }
}
