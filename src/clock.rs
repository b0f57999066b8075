//! The office's calendar: the day on which an official acts, for the rules that compare a date the bank gives with
//! when the office acted (a bank's value date may not lie before the release it answers).
//!
//! In service it is the system clock's day in WIB (UTC+7), Indonesia's westernmost zone: at any instant the earliest
//! calendar day anywhere in the country, so that an honest bank's value date, in whichever zone it dates, is never
//! before it. A test (or a rehearsal built in code) may fix the day to replay a village year whose events happened on
//! past days; no configuration file or variable can (the field is not a setting), so a deployed service always
//! follows the real day.

use chrono::{Duration, NaiveDate, Utc};
use std::sync::{Arc, Mutex};

#[derive(Debug, Clone, Default)]
pub struct Clock {
    fixed: Arc<Mutex<Option<NaiveDate>>>,
}

impl Clock {
    /// The real day (WIB).
    pub fn system() -> Clock {
        Clock::default()
    }

    /// The office's day: the fixed one, or else today in WIB.
    pub fn today(&self) -> NaiveDate {
        let fixed = *self.fixed.lock().unwrap_or_else(|e| e.into_inner());
        fixed.unwrap_or_else(real_today)
    }

    /// Fixes the office's day (`None`: the real day again). A day after the real one is refused: the office cannot
    /// act in the future, and the value-date bound (`domain::posting::latest_allowed_value_date`) stays real.
    pub fn set_day(&self, day: Option<NaiveDate>) -> Result<(), String> {
        if let Some(d) = day.filter(|d| *d > real_today()) {
            return Err(format!("the office's day {d} is after today"));
        }
        *self.fixed.lock().unwrap_or_else(|e| e.into_inner()) = day;
        Ok(())
    }
}

fn real_today() -> NaiveDate {
    (Utc::now() + Duration::hours(7)).date_naive()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_fixed_day_is_shared_by_clones_and_never_in_the_future() {
        let clock = Clock::system();
        assert_eq!(clock.today(), real_today());
        let shared = clock.clone();
        let day = NaiveDate::from_ymd_opt(2026, 1, 2).unwrap();
        clock.set_day(Some(day)).unwrap();
        assert_eq!(shared.today(), day);
        assert!(clock.set_day(Some(real_today() + Duration::days(1))).is_err());
        assert_eq!(shared.today(), day, "a refused day leaves the clock as it was");
        shared.set_day(None).unwrap();
        assert_eq!(clock.today(), real_today());
    }
}
