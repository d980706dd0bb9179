//! What a face does (`ruuvictl serve`, the app): hand the receiver's observations to the hub.
//! Shared by the integration tests and the ingest benchmark.

use std::pin::Pin;

use ruuvi_hub::{Hub, HubError};
use ruuvi_protocol::Observation;
use ruuvi_receiver::{Deliver, DeliverError};

pub struct ToHub(pub Hub);

impl Deliver for ToHub {
    fn deliver(
        &self,
        observations: Vec<Observation>,
    ) -> Pin<Box<dyn std::future::Future<Output = Result<(), DeliverError>> + Send + '_>> {
        Box::pin(async move {
            match self.0.try_submit(observations) {
                Err(HubError::Full) => Err(DeliverError::Busy),
                Err(e) => Err(DeliverError::Failed(e.to_string())),
                Ok(pending) => pending
                    .stored()
                    .await
                    .map(|_| ())
                    .map_err(|e| DeliverError::Failed(e.to_string())),
            }
        })
    }
}
