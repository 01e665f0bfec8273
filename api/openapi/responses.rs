//! What every documented answer shares, added to the generated document in
//! one place rather than repeated on each operation: the `X-Request-Id`
//! header, `Retry-After` on 429 and 503, and a problem example whose status
//! and `code` are those of the response it illustrates (the `code` is the
//! first one the response's description names).

use actix_web::http::StatusCode;
use serde_json::json;
use utoipa::openapi::header::Header;
use utoipa::openapi::path::Operation;
use utoipa::openapi::schema::{ObjectBuilder, Type};
use utoipa::openapi::{OpenApi as Document, RefOr};

use crate::error::{ErrorCode, PROBLEM_JSON};

pub fn complete(doc: &mut Document) {
    let per_state = state_examples(doc);
    for item in doc.paths.paths.values_mut() {
        let operations = [
            &mut item.get,
            &mut item.put,
            &mut item.post,
            &mut item.delete,
            &mut item.patch,
        ];
        for operation in operations.into_iter().flatten() {
            add_unavailable(operation);
            complete_operation(operation);
            add_state_examples(operation, &per_state);
        }
    }
}

/// For each schema with a `discriminator` (the login step), one named
/// example per value: the example of the schema that value maps to.
fn state_examples(doc: &Document) -> Vec<(String, Vec<(String, serde_json::Value)>)> {
    let Some(components) = &doc.components else {
        return Vec::new();
    };
    let example_of = |reference: &str| {
        let name = reference.trim_start_matches("#/components/schemas/");
        let value = serde_json::to_value(components.schemas.get(name)?).ok()?;
        value.get("example").cloned()
    };
    components
        .schemas
        .iter()
        .filter_map(|(name, schema)| {
            let RefOr::T(utoipa::openapi::schema::Schema::OneOf(one_of)) = schema else {
                return None;
            };
            let mapping = &one_of.discriminator.as_ref()?.mapping;
            let examples = mapping
                .iter()
                .filter_map(|(state, reference)| Some((state.clone(), example_of(reference)?)))
                .collect();
            Some((format!("#/components/schemas/{name}"), examples))
        })
        .collect()
}

/// Gives an answer whose schema is a discriminated `oneOf` an example per
/// state, so the Swagger UI and Postman show every one, not only the first.
fn add_state_examples(
    operation: &mut Operation,
    per_state: &[(String, Vec<(String, serde_json::Value)>)],
) {
    for response in operation.responses.responses.values_mut() {
        let RefOr::T(response) = response else {
            continue;
        };
        for content in response.content.values_mut() {
            let Some(RefOr::Ref(reference)) = &content.schema else {
                continue;
            };
            let Some((_, examples)) = per_state.iter().find(|(r, _)| *r == reference.ref_location)
            else {
                continue;
            };
            for (state, value) in examples {
                let example = utoipa::openapi::example::ExampleBuilder::new()
                    .summary(format!("status: {state}"))
                    .value(Some(value.clone()))
                    .build();
                content.examples.insert(state.clone(), RefOr::T(example));
            }
        }
    }
}

/// Operations answered without the database: they never answer 503.
const WITHOUT_DATABASE: [&str; 3] = ["get_health", "get_metrics", "get_jwks"];

/// Every operation that reads or writes the database answers 503 while the
/// database is unreachable or its pool saturated; documented here once.
fn add_unavailable(operation: &mut Operation) {
    let id = operation.operation_id.as_deref().unwrap_or_default();
    if WITHOUT_DATABASE.contains(&id) || operation.responses.responses.contains_key("503") {
        return;
    }
    let response = utoipa::openapi::ResponseBuilder::new()
        .description(
            "The database is unreachable or busy (`service_unavailable`); retry after `Retry-After`",
        )
        .content(
            PROBLEM_JSON,
            utoipa::openapi::ContentBuilder::new()
                .schema(Some(RefOr::Ref(utoipa::openapi::Ref::from_schema_name(
                    "Problem",
                ))))
                .build(),
        )
        .build();
    operation
        .responses
        .responses
        .insert("503".to_owned(), RefOr::T(response));
}

fn complete_operation(operation: &mut Operation) {
    for (status, response) in &mut operation.responses.responses {
        let RefOr::T(response) = response else {
            continue;
        };
        response.headers.insert(
            "X-Request-Id".to_owned(),
            header(
                Type::String,
                "The request's id (echoed when the client sent a sane one); quote it when reporting a problem.",
            ),
        );
        if status == "429" || status == "503" {
            response.headers.insert(
                "Retry-After".to_owned(),
                header(
                    Type::Integer,
                    "Seconds until a retry may succeed. Absent when waiting does not help: a login \
                     that used up its tries must start again at `POST /v1/auth/login`.",
                ),
            );
        }
        let Ok(code) = status.parse::<u16>() else {
            continue;
        };
        if let Some(content) = response.content.get_mut(PROBLEM_JSON) {
            let error = code_named_in(&response.description).unwrap_or_else(|| by_status(code));
            let reason = StatusCode::from_u16(code)
                .ok()
                .and_then(|s| s.canonical_reason())
                .unwrap_or("Error");
            content.example = Some(json!({
                "type": format!("urn:twofold:problem:{error}"),
                "title": reason,
                "status": code,
                "detail": response.description,
                "code": error,
            }));
        }
    }
}

fn header(kind: Type, description: &str) -> Header {
    let mut header = Header::new(ObjectBuilder::new().schema_type(kind).build());
    header.description = Some(description.to_owned());
    header
}

/// The first `code` in backticks in `text` that the service answers.
fn code_named_in(text: &str) -> Option<ErrorCode> {
    text.split('`')
        .skip(1)
        .step_by(2)
        .find_map(|word| ErrorCode::ALL.into_iter().find(|c| c.as_str() == word))
}

/// The code a response of `status` carries when its description names none.
fn by_status(status: u16) -> ErrorCode {
    match status {
        400 => ErrorCode::ValidationFailed,
        401 => ErrorCode::Unauthorized,
        403 => ErrorCode::Forbidden,
        404 => ErrorCode::NotFound,
        405 => ErrorCode::MethodNotAllowed,
        413 => ErrorCode::PayloadTooLarge,
        415 => ErrorCode::UnsupportedMediaType,
        429 => ErrorCode::TooManyAttempts,
        503 => ErrorCode::ServiceUnavailable,
        _ => ErrorCode::InternalError,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_example_code_is_the_first_real_code_the_description_names() {
        let named = code_named_in("Bad token (`flow_expired`) or `unauthorized`");
        assert_eq!(named, Some(ErrorCode::FlowExpired));
        assert_eq!(
            code_named_in("Needs `force` (`would_lock_out`)"),
            Some(ErrorCode::WouldLockOut)
        );
        assert_eq!(code_named_in("No such user"), None);
        assert_eq!(by_status(409), ErrorCode::InternalError);
    }
}
