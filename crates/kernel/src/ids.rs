use crate::codes::{is_iso3166_alpha2, is_iso4217};
use crate::error::KernelError;
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use std::fmt;
use std::str::FromStr;

macro_rules! string_id {
    ($(#[$m:meta])* $name:ident, $example:literal) => {
        $(#[$m])*
        #[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, utoipa::ToSchema)]
        #[schema(value_type = String, example = $example)]
        pub struct $name(String);

        impl $name {
            pub fn as_str(&self) -> &str {
                &self.0
            }
        }
        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }
        impl AsRef<str> for $name {
            fn as_ref(&self) -> &str {
                &self.0
            }
        }
        impl Serialize for $name {
            fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.serialize_str(&self.0)
            }
        }
        impl<'de> Deserialize<'de> for $name {
            fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                let s = String::deserialize(d)?;
                s.parse().map_err(serde::de::Error::custom)
            }
        }
        impl TryFrom<String> for $name {
            type Error = KernelError;
            fn try_from(s: String) -> Result<Self, KernelError> {
                s.parse()
            }
        }
    };
}

string_id!(
    /// A customs administration (tenant): its ISO 3166-1 alpha-2 country code, e.g. `NL`.
    TenantCode, "NL"
);
string_id!(
    /// A customs office reference number in the EU format: the country code and 6
    /// alphanumeric characters, e.g. `NL000396`.
    OfficeRef, "NL000396"
);
string_id!(
    /// An EORI number: 2-letter country code followed by up to 15 alphanumerics.
    Eori, "NL000000001"
);
string_id!(
    /// An ISO 4217 currency code, e.g. `EUR`.
    CurrencyCode, "EUR"
);
string_id!(
    /// A government agency within an administration, e.g. `NVWA`.
    AgencyCode, "NVWA"
);

impl FromStr for TenantCode {
    type Err = KernelError;
    fn from_str(s: &str) -> Result<Self, KernelError> {
        if !is_iso3166_alpha2(s) {
            return Err(KernelError::invalid(
                "tenant code",
                s,
                "must be an ISO 3166-1 alpha-2 country code in upper case",
            ));
        }
        Ok(Self(s.to_owned()))
    }
}

impl FromStr for OfficeRef {
    type Err = KernelError;
    fn from_str(s: &str) -> Result<Self, KernelError> {
        let ok = s.is_ascii()
            && s.len() == 8
            && is_iso3166_alpha2(&s[..2])
            && s[2..]
                .bytes()
                .all(|b| b.is_ascii_digit() || b.is_ascii_uppercase());
        if !ok {
            return Err(KernelError::invalid(
                "customs office reference",
                s,
                "must be a country code followed by 6 upper-case alphanumerics, e.g. NL000396",
            ));
        }
        Ok(Self(s.to_owned()))
    }
}

impl OfficeRef {
    /// The country part of the reference.
    pub fn country(&self) -> &str {
        &self.0[..2]
    }
}

impl FromStr for Eori {
    type Err = KernelError;
    fn from_str(s: &str) -> Result<Self, KernelError> {
        let ok = s.is_ascii()
            && (3..=17).contains(&s.len())
            && is_iso3166_alpha2(&s[..2])
            && s[2..]
                .bytes()
                .all(|b| b.is_ascii_digit() || b.is_ascii_uppercase());
        if !ok {
            return Err(KernelError::invalid(
                "EORI",
                s,
                "must be a country code followed by 1 to 15 upper-case alphanumerics",
            ));
        }
        Ok(Self(s.to_owned()))
    }
}

impl Eori {
    pub fn country(&self) -> &str {
        &self.0[..2]
    }
}

impl FromStr for CurrencyCode {
    type Err = KernelError;
    fn from_str(s: &str) -> Result<Self, KernelError> {
        if !is_iso4217(s) {
            return Err(KernelError::invalid(
                "currency",
                s,
                "must be an active ISO 4217 currency code in upper case",
            ));
        }
        Ok(Self(s.to_owned()))
    }
}

impl FromStr for AgencyCode {
    type Err = KernelError;
    fn from_str(s: &str) -> Result<Self, KernelError> {
        let ok = (2..=16).contains(&s.len())
            && s.bytes()
                .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit() || b == b'-');
        if !ok {
            return Err(KernelError::invalid(
                "agency code",
                s,
                "must be 2 to 16 upper-case letters, digits or '-'",
            ));
        }
        Ok(Self(s.to_owned()))
    }
}
