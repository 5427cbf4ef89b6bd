//! The cost before paying: `run`, `submit` and `batch` show what the jobs they are about to
//! submit are estimated to cost (the catalogue's price, `happyhorse_http::Client::estimate`),
//! and `--max-cost USD` refuses — exit 65, nothing submitted — when the estimate is above it,
//! for one job or the sum of a batch's.
//!
//! A budget that cannot be checked (the price or the output's length unknown) refuses too: a
//! user who set a ceiling asked not to be surprised. Without `--max-cost` an unknown cost is only
//! said, and the job goes ahead.

use happyhorse_http::{Client, Estimate};
use happyhorse_types::ModelSpec;
use serde_json::Value;

use crate::exit::{self, Failure};

/// Parses `--max-cost`: USD as `1.50` or `$1.50`, zero or more.
pub(crate) fn parse_usd(text: &str) -> Result<f64, String> {
    let number = text.trim();
    let number = number.strip_prefix('$').unwrap_or(number).trim();
    match number.parse::<f64>() {
        Ok(usd) if usd.is_finite() && usd >= 0.0 => Ok(usd),
        _ => Err(format!(
            "expected an amount in USD such as 2.50 or $2.50, got {text:?}"
        )),
    }
}

/// The estimate of the jobs about to be submitted: one per job, summed.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Quote {
    /// The sum of the known estimates.
    pub(crate) usd: f64,
    /// The jobs priced.
    pub(crate) jobs: usize,
    /// Why some jobs could not be priced: each reason once, with how many jobs it covers.
    pub(crate) unknown: Vec<(String, usize)>,
    /// How the single job's estimate was reached (one job only).
    basis: Option<String>,
}

impl Quote {
    /// The estimates of `jobs` (model and input each), each model's price fetched once.
    pub(crate) async fn of<'a>(
        client: &Client,
        jobs: impl IntoIterator<Item = (&'static ModelSpec, &'a Value)>,
    ) -> Self {
        let mut quote = Self {
            usd: 0.0,
            jobs: 0,
            unknown: Vec::new(),
            basis: None,
        };
        for (spec, input) in jobs {
            quote.add(client.estimate(spec, input).await);
        }
        quote
    }

    fn add(&mut self, estimate: Estimate) {
        self.jobs += 1;
        match estimate {
            Estimate::Usd { usd, basis } => {
                self.usd += usd;
                self.basis = (self.jobs == 1).then_some(basis);
            }
            Estimate::Unknown { why } => {
                self.basis = None;
                match self.unknown.iter_mut().find(|(known, _)| *known == why) {
                    Some((_, count)) => *count += 1,
                    None => self.unknown.push((why, 1)),
                }
            }
            // A kind of estimate this version does not know is no estimate.
            other => self.unknown.push((other.to_string(), 1)),
        }
    }

    /// Jobs whose cost could not be estimated.
    fn unknown_jobs(&self) -> usize {
        self.unknown.iter().map(|(_, count)| count).sum()
    }

    /// One line for people: `estimated cost ≈ $0.50: 5 s × $0.10/s, catalogue base price`.
    pub(crate) fn line(&self) -> String {
        let known = self.jobs - self.unknown_jobs();
        let mut line = match (&self.basis, known) {
            (Some(basis), _) => format!("estimated cost ≈ ${:.2}: {basis}", self.usd),
            (None, 0) => "estimated cost unknown".to_owned(),
            (None, known) => format!(
                "estimated cost ≈ ${:.2} for {known} job{}, catalogue base price",
                self.usd,
                plural(known)
            ),
        };
        for (why, count) in &self.unknown {
            let jobs = if self.jobs == 1 {
                String::new()
            } else {
                format!(" ({count} job{})", plural(*count))
            };
            line.push_str(&format!("; cost unknown{jobs}: {why}"));
        }
        line
    }

    /// The estimate as JSON (`--json`'s `estimate` event).
    pub(crate) fn json(&self) -> Value {
        serde_json::json!({
            "usd": (self.unknown.is_empty()).then_some(round_cents(self.usd)),
            "known_usd": round_cents(self.usd),
            "jobs": self.jobs,
            "unknown_jobs": self.unknown_jobs(),
            "text": self.line(),
        })
    }

    /// Refuses when `max_cost` is set and the estimate is above it or cannot be made.
    pub(crate) fn check(&self, max_cost: Option<f64>) -> Result<(), Failure> {
        let Some(max) = max_cost else {
            return Ok(());
        };
        let what = if self.jobs == 1 {
            "the job".to_owned()
        } else {
            format!("the {} jobs to submit", self.jobs)
        };
        if !self.unknown.is_empty() {
            return Err(Failure::new(
                exit::INVALID_INPUT,
                format!(
                    "--max-cost ${max:.2} cannot be checked: {}; nothing was submitted (without --max-cost, {what} would be submitted)",
                    self.line()
                ),
            ));
        }
        // Compared in millionths of a dollar: 5 × 0.1 is 0.5000000000000001 in floating point.
        if (self.usd * 1e6).round() > (max * 1e6).round() {
            return Err(Failure::new(
                exit::INVALID_INPUT,
                format!(
                    "{} for {what} is above --max-cost ${max:.2}; nothing was submitted",
                    self.line()
                ),
            ));
        }
        Ok(())
    }
}

fn plural(count: usize) -> &'static str {
    if count == 1 { "" } else { "s" }
}

fn round_cents(usd: f64) -> f64 {
    (usd * 1e6).round() / 1e6
}

#[cfg(test)]
mod tests {
    use super::*;

    fn quote(estimates: Vec<Estimate>) -> Quote {
        let mut quote = Quote {
            usd: 0.0,
            jobs: 0,
            unknown: Vec::new(),
            basis: None,
        };
        for estimate in estimates {
            quote.add(estimate);
        }
        quote
    }

    fn usd(usd: f64, basis: &str) -> Estimate {
        Estimate::Usd {
            usd,
            basis: basis.into(),
        }
    }

    #[test]
    fn amounts_parse_with_or_without_a_dollar_and_nothing_else_does() {
        assert_eq!(parse_usd("$2.50"), Ok(2.5));
        assert_eq!(parse_usd(" 0 "), Ok(0.0));
        for bad in ["", "-1", "NaN", "inf", "2 USD", "$"] {
            assert!(parse_usd(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn one_job_shows_its_basis_and_is_refused_only_above_the_budget() {
        let one = quote(vec![usd(0.1 * 5.0, "5 s × $0.10/s, catalogue base price")]);
        assert_eq!(
            one.line(),
            "estimated cost ≈ $0.50: 5 s × $0.10/s, catalogue base price"
        );
        assert!(one.check(None).is_ok());
        assert!(
            one.check(Some(0.5)).is_ok(),
            "exactly the budget is within it"
        );
        let refused = one.check(Some(0.49)).unwrap_err();
        assert_eq!(refused.code, exit::INVALID_INPUT);
        assert!(
            refused
                .message
                .contains("above --max-cost $0.49; nothing was submitted"),
            "{}",
            refused.message
        );
    }

    #[test]
    fn a_batch_sums_and_an_unknown_cost_refuses_a_budget_but_not_a_run_without_one() {
        let batch = quote(vec![
            usd(0.5, "a"),
            usd(1.5, "b"),
            Estimate::unknown("edit"),
            Estimate::unknown("edit"),
        ]);
        assert_eq!(
            batch.line(),
            "estimated cost ≈ $2.00 for 2 jobs, catalogue base price; cost unknown (2 jobs): edit"
        );
        assert!(batch.check(None).is_ok());
        let refused = batch.check(Some(100.0)).unwrap_err();
        assert!(
            refused.message.contains("cannot be checked"),
            "{}",
            refused.message
        );
        let known = quote(vec![usd(0.5, "a"), usd(1.5, "b")]);
        assert!(known.check(Some(2.0)).is_ok());
        assert!(known.check(Some(1.99)).is_err());
        assert_eq!(known.json()["usd"], 2.0);
    }
}
