//! Movement Reference Numbers (MRN) in the EU format.
//!
//! An MRN has 18 characters (UCC IA Annex B, Title II; NCTS DDCOM):
//!
//! | positions | content |
//! | --- | --- |
//! | 1–2 | last two digits of the year of acceptance |
//! | 3–4 | ISO 3166-1 alpha-2 code of the country of the office (the office reference's prefix) |
//! | 5–16 | 12 alphanumerics, unique per year and country |
//! | 17 | procedure category letter ([`ProcedureCategory`]) |
//! | 18 | check digit |
//!
//! The check digit follows ISO 6346 (NCTS rule R0028): each of the first 17
//! characters gets a value (digits their own value; letters `A`=10 upwards,
//! skipping the multiples of 11, so `B`=12, `L`=23, `V`=34, `Z`=38), is
//! multiplied by 2^position (position 0 for the first character), the sum is
//! taken modulo 11 and the result modulo 10 (a remainder of 10 gives 0).
//!
//! A single-character change goes undetected in two documented cases (see the
//! proptest in `tests/declarations.rs`): the two characters have values
//! congruent modulo 11 (a digit and a letter, e.g. `1` and `B` = 12), or the
//! remainder moves between 0 and 10, which the final "mod 10" both maps to 0.

use std::fmt;

/// Why a string is not a valid MRN.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MrnError {
    /// Not 18 characters, or a character of the wrong class at a position.
    #[error("invalid MRN format at position {position}: {reason}")]
    Format { position: usize, reason: String },
    /// Well-formed, but the check digit does not match (NCTS error 93, rule R0028).
    #[error("invalid MRN check digit: expected {expected}, found {found}")]
    CheckDigit { expected: char, found: char },
}

/// The procedure category letter in position 17 of the MRN (UCC IA Annex B, Title II).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ProcedureCategory {
    /// `A`: export only.
    ExportOnly,
    /// `B`: export and exit summary declaration.
    ExportAndExitSummary,
    /// `C`: exit summary declaration only.
    ExitSummaryOnly,
    /// `D`: re-export notification.
    ReExportNotification,
    /// `E`: dispatch of goods in relation with special fiscal territories.
    DispatchSpecialFiscal,
    /// `J`: transit declaration only.
    TransitOnly,
    /// `K`: transit declaration and exit summary declaration.
    TransitAndExitSummary,
    /// `L`: transit declaration and entry summary declaration.
    TransitAndEntrySummary,
    /// `M`: transit declaration with entry and exit summary declaration data (NCTS phase 5
    /// rule R0410: security indicator `3`).
    TransitWithEntryAndExitSummary,
    /// `R`: import declaration only.
    ImportOnly,
    /// `S`: import declaration and entry summary declaration.
    ImportAndEntrySummary,
    /// `T`: entry summary declaration only.
    EntrySummaryOnly,
    /// `U`: temporary storage declaration.
    TemporaryStorage,
    /// `V`: introduction of goods in relation with special fiscal territories.
    IntroductionSpecialFiscal,
    /// `W`: import and entry summary declaration in relation with special fiscal territories.
    ImportAndEntrySummarySpecialFiscal,
}

impl ProcedureCategory {
    /// Every category, in letter order.
    pub const ALL: [ProcedureCategory; 15] = [
        Self::ExportOnly,
        Self::ExportAndExitSummary,
        Self::ExitSummaryOnly,
        Self::ReExportNotification,
        Self::DispatchSpecialFiscal,
        Self::TransitOnly,
        Self::TransitAndExitSummary,
        Self::TransitAndEntrySummary,
        Self::TransitWithEntryAndExitSummary,
        Self::ImportOnly,
        Self::ImportAndEntrySummary,
        Self::EntrySummaryOnly,
        Self::TemporaryStorage,
        Self::IntroductionSpecialFiscal,
        Self::ImportAndEntrySummarySpecialFiscal,
    ];

    /// The letter written in the MRN.
    pub fn letter(self) -> char {
        match self {
            Self::ExportOnly => 'A',
            Self::ExportAndExitSummary => 'B',
            Self::ExitSummaryOnly => 'C',
            Self::ReExportNotification => 'D',
            Self::DispatchSpecialFiscal => 'E',
            Self::TransitOnly => 'J',
            Self::TransitAndExitSummary => 'K',
            Self::TransitAndEntrySummary => 'L',
            Self::TransitWithEntryAndExitSummary => 'M',
            Self::ImportOnly => 'R',
            Self::ImportAndEntrySummary => 'S',
            Self::EntrySummaryOnly => 'T',
            Self::TemporaryStorage => 'U',
            Self::IntroductionSpecialFiscal => 'V',
            Self::ImportAndEntrySummarySpecialFiscal => 'W',
        }
    }

    /// The category of a letter, if it is one of the published letters.
    pub fn from_letter(c: char) -> Option<ProcedureCategory> {
        Self::ALL.into_iter().find(|p| p.letter() == c)
    }

    /// Whether this is a transit category (`J`, `K`, `L`, `M`).
    pub fn is_transit(self) -> bool {
        matches!(
            self,
            Self::TransitOnly
                | Self::TransitAndExitSummary
                | Self::TransitAndEntrySummary
                | Self::TransitWithEntryAndExitSummary
        )
    }

    /// The category of a transit declaration's MRN by its security indicator
    /// (`TransitOperation/security`, rule R0410): `1` (entry summary data) `L`, `2` (exit
    /// summary data) `K`, `3` (both) `M`, anything else (`0`, absent) `J`.
    pub fn of_transit(security: Option<&str>) -> ProcedureCategory {
        match security.map(str::trim) {
            Some("1") => Self::TransitAndEntrySummary,
            Some("2") => Self::TransitAndExitSummary,
            Some("3") => Self::TransitWithEntryAndExitSummary,
            _ => Self::TransitOnly,
        }
    }
}

/// A well-formed MRN with a correct check digit.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Mrn(String);

/// ISO 6346 value of one character: digits are themselves, letters count
/// from 10 upwards skipping multiples of 11.
fn char_value(c: char) -> Option<u32> {
    if let Some(d) = c.to_digit(10) {
        return Some(d);
    }
    if !c.is_ascii_uppercase() {
        return None;
    }
    let mut value = 10u32;
    let mut letter = 'A';
    loop {
        if value.is_multiple_of(11) {
            value += 1;
            continue;
        }
        if letter == c {
            return Some(value);
        }
        letter = char::from_u32(letter as u32 + 1)?;
        value += 1;
    }
}

/// The ISO 6346 check digit of the first 17 characters of an MRN.
///
/// Returns `None` if a character is not `0-9` or `A-Z`.
pub fn check_digit(first17: &str) -> Option<char> {
    let mut sum: u64 = 0;
    for (i, c) in first17.chars().enumerate() {
        let v = u64::from(char_value(c)?);
        sum += v << i;
    }
    let d = (sum % 11) % 10;
    char::from_digit(u32::try_from(d).ok()?, 10)
}

impl Mrn {
    /// Parses an MRN: 18 characters, `NN AA XXXXXXXXXXXX A N`, with a
    /// correct check digit. The procedure letter may be any capital letter
    /// (the XSD allows it); [`Mrn::procedure`] tells whether it is a known one.
    pub fn parse(s: &str) -> Result<Mrn, MrnError> {
        let chars: Vec<char> = s.chars().collect();
        if chars.len() != 18 {
            return Err(MrnError::Format {
                position: chars.len().min(18),
                reason: format!("an MRN has 18 characters, found {}", chars.len()),
            });
        }
        for (i, &c) in chars.iter().enumerate() {
            let ok = match i {
                0 | 1 | 17 => c.is_ascii_digit(),
                2 | 3 | 16 => c.is_ascii_uppercase(),
                _ => c.is_ascii_digit() || c.is_ascii_uppercase(),
            };
            if !ok {
                let want = match i {
                    0 | 1 => "a digit (year)",
                    2 | 3 => "a capital letter (country code)",
                    16 => "a capital letter (procedure category)",
                    17 => "a digit (check digit)",
                    _ => "a digit or capital letter",
                };
                return Err(MrnError::Format {
                    position: i + 1,
                    reason: format!("expected {want}, found {c:?}"),
                });
            }
        }
        let first: String = chars[..17].iter().collect();
        let expected = check_digit(&first).ok_or_else(|| MrnError::Format {
            position: 0,
            reason: "unexpected character".to_owned(),
        })?;
        if expected != chars[17] {
            return Err(MrnError::CheckDigit {
                expected,
                found: chars[17],
            });
        }
        Ok(Mrn(s.to_owned()))
    }

    /// Allocates an MRN: `year` (only its last two digits are used), the
    /// country code of the office, a 12-character alphanumeric serial and the
    /// procedure category; the check digit is computed.
    pub fn allocate(
        year: u16,
        country: &str,
        serial: &str,
        procedure: ProcedureCategory,
    ) -> Result<Mrn, MrnError> {
        if country.len() != 2 || !country.chars().all(|c| c.is_ascii_uppercase()) {
            return Err(MrnError::Format {
                position: 3,
                reason: format!("country must be two capital letters, found {country:?}"),
            });
        }
        if serial.chars().count() != 12
            || !serial
                .chars()
                .all(|c| c.is_ascii_digit() || c.is_ascii_uppercase())
        {
            return Err(MrnError::Format {
                position: 5,
                reason: format!("serial must be 12 digits or capital letters, found {serial:?}"),
            });
        }
        let first = format!("{:02}{country}{serial}{}", year % 100, procedure.letter());
        let digit = check_digit(&first).ok_or_else(|| MrnError::Format {
            position: 0,
            reason: "unexpected character".to_owned(),
        })?;
        Ok(Mrn(format!("{first}{digit}")))
    }

    /// The MRN as written.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The two-digit year.
    pub fn year(&self) -> u8 {
        self.0[..2].parse().unwrap_or(0)
    }

    /// The country code of the office.
    pub fn country(&self) -> &str {
        &self.0[2..4]
    }

    /// The procedure category, if the letter is a published one.
    pub fn procedure(&self) -> Option<ProcedureCategory> {
        self.0[16..17]
            .chars()
            .next()
            .and_then(ProcedureCategory::from_letter)
    }
}

impl fmt::Display for Mrn {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::str::FromStr for Mrn {
    type Err = MrnError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Mrn::parse(s)
    }
}
