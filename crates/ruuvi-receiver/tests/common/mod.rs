//! What a face does (`ruuvictl serve`, the app): hand the receiver's observations to the hub —
//! the faces' own adapter, shared by the integration tests and the ingest benchmark.

pub use ruuvi_wiring::ToHub;
