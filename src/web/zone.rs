//! Times as the console shows them: in the regency's time zone with its Indonesian label — WIB (UTC+7), WITA
//! (UTC+8), WIT (UTC+9) — and dates by the local day. The store keeps UTC and the JSON API answers RFC 3339 in
//! UTC; only what people read is local. Every time on a console page or in a console download goes through here.

use crate::http::error::ApiError;
use crate::http::AppState;
use crate::store::rows::RegencyRow;
use chrono::{DateTime, Duration, FixedOffset, NaiveDateTime};
use serde_json::Value;
use std::borrow::Cow;

/// A regency's time zone, as minutes east of UTC (`regencies.utc_offset_minutes`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Zone {
    offset_minutes: i32,
}

impl Zone {
    /// Western Indonesia, the default zone of a regency.
    pub const WIB: Zone = Zone { offset_minutes: 420 };

    pub fn of(utc_offset_minutes: i32) -> Zone {
        Zone { offset_minutes: utc_offset_minutes }
    }

    pub fn of_regency(r: &RegencyRow) -> Zone {
        Zone::of(r.utc_offset_minutes)
    }

    /// The zone's Indonesian name: WIB, WITA or WIT (any other offset, which the API does not accept, as
    /// `GMT+hh:mm`).
    pub fn label(self) -> Cow<'static, str> {
        match self.offset_minutes {
            420 => "WIB".into(),
            480 => "WITA".into(),
            540 => "WIT".into(),
            m => format!("GMT{}{:02}:{:02}", if m < 0 { '-' } else { '+' }, m.abs() / 60, m.abs() % 60).into(),
        }
    }

    /// The heading of a column of times in a download: `Waktu (WIB)`.
    pub fn when_heading(self) -> &'static str {
        match self.offset_minutes {
            420 => "Waktu (WIB)",
            480 => "Waktu (WITA)",
            540 => "Waktu (WIT)",
            _ => "Waktu (setempat)",
        }
    }

    /// A stored UTC time as the regency's wall-clock time.
    pub fn local(self, utc: NaiveDateTime) -> NaiveDateTime {
        utc + Duration::minutes(i64::from(self.offset_minutes))
    }

    /// The local day of a stored UTC time: `05-01-2026`.
    pub fn date(self, utc: NaiveDateTime) -> String {
        self.local(utc).format("%d-%m-%Y").to_string()
    }

    /// A stored UTC time to the minute, with the zone: `05-01-2026 14:25 WIB`.
    pub fn time(self, utc: NaiveDateTime) -> String {
        format!("{} {}", self.local(utc).format("%d-%m-%Y %H:%M"), self.label())
    }

    /// A stored UTC time as RFC 3339 with the zone's offset, for `<time datetime=...>`: `2026-01-05T14:25:00+07:00`.
    pub fn machine(self, utc: NaiveDateTime) -> String {
        match FixedOffset::east_opt(self.offset_minutes * 60) {
            Some(offset) => utc.and_utc().with_timezone(&offset).to_rfc3339(),
            None => utc.and_utc().to_rfc3339(),
        }
    }

    /// Evidence (JSON) with its times for people: RFC 3339 timestamps, and the naive local times of fields named
    /// `..._local`, become local times with the zone; everything else stays as it is.
    pub fn localise_json(self, v: &Value) -> Value {
        self.localise_field(None, v)
    }

    fn localise_field(self, key: Option<&str>, v: &Value) -> Value {
        match v {
            Value::String(s) => Value::String(self.localise_text(key, s).unwrap_or_else(|| s.clone())),
            Value::Array(items) => Value::Array(items.iter().map(|i| self.localise_field(None, i)).collect()),
            Value::Object(m) => {
                Value::Object(m.iter().map(|(k, v)| (k.clone(), self.localise_field(Some(k), v))).collect())
            }
            other => other.clone(),
        }
    }

    fn localise_text(self, key: Option<&str>, s: &str) -> Option<String> {
        if let Ok(t) = DateTime::parse_from_rfc3339(s) {
            return Some(self.time(t.naive_utc()));
        }
        if key.is_some_and(|k| k.ends_with("_local")) {
            if let Ok(local) = NaiveDateTime::parse_from_str(s, "%Y-%m-%dT%H:%M:%S") {
                return Some(format!("{} {}", local.format("%d-%m-%Y %H:%M"), self.label()));
            }
        }
        None
    }
}

/// The time zone of a regency (of a village's `regency_id`, or an inspector's), WIB when it cannot be found.
pub async fn zone_of(state: &AppState, regency_id: &str) -> Result<Zone, ApiError> {
    let db = state.db.clone();
    let id = regency_id.to_string();
    let regency = super::blocking(move || db.get_regency(&id)).await?;
    Ok(regency.as_ref().map_or(Zone::WIB, Zone::of_regency))
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::NaiveDate;
    use serde_json::json;

    fn utc(y: i32, m: u32, d: u32, h: u32, min: u32) -> NaiveDateTime {
        NaiveDate::from_ymd_opt(y, m, d).unwrap().and_hms_opt(h, min, 0).unwrap()
    }

    #[test]
    fn the_three_zones_have_their_indonesian_names() {
        assert_eq!(Zone::of(420).label(), "WIB");
        assert_eq!(Zone::of(480).label(), "WITA");
        assert_eq!(Zone::of(540).label(), "WIT");
        assert_eq!(Zone::of(420).when_heading(), "Waktu (WIB)");
        assert_eq!(Zone::of(480).when_heading(), "Waktu (WITA)");
        assert_eq!(Zone::of(540).when_heading(), "Waktu (WIT)");
        assert!(!Zone::of(330).label().contains("UTC"));
    }

    #[test]
    fn times_are_local_with_the_zone() {
        let t = utc(2026, 1, 5, 0, 25);
        assert_eq!(Zone::WIB.time(t), "05-01-2026 07:25 WIB");
        assert_eq!(Zone::of(480).time(t), "05-01-2026 08:25 WITA");
        assert_eq!(Zone::of(540).time(t), "05-01-2026 09:25 WIT");
        assert_eq!(Zone::WIB.machine(t), "2026-01-05T07:25:00+07:00");
        assert_eq!(Zone::of(540).machine(t), "2026-01-05T09:25:00+09:00");
    }

    #[test]
    fn dates_are_the_local_day() {
        // 06:00 WIB on the 5th is 23:00 UTC on the 4th: the console shows the 5th.
        let early = utc(2026, 1, 4, 23, 0);
        assert_eq!(Zone::WIB.date(early), "05-01-2026");
        assert_eq!(Zone::WIB.time(early), "05-01-2026 06:00 WIB");
        // The day starts at 17:00 UTC in WIB, 16:00 in WITA, 15:00 in WIT.
        assert_eq!(Zone::WIB.time(utc(2026, 1, 4, 16, 59)), "04-01-2026 23:59 WIB");
        assert_eq!(Zone::WIB.time(utc(2026, 1, 4, 17, 0)), "05-01-2026 00:00 WIB");
        assert_eq!(Zone::of(480).date(utc(2026, 1, 4, 15, 59)), "04-01-2026");
        assert_eq!(Zone::of(480).date(utc(2026, 1, 4, 16, 0)), "05-01-2026");
        assert_eq!(Zone::of(540).date(utc(2026, 1, 4, 14, 59)), "04-01-2026");
        assert_eq!(Zone::of(540).date(utc(2026, 1, 4, 15, 0)), "05-01-2026");
        // And the year with it.
        assert_eq!(Zone::WIB.time(utc(2025, 12, 31, 17, 30)), "01-01-2026 00:30 WIB");
    }

    #[test]
    fn evidence_times_are_localised_and_nothing_else() {
        let v = json!({
            "payee": "123/1009876543",
            "gross": "10000000.00",
            "payments": [{"id": "p1", "at": "2026-03-02T01:00:00.123456Z"}, {"id": "p2", "at": "2026-03-01T17:30:00Z"}],
            "released_at_local": "2026-03-02T16:00:00",
            "date": "2026-03-02",
            "count": 2,
        });
        let out = Zone::WIB.localise_json(&v);
        assert_eq!(out["payments"][0]["at"], "02-03-2026 08:00 WIB");
        assert_eq!(out["payments"][1]["at"], "02-03-2026 00:30 WIB");
        assert_eq!(out["released_at_local"], "02-03-2026 16:00 WIB");
        assert_eq!(out["payee"], v["payee"]);
        assert_eq!(out["gross"], v["gross"]);
        assert_eq!(out["date"], v["date"]);
        assert_eq!(out["count"], 2);
        assert_eq!(out["payments"][0]["id"], "p1");
    }
}
