//! The domain's enums as column values: each is stored as its name in a
//! `text` column (held by a CHECK constraint) and read back as the enum, so
//! no query result is a string compared in place. A name the enum does not
//! know is a decoding error, not a default.

use sqlx::encode::IsNull;
use sqlx::error::BoxDynError;
use sqlx::postgres::{PgArgumentBuffer, PgHasArrayType, PgTypeInfo, PgValueRef};
use sqlx::{Decode, Encode, Postgres, Type};

use crate::domain::follows::FollowState;
use crate::domain::interaction::ReplyPolicy;
use crate::domain::media::{UploadKind, UploadState};
use crate::domain::notifications::{NotificationKind, PolicyAction};
use crate::domain::signature_mode::SignatureMode;
use crate::domain::visibility::{QuotePolicy, QuoteState, Visibility};

/// Implements sqlx's `Type`, `Encode` and `Decode` (and arrays) for an enum
/// with `as_str` and `parse`, as `text`.
macro_rules! text_enum {
    ($t:ty, $what:literal) => {
        impl Type<Postgres> for $t {
            fn type_info() -> PgTypeInfo {
                <str as Type<Postgres>>::type_info()
            }

            fn compatible(ty: &PgTypeInfo) -> bool {
                <str as Type<Postgres>>::compatible(ty)
            }
        }

        impl PgHasArrayType for $t {
            fn array_type_info() -> PgTypeInfo {
                <&str as PgHasArrayType>::array_type_info()
            }

            fn array_compatible(ty: &PgTypeInfo) -> bool {
                <&str as PgHasArrayType>::array_compatible(ty)
            }
        }

        impl Encode<'_, Postgres> for $t {
            fn encode_by_ref(&self, buf: &mut PgArgumentBuffer) -> Result<IsNull, BoxDynError> {
                <&str as Encode<Postgres>>::encode(self.as_str(), buf)
            }
        }

        impl<'r> Decode<'r, Postgres> for $t {
            fn decode(value: PgValueRef<'r>) -> Result<Self, BoxDynError> {
                let raw = <&str as Decode<Postgres>>::decode(value)?;
                <$t>::parse(raw).ok_or_else(|| format!("`{raw}` is not {}", $what).into())
            }
        }
    };
}

text_enum!(Visibility, "a visibility");
text_enum!(QuotePolicy, "a quote policy");
text_enum!(QuoteState, "a quote state");
text_enum!(ReplyPolicy, "a reply policy");
text_enum!(NotificationKind, "a notification kind");
text_enum!(PolicyAction, "a notification policy action");
text_enum!(FollowState, "a follow state");
text_enum!(SignatureMode, "a signature mode");
text_enum!(UploadKind, "a kind of upload");
text_enum!(UploadState, "an upload's state");
text_enum!(crate::transcode::Kind, "video or audio");
