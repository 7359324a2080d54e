//! [`GoodsCode`]: a validated TARIC goods nomenclature item id plus product-line suffix.

use std::fmt;
use std::str::FromStr;

/// The product-line suffix of a declarable end line.
pub const DECLARABLE_SUFFIX: &str = "80";

/// Why a goods code or suffix was rejected.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum GoodsCodeError {
    /// The code was empty.
    #[error("goods code is empty")]
    Empty,
    /// The code contains a character other than an ASCII digit.
    #[error("goods code `{code}` contains a non-digit at position {position}")]
    NonDigit {
        /// The rejected input.
        code: String,
        /// 1-based character position of the offending character.
        position: usize,
    },
    /// The code has the wrong number of digits.
    #[error("goods code `{code}` has {len} digits, expected {expected}")]
    Length {
        /// The rejected input.
        code: String,
        /// Its number of characters.
        len: usize,
        /// What was expected, e.g. `10` or `2, 4, 6, 8 or 10`.
        expected: &'static str,
    },
    /// The chapter is `00`, which does not exist.
    #[error("goods code `{code}` has chapter 00")]
    ChapterZero {
        /// The rejected input.
        code: String,
    },
    /// The product-line suffix is not two digits.
    #[error("product-line suffix `{suffix}` is not two digits")]
    Suffix {
        /// The rejected suffix.
        suffix: String,
    },
}

/// A goods nomenclature item id (10 digits, TARIC) plus its product-line suffix
/// (2 digits; `"80"` is a declarable end line, other suffixes are intermediate lines).
///
/// Ordering is by code, then suffix: the TARIC order of lines.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct GoodsCode {
    digits: [u8; 10],
    suffix: [u8; 2],
}

fn check_digits(code: &str) -> Result<(), GoodsCodeError> {
    if code.is_empty() {
        return Err(GoodsCodeError::Empty);
    }
    if let Some((i, _)) = code.char_indices().find(|(_, c)| !c.is_ascii_digit()) {
        return Err(GoodsCodeError::NonDigit {
            code: code.to_owned(),
            position: code[..i].chars().count() + 1,
        });
    }
    Ok(())
}

fn parse_suffix(suffix: &str) -> Result<[u8; 2], GoodsCodeError> {
    match suffix.as_bytes() {
        [a, b] if a.is_ascii_digit() && b.is_ascii_digit() => Ok([*a, *b]),
        _ => Err(GoodsCodeError::Suffix {
            suffix: suffix.to_owned(),
        }),
    }
}

impl GoodsCode {
    /// A 10-digit code with the declarable suffix `"80"`.
    pub fn new(code: &str) -> Result<Self, GoodsCodeError> {
        Self::with_suffix(code, DECLARABLE_SUFFIX)
    }

    /// A 10-digit code with an explicit product-line suffix.
    pub fn with_suffix(code: &str, suffix: &str) -> Result<Self, GoodsCodeError> {
        check_digits(code)?;
        if code.len() != 10 {
            return Err(GoodsCodeError::Length {
                code: code.to_owned(),
                len: code.chars().count(),
                expected: "10",
            });
        }
        let mut digits = [b'0'; 10];
        digits.copy_from_slice(code.as_bytes());
        if digits[..2] == *b"00" {
            return Err(GoodsCodeError::ChapterZero {
                code: code.to_owned(),
            });
        }
        Ok(Self {
            digits,
            suffix: parse_suffix(suffix)?,
        })
    }

    /// A 2-, 4-, 6-, 8- or 10-digit code (chapter, heading, HS subheading, CN code, TARIC code)
    /// padded with zeros to 10 digits; suffix `"80"`.
    pub fn from_prefix(code: &str) -> Result<Self, GoodsCodeError> {
        check_digits(code)?;
        if !matches!(code.len(), 2 | 4 | 6 | 8 | 10) {
            return Err(GoodsCodeError::Length {
                code: code.to_owned(),
                len: code.chars().count(),
                expected: "2, 4, 6, 8 or 10",
            });
        }
        let mut padded = [b'0'; 10];
        padded[..code.len()].copy_from_slice(code.as_bytes());
        if padded[..2] == *b"00" {
            return Err(GoodsCodeError::ChapterZero {
                code: code.to_owned(),
            });
        }
        Ok(Self {
            digits: padded,
            suffix: *b"80",
        })
    }

    /// The same code with another product-line suffix.
    pub fn set_suffix(self, suffix: &str) -> Result<Self, GoodsCodeError> {
        Ok(Self {
            digits: self.digits,
            suffix: parse_suffix(suffix)?,
        })
    }

    /// The 10 digits.
    pub fn as_str(&self) -> &str {
        // Invariant: only ASCII digits are ever stored.
        std::str::from_utf8(&self.digits).unwrap_or_default()
    }

    /// The 10 digits as a number (`0702000007` → 702000007): the same order as the
    /// digits' text, for indexes that compare integers instead of strings.
    pub fn key(&self) -> u64 {
        self.digits
            .iter()
            .fold(0u64, |n, &d| n * 10 + u64::from(d.wrapping_sub(b'0')))
    }

    /// The product-line suffix, e.g. `"80"`.
    pub fn suffix(&self) -> &str {
        std::str::from_utf8(&self.suffix).unwrap_or_default()
    }

    /// Whether the suffix is the declarable `"80"`.
    pub fn has_declarable_suffix(&self) -> bool {
        self.suffix == *b"80"
    }

    /// The chapter (2 digits).
    pub fn chapter(&self) -> &str {
        &self.as_str()[..2]
    }

    /// The heading (4 digits).
    pub fn heading(&self) -> &str {
        &self.as_str()[..4]
    }

    /// The HS subheading (6 digits).
    pub fn subheading(&self) -> &str {
        &self.as_str()[..6]
    }

    /// The CN code (8 digits).
    pub fn cn(&self) -> &str {
        &self.as_str()[..8]
    }

    /// The code without trailing pairs of zeros, at least the chapter:
    /// `0702000000` → `"0702"`, `0702001000` → `"07020010"`.
    pub fn significant(&self) -> &str {
        let s = self.as_str();
        let mut len = 10;
        while len > 2 && &s[len - 2..len] == "00" {
            len -= 2;
        }
        &s[..len]
    }

    /// Whether the 10 digits start with `prefix` (digits only; spaces and dots are ignored,
    /// so `"0702 00"` and `"0702.00"` work). An empty prefix matches everything.
    pub fn starts_with_prefix(&self, prefix: &str) -> bool {
        let mut digits = self.digits.iter();
        for c in prefix.bytes() {
            if c == b' ' || c == b'.' {
                continue;
            }
            match digits.next() {
                Some(d) if *d == c => {}
                _ => return false,
            }
        }
        true
    }
}

impl FromStr for GoodsCode {
    type Err = GoodsCodeError;

    /// Accepts `"0702000000"`, `"0702 00 00 00"`, and with a suffix
    /// `"0702000000-80"`, `"0702000000/80"` or `"0702000000 80"` (12 digits after
    /// removing separators are read as code + suffix).
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let compact: String = s
            .chars()
            .filter(|c| !matches!(c, ' ' | '.' | '-' | '/'))
            .collect();
        if compact.len() == 12 && compact.is_ascii() {
            Self::with_suffix(&compact[..10], &compact[10..])
        } else {
            Self::new(&compact)
        }
    }
}

impl fmt::Display for GoodsCode {
    /// The 10 digits; `{:#}` adds the suffix: `0702000000-80`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if f.alternate() {
            write!(f, "{}-{}", self.as_str(), self.suffix())
        } else {
            f.write_str(self.as_str())
        }
    }
}

impl fmt::Debug for GoodsCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "GoodsCode({}-{})", self.as_str(), self.suffix())
    }
}

impl serde::Serialize for GoodsCode {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(&format_args!("{self:#}"))
    }
}

impl<'de> serde::Deserialize<'de> for GoodsCode {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let s = String::deserialize(deserializer)?;
        s.parse().map_err(serde::de::Error::custom)
    }
}
