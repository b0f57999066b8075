//! The pure domain core: money, the chart, posting rules, the hash chain and roles. No I/O here.

pub mod accounts;
pub mod chain;
pub mod money;
pub mod posting;
pub mod roles;
pub mod workflow;
