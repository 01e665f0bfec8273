//! Fields whose value never varies within a schema, such as the `status` of
//! each login step: one unit type per value, serialized as that string and
//! documented as an enum of that one value, so a generated client can narrow
//! a `oneOf` on it.

/// Defines `$name`, a unit type that serializes as `$value` and whose schema
/// is `{type: string, enum: [$value]}`. Use it on a field with
/// `#[schema(inline)]`.
#[macro_export]
macro_rules! constant_string {
    ($(#[$meta:meta])* $name:ident = $value:expr) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
        pub struct $name;

        impl $name {
            pub const VALUE: &'static str = $value;
        }

        impl serde::Serialize for $name {
            fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
                serializer.serialize_str(Self::VALUE)
            }
        }

        impl utoipa::PartialSchema for $name {
            fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
                utoipa::openapi::schema::ObjectBuilder::new()
                    .schema_type(utoipa::openapi::schema::Type::String)
                    .enum_values(Some([Self::VALUE]))
                    .into()
            }
        }

        impl utoipa::ToSchema for $name {}
    };
}

#[cfg(test)]
mod tests {
    constant_string!(Answer = "forty_two");

    #[test]
    fn serializes_as_its_value_and_documents_only_that_value() {
        assert_eq!(serde_json::to_value(Answer).unwrap(), "forty_two");
        let schema = serde_json::to_value(<Answer as utoipa::PartialSchema>::schema()).unwrap();
        assert_eq!(schema["type"], "string");
        assert_eq!(schema["enum"], serde_json::json!(["forty_two"]));
    }
}
