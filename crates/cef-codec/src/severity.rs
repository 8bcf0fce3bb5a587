//! The header's severity: a level 0-10 or one of the spec's words.

use std::fmt;
use std::str::FromStr;

/// The severity of an event, as the seventh header field carries it.
///
/// CEF allows an integer 0-10 or one of the words `Unknown`, `Low`, `Medium`, `High` and
/// `Very-High`. A severity keeps the form it was made with, so an event decodes to exactly
/// what was encoded.
///
/// ```
/// use cef_codec::{Band, Severity};
///
/// let severity = Severity::new(7)?;
/// assert_eq!(severity.to_string(), "7");
/// assert_eq!(severity.band(), Band::High);
/// assert_eq!("Very-High".parse::<Severity>()?, Severity::VERY_HIGH);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Severity(Form);

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
enum Form {
    Level(u8),
    Word(Band),
}

/// The spec's severity words; levels map onto them as 0-3 Low, 4-6 Medium, 7-8 High,
/// 9-10 Very-High.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Band {
    /// `Unknown`: the producer does not know the severity.
    Unknown,
    /// `Low`: levels 0-3.
    Low,
    /// `Medium`: levels 4-6.
    Medium,
    /// `High`: levels 7-8.
    High,
    /// `Very-High`: levels 9-10.
    VeryHigh,
}

impl Band {
    /// The word as CEF writes it, for example `Very-High`.
    pub fn as_str(self) -> &'static str {
        match self {
            Band::Unknown => "Unknown",
            Band::Low => "Low",
            Band::Medium => "Medium",
            Band::High => "High",
            Band::VeryHigh => "Very-High",
        }
    }
}

/// A severity level above 10.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("CEF severity level {0} is out of range 0-10")]
pub struct SeverityOutOfRange(pub u8);

/// Text that is neither a level 0-10 nor one of the severity words.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("`{0}` is not a CEF severity (0-10, Unknown, Low, Medium, High or Very-High)")]
pub struct ParseSeverityError(pub String);

impl Severity {
    /// `Unknown`.
    pub const UNKNOWN: Severity = Severity(Form::Word(Band::Unknown));
    /// `Low`.
    pub const LOW: Severity = Severity(Form::Word(Band::Low));
    /// `Medium`.
    pub const MEDIUM: Severity = Severity(Form::Word(Band::Medium));
    /// `High`.
    pub const HIGH: Severity = Severity(Form::Word(Band::High));
    /// `Very-High`.
    pub const VERY_HIGH: Severity = Severity(Form::Word(Band::VeryHigh));

    /// A numeric severity 0-10.
    pub const fn new(level: u8) -> Result<Severity, SeverityOutOfRange> {
        if level <= 10 {
            Ok(Severity(Form::Level(level)))
        } else {
            Err(SeverityOutOfRange(level))
        }
    }

    /// A severity given as one of the spec's words.
    pub const fn from_band(band: Band) -> Severity {
        Severity(Form::Word(band))
    }

    /// The numeric level, when the severity was given as a number.
    pub fn level(self) -> Option<u8> {
        match self.0 {
            Form::Level(level) => Some(level),
            Form::Word(_) => None,
        }
    }

    /// The band this severity falls in.
    pub fn band(self) -> Band {
        match self.0 {
            Form::Word(band) => band,
            Form::Level(0..=3) => Band::Low,
            Form::Level(4..=6) => Band::Medium,
            Form::Level(7..=8) => Band::High,
            Form::Level(_) => Band::VeryHigh,
        }
    }

    /// The header text: `0`..`10`, or the word.
    pub fn as_str(self) -> &'static str {
        const LEVELS: [&str; 11] = ["0", "1", "2", "3", "4", "5", "6", "7", "8", "9", "10"];
        match self.0 {
            Form::Level(level) => LEVELS.get(usize::from(level)).copied().unwrap_or("10"),
            Form::Word(band) => band.as_str(),
        }
    }

    /// [`Severity::as_str`] in a block padded with zeros, and its length: written with
    /// [`push_block`](crate::block::push_block), a copy of fixed size.
    #[inline]
    pub(crate) fn text_block(self) -> ([u8; 16], usize) {
        const fn block(text: &str) -> ([u8; 16], usize) {
            let bytes = text.as_bytes();
            let mut block = [0u8; 16];
            let mut index = 0;
            while index < bytes.len() {
                block[index] = bytes[index];
                index += 1;
            }
            (block, bytes.len())
        }
        static LEVELS: [([u8; 16], usize); 11] = [
            block("0"),
            block("1"),
            block("2"),
            block("3"),
            block("4"),
            block("5"),
            block("6"),
            block("7"),
            block("8"),
            block("9"),
            block("10"),
        ];
        static BANDS: [([u8; 16], usize); 5] = [
            block("Unknown"),
            block("Low"),
            block("Medium"),
            block("High"),
            block("Very-High"),
        ];
        match self.0 {
            Form::Level(level) => LEVELS
                .get(usize::from(level))
                .copied()
                .unwrap_or(LEVELS[10]),
            Form::Word(band) => BANDS[band as usize],
        }
    }

    /// Reads a severity leniently: surrounding spaces, any letter case, `Very High` or
    /// `VeryHigh`, and whole-valued decimals such as `4.0`.
    pub fn parse_lenient(text: &str) -> Result<Severity, ParseSeverityError> {
        let trimmed = text.trim();
        if let Ok(severity) = trimmed.parse() {
            return Ok(severity);
        }
        let word: String = trimmed
            .chars()
            .filter(|c| !matches!(c, '-' | ' ' | '_'))
            .flat_map(char::to_lowercase)
            .collect();
        let band = match word.as_str() {
            "unknown" => Band::Unknown,
            "low" => Band::Low,
            "medium" => Band::Medium,
            "high" => Band::High,
            "veryhigh" => Band::VeryHigh,
            _ => {
                return trimmed
                    .strip_suffix(".0")
                    .and_then(|whole| whole.parse::<u8>().ok())
                    .and_then(|level| Severity::new(level).ok())
                    .ok_or_else(|| ParseSeverityError(text.to_owned()));
            }
        };
        Ok(Severity::from_band(band))
    }
}

impl FromStr for Severity {
    type Err = ParseSeverityError;

    /// Reads a severity exactly as the spec writes it: `0`..`10` without sign or leading
    /// zeros, or one of the words in their exact case.
    fn from_str(text: &str) -> Result<Severity, ParseSeverityError> {
        let band = match text {
            "Unknown" => Band::Unknown,
            "Low" => Band::Low,
            "Medium" => Band::Medium,
            "High" => Band::High,
            "Very-High" => Band::VeryHigh,
            _ => {
                let canonical =
                    (0..=10u8).find(|level| Severity(Form::Level(*level)).as_str() == text);
                return canonical
                    .map(|level| Severity(Form::Level(level)))
                    .ok_or_else(|| ParseSeverityError(text.to_owned()));
            }
        };
        Ok(Severity::from_band(band))
    }
}

impl From<Band> for Severity {
    fn from(band: Band) -> Severity {
        Severity::from_band(band)
    }
}

impl fmt::Display for Severity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn levels_map_to_bands() {
        let bands: Vec<Band> = (0..=10).map(|l| Severity::new(l).unwrap().band()).collect();
        use Band::*;
        assert_eq!(
            bands,
            [
                Low, Low, Low, Low, Medium, Medium, Medium, High, High, VeryHigh, VeryHigh
            ]
        );
        assert_eq!(Severity::UNKNOWN.band(), Unknown);
    }

    #[test]
    fn out_of_range_level_is_an_error() {
        assert_eq!(Severity::new(11), Err(SeverityOutOfRange(11)));
        assert_eq!(
            SeverityOutOfRange(11).to_string(),
            "CEF severity level 11 is out of range 0-10"
        );
    }

    #[test]
    fn every_text_block_holds_the_text() {
        let words = [
            Band::Unknown,
            Band::Low,
            Band::Medium,
            Band::High,
            Band::VeryHigh,
        ];
        let severities = (0..=10)
            .map(|level| Severity::new(level).unwrap())
            .chain(words.map(Severity::from_band));
        for severity in severities {
            let (block, len) = severity.text_block();
            assert_eq!(&block[..len], severity.as_str().as_bytes());
        }
    }

    #[test]
    fn every_form_round_trips_through_text() {
        let words = [
            Band::Unknown,
            Band::Low,
            Band::Medium,
            Band::High,
            Band::VeryHigh,
        ];
        let all = (0..=10)
            .map(|l| Severity::new(l).unwrap())
            .chain(words.into_iter().map(Severity::from));
        for severity in all {
            assert_eq!(severity.to_string().parse::<Severity>(), Ok(severity));
        }
    }

    #[test]
    fn strict_parsing_rejects_near_misses() {
        for text in ["", "11", "-1", "+3", "03", "high", "Very High", " 5", "5.0"] {
            assert_eq!(
                text.parse::<Severity>(),
                Err(ParseSeverityError(text.to_owned())),
                "{text:?}"
            );
        }
    }

    #[test]
    fn lenient_parsing_accepts_real_world_spellings() {
        assert_eq!(Severity::parse_lenient(" high "), Ok(Severity::HIGH));
        assert_eq!(
            Severity::parse_lenient("Very High"),
            Ok(Severity::VERY_HIGH)
        );
        assert_eq!(Severity::parse_lenient("VERYHIGH"), Ok(Severity::VERY_HIGH));
        assert_eq!(
            Severity::parse_lenient("4.0"),
            Ok(Severity::new(4).unwrap())
        );
        assert_eq!(
            Severity::parse_lenient("severe"),
            Err(ParseSeverityError("severe".to_owned()))
        );
        assert!(Severity::parse_lenient("12").is_err());
    }
}
