//! Opaque keyset cursors and the pages they mark: the sort key of the last
//! row of a page, base64url JSON. Not a secret and not signed: a forged
//! cursor only moves the caller within their own account's rows.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use serde::de::DeserializeOwned;
use serde::Serialize;

use crate::error::ApiError;

pub const DEFAULT_LIMIT: i64 = 50;
pub const MAX_LIMIT: i64 = 200;

pub fn encode<T: Serialize>(key: &T) -> String {
    URL_SAFE_NO_PAD.encode(serde_json::to_vec(key).unwrap_or_default())
}

pub fn decode<T: DeserializeOwned>(cursor: &str) -> Result<T, ApiError> {
    URL_SAFE_NO_PAD
        .decode(cursor)
        .ok()
        .and_then(|bytes| serde_json::from_slice(&bytes).ok())
        .ok_or_else(|| ApiError::field("cursor", "not a cursor from a previous page"))
}

/// The key a page starts after: none for the first page, which an empty
/// `cursor=` also asks for (a form or a client that always sends the
/// parameter); anything else must be a cursor this API issued.
pub fn start_after<T: DeserializeOwned>(cursor: Option<&str>) -> Result<Option<T>, ApiError> {
    match cursor {
        None | Some("") => Ok(None),
        Some(cursor) => decode(cursor).map(Some),
    }
}

/// The page size: default 50, 1 to 200.
pub fn limit(requested: Option<i64>) -> Result<i64, ApiError> {
    let limit = requested.unwrap_or(DEFAULT_LIMIT);
    if !(1..=MAX_LIMIT).contains(&limit) {
        return Err(ApiError::field(
            "limit",
            format!("must be 1 to {MAX_LIMIT}"),
        ));
    }
    Ok(limit)
}

/// One page of rows and the cursor of the next, if any.
#[derive(Debug)]
pub struct Page<T> {
    pub items: Vec<T>,
    pub next_cursor: Option<String>,
}

/// Cuts the `limit + 1` rows a repo fetched to one page. The extra row is
/// fetched only to learn that another page follows without counting; the
/// next cursor is then `key` of this page's last row.
pub fn page<T, K: Serialize>(mut rows: Vec<T>, limit: i64, key: impl Fn(&T) -> K) -> Page<T> {
    let page_size = usize::try_from(limit).unwrap_or(usize::MAX);
    let more = rows.len() > page_size;
    rows.truncate(page_size);
    let next_cursor = match (more, rows.last()) {
        (true, Some(last)) => Some(encode(&key(last))),
        _ => None,
    };
    Page {
        items: rows,
        next_cursor,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cursors_round_trip_and_garbage_is_a_validation_error() {
        let c = encode(&("ada", "id-1"));
        assert_eq!(
            decode::<(String, String)>(&c).unwrap(),
            ("ada".into(), "id-1".into())
        );
        assert_eq!(
            decode::<(String, String)>("!!").unwrap_err().code(),
            "validation_failed"
        );
        assert_eq!(start_after::<(String, String)>(Some("")).unwrap(), None);
        assert_eq!(start_after::<(String, String)>(None).unwrap(), None);
        assert_eq!(
            start_after::<(String, String)>(Some(&c)).unwrap(),
            Some(("ada".into(), "id-1".into()))
        );
        assert!(start_after::<(String, String)>(Some("!!")).is_err());
        assert_eq!(limit(None).unwrap(), 50);
        assert!(limit(Some(0)).is_err() && limit(Some(201)).is_err());
    }

    #[test]
    fn a_page_has_a_cursor_only_when_a_row_was_left_over() {
        let full = page(vec![1, 2, 3], 2, |n| *n);
        assert_eq!(full.items, [1, 2]);
        assert_eq!(decode::<i32>(&full.next_cursor.unwrap()).unwrap(), 2);
        let last = page(vec![1, 2], 2, |n| *n);
        assert_eq!((last.items, last.next_cursor), (vec![1, 2], None));
        let empty = page(Vec::<i32>::new(), 2, |n| *n);
        assert!(empty.items.is_empty() && empty.next_cursor.is_none());
    }
}
