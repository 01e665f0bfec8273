//! A bounded share of the pool for the first login steps' database work.
//!
//! Anyone who knows an email can send the email and password steps in
//! bulk, and every password step that finds a place in the hashing queue
//! reads its flow and reserves its attempt before the hash and settles it
//! after. A burst of them (clients told to retry after a 503 come back
//! together) would queue hundreds of checkouts on the pool, each on a
//! blocking thread of its own, and a one-time code or a token refresh
//! arriving then would wait behind them all, then compete with them for
//! the CPU at every round trip. So that work goes through a lane that holds
//! at most half the pool's connections; the rest stays free for everything
//! else. A step waiting for the lane holds no connection and no thread.

use std::sync::Arc;
use std::time::Instant;

use tokio::sync::{OwnedSemaphorePermit, Semaphore};

use crate::error::ApiError;

/// At most `size` holders at once.
#[derive(Debug, Clone)]
pub struct Lane(Arc<Semaphore>);

impl Lane {
    /// A lane for half of a pool of `pool_size` connections (at least one).
    pub fn half_of(pool_size: u32) -> Self {
        let size = usize::try_from(pool_size / 2).unwrap_or(1).max(1);
        Self(Arc::new(Semaphore::new(size)))
    }

    /// Waits for a place in the lane until `deadline` (the pool timeout the
    /// connection checkout shares), then 503 as when no connection comes.
    pub async fn enter(&self, deadline: Instant) -> Result<OwnedSemaphorePermit, ApiError> {
        let place = Arc::clone(&self.0).acquire_owned();
        match tokio::time::timeout_at(deadline.into(), place).await {
            Ok(Ok(place)) => Ok(place),
            _ => Err(ApiError::pool_unavailable(
                &"no place in the password lane within the pool timeout",
            )),
        }
    }

    /// Places free now.
    #[cfg(test)]
    pub fn free(&self) -> usize {
        self.0.available_permits()
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    #[actix_web::test]
    async fn half_the_pool_enters_and_the_next_waits_until_its_deadline() {
        let lane = Lane::half_of(16);
        let soon = Instant::now() + Duration::from_secs(1);
        let mut held = Vec::new();
        for _ in 0..8 {
            held.push(lane.enter(soon).await.expect("a free place"));
        }
        assert_eq!(lane.free(), 0);
        let refused = lane.enter(Instant::now() + Duration::from_millis(20)).await;
        assert!(matches!(refused, Err(ApiError::Unavailable { .. })));
        held.pop();
        assert!(lane.enter(soon).await.is_ok());
    }

    #[test]
    fn a_pool_of_one_still_has_a_lane() {
        assert_eq!(Lane::half_of(1).free(), 1);
    }
}
