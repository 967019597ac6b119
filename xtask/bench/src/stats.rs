//! Median and spread of a list of samples.

use serde::{Deserialize, Serialize};

/// A summary of repeated measurements: the median, the quartiles (half of the
/// samples lie between `q1` and `q3`) and the extremes.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Stats {
    pub median: f64,
    pub q1: f64,
    pub q3: f64,
    pub min: f64,
    pub max: f64,
    pub samples: usize,
}

impl Stats {
    /// Summarises `samples`; panics on an empty list (a bug in the caller).
    pub fn of(mut samples: Vec<f64>) -> Stats {
        assert!(!samples.is_empty(), "no samples to summarise");
        samples.sort_by(f64::total_cmp);
        // Linear interpolation between the two nearest ranks.
        let at = |p: f64| {
            let pos = p * (samples.len() - 1) as f64;
            let (lo, hi) = (pos.floor() as usize, pos.ceil() as usize);
            samples[lo] + (samples[hi] - samples[lo]) * (pos - lo as f64)
        };
        Stats {
            median: at(0.5),
            q1: at(0.25),
            q3: at(0.75),
            min: samples[0],
            max: samples[samples.len() - 1],
            samples: samples.len(),
        }
    }

    /// The same summary with every value multiplied by `factor` (unit change).
    pub fn scaled(&self, factor: f64) -> Stats {
        Stats {
            median: self.median * factor,
            q1: self.q1 * factor,
            q3: self.q3 * factor,
            min: self.min * factor,
            max: self.max * factor,
            samples: self.samples,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::Stats;

    #[test]
    fn quartiles_interpolate() {
        let s = Stats::of(vec![4.0, 1.0, 3.0, 2.0, 5.0]);
        assert_eq!(
            (s.min, s.q1, s.median, s.q3, s.max),
            (1.0, 2.0, 3.0, 4.0, 5.0)
        );
        let s = Stats::of(vec![1.0, 2.0]);
        assert_eq!(s.median, 1.5);
        assert_eq!(Stats::of(vec![7.0]).q3, 7.0);
    }
}
