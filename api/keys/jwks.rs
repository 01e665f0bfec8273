//! The JWKS as served: its JSON written once per read of the key set, not
//! at every request for it.
//!
//! Which keys the set publishes depends on the time (a retired key leaves
//! it [`RETIRED_GRACE_SECS`](super::signing::RETIRED_GRACE_SECS) after its
//! retirement), so a read writes one body for each span of time between two
//! such departures, and a request takes the span its `now` falls in. The
//! bodies hold public keys only. Nothing here reads the clock.

use actix_web::web::Bytes;
use jsonwebtoken::jwk::{Jwk, JwkSet};

/// The serialised JWKS of one key set, for any time.
pub struct JwksBodies {
    /// `(until, body)` in ascending `until`: `body` is the set published at
    /// a time before `until` and not before the previous span's `until`.
    /// The last span never ends.
    spans: Vec<(i64, Bytes)>,
}

impl JwksBodies {
    /// The bodies for `keys`, each with the time it stops being published
    /// (`None`: it stays).
    pub fn new(keys: &[(&Jwk, Option<i64>)]) -> Self {
        let mut ends: Vec<i64> = keys.iter().filter_map(|(_, leaves)| *leaves).collect();
        ends.sort_unstable();
        ends.dedup();
        ends.push(i64::MAX);
        let mut spans = Vec::with_capacity(ends.len());
        let mut from = i64::MIN;
        for until in ends {
            // No key leaves strictly inside [from, until): one still
            // published at `from` stays until `until` at least.
            let set = JwkSet {
                keys: keys
                    .iter()
                    .filter(|(_, leaves)| leaves.is_none_or(|at| at > from))
                    .map(|(jwk, _)| (*jwk).clone())
                    .collect(),
            };
            spans.push((until, serialise(&set)));
            from = until;
        }
        Self { spans }
    }

    /// The JSON of the keys published at `now`.
    pub fn at(&self, now: i64) -> Bytes {
        self.spans
            .iter()
            .find(|(until, _)| now < *until)
            .or(self.spans.last())
            .map(|(_, body)| body.clone())
            .unwrap_or_default()
    }
}

fn serialise(set: &JwkSet) -> Bytes {
    match serde_json::to_vec(set) {
        Ok(json) => Bytes::from(json),
        // Public keys of strings only: serialising cannot fail.
        Err(e) => {
            tracing::error!(error = %e, "the JWKS could not be serialised");
            Bytes::from_static(br#"{"keys":[]}"#)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sessions::keys::SigningKey;

    fn kids(body: &Bytes) -> Vec<String> {
        let set: JwkSet = serde_json::from_slice(body).unwrap();
        set.keys
            .into_iter()
            .filter_map(|k| k.common.key_id)
            .collect()
    }

    #[test]
    fn each_key_is_published_until_it_leaves() {
        let [a, b, c] = [(); 3].map(|()| SigningKey::generate().unwrap().public);
        let keys = [(&a.jwk, None), (&b.jwk, Some(200)), (&c.jwk, Some(100))];
        let bodies = JwksBodies::new(&keys);
        let all = vec![a.kid.clone(), b.kid.clone(), c.kid.clone()];
        assert_eq!(kids(&bodies.at(0)), all);
        assert_eq!(kids(&bodies.at(99)), all);
        assert_eq!(kids(&bodies.at(100)), [a.kid.clone(), b.kid.clone()]);
        assert_eq!(kids(&bodies.at(199)), [a.kid.clone(), b.kid.clone()]);
        assert_eq!(kids(&bodies.at(200)), std::slice::from_ref(&a.kid));
        assert_eq!(kids(&bodies.at(i64::MAX)), std::slice::from_ref(&a.kid));
        assert_eq!(kids(&bodies.at(i64::MIN)), all);
    }

    #[test]
    fn the_body_is_what_serde_writes_for_the_set() {
        let key = SigningKey::generate().unwrap().public;
        let bodies = JwksBodies::new(&[(&key.jwk, None)]);
        let set = JwkSet {
            keys: vec![key.jwk.clone()],
        };
        assert_eq!(bodies.at(0), serde_json::to_vec(&set).unwrap());
    }
}
