//! Reports for the village and the regency: what they compute (from the store's bounded, indexed queries) and how
//! they are rendered (JSON, CSV, XLSX, PDF).

pub mod anomalies;
pub mod pdf;
pub mod regency;
pub mod table;
pub mod village;
