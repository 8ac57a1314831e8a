//! Chinese resident identity numbers (公民身份号码, GB 11643-1999) and disability certificate
//! numbers (残疾人证号), as R10 requires them to pass the checksum.
//!
//! An ID number has 18 characters: a 6-digit address code, an 8-digit birth date (YYYYMMDD), a
//! 3-digit sequence whose last digit is odd for men and even for women, and a check character
//! from ISO 7064 MOD 11-2 (`0`–`9` or `X`). A second-generation disability certificate number
//! (第二代残疾人证) is the holder's ID number followed by the disability category (1–7:
//! 视力/听力/言语/肢体/智力/精神/多重) and grade (1–4), so 20 characters.
//!
//! Not here: the address code is not looked up (that needs the national division table), and
//! city-wide uniqueness is the store's job, as it needs every household.

use chrono::Datelike;

use super::codes::Gender;
use crate::values::Date;

/// Weights of the first 17 characters.
const WEIGHTS: [u32; 17] = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2];
/// The check character for each weighted sum modulo 11.
const CHECK_CHARS: [char; 11] = ['1', '0', 'X', '9', '8', '7', '6', '5', '4', '3', '2'];
/// Oldest birth year accepted: nobody alive was born earlier.
const MIN_BIRTH_YEAR: i32 = 1890;

/// Why a string is not a valid ID (or disability certificate) number.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum IdNumberError {
    #[error("an ID number has 18 characters (a disability certificate number 20), not {0}")]
    Length(usize),
    #[error("character {position} `{found}` is not allowed here (digits, and a capital X last)")]
    Character { position: usize, found: char },
    #[error("the birth date {0} in the ID number is not a valid date")]
    BirthDate(String),
    #[error("the check character is `{found}` but the first 17 digits give `{expected}`")]
    Checksum { expected: char, found: char },
    #[error("the disability category and grade `{0}` must be 1–7 and 1–4")]
    DisabilitySuffix(String),
}

/// Checks an 18-character resident ID number: characters, birth date and check character.
/// A lower-case `x` is rejected so that the same number is always stored the same way (the
/// UI upper-cases input before saving).
pub fn check_id_number(s: &str) -> Result<(), IdNumberError> {
    let chars: Vec<char> = s.chars().collect();
    if chars.len() != 18 {
        return Err(IdNumberError::Length(chars.len()));
    }
    for (i, &c) in chars.iter().enumerate() {
        let ok = c.is_ascii_digit() || (i == 17 && c == 'X');
        if !ok {
            return Err(IdNumberError::Character {
                position: i + 1,
                found: c,
            });
        }
    }
    let digits = &s[6..14];
    if birth_date(s).is_none() {
        return Err(IdNumberError::BirthDate(digits.to_string()));
    }
    let expected = check_char(&s[..17]).ok_or(IdNumberError::Length(17))?;
    let found = chars[17];
    if found != expected {
        return Err(IdNumberError::Checksum { expected, found });
    }
    Ok(())
}

/// Checks a 20-character disability certificate number: a valid ID number, then the
/// disability category (1–7) and grade (1–4).
pub fn check_disability_cert(s: &str) -> Result<(), IdNumberError> {
    let n = s.chars().count();
    if n != 20 {
        return Err(IdNumberError::Length(n));
    }
    if let Some((i, c)) = s.char_indices().find(|(_, c)| !c.is_ascii()) {
        return Err(IdNumberError::Character {
            position: s[..i].chars().count() + 1,
            found: c,
        });
    }
    check_id_number(&s[..18])?;
    let suffix = &s[18..];
    let b = suffix.as_bytes();
    let ok = matches!(b, [c, g] if (b'1'..=b'7').contains(c) && (b'1'..=b'4').contains(g));
    if !ok {
        return Err(IdNumberError::DisabilitySuffix(suffix.to_string()));
    }
    Ok(())
}

/// Checks a household member's `id_no`: an ID number, or a disability certificate number
/// (DOMAIN §2.2 allows either).
pub fn check_member_id_no(s: &str) -> Result<(), IdNumberError> {
    if s.chars().count() == 20 {
        check_disability_cert(s)
    } else {
        check_id_number(s)
    }
}

/// The check character of the first 17 digits, or `None` if `first17` is not 17 ASCII digits.
pub fn check_char(first17: &str) -> Option<char> {
    if first17.len() != 17 || !first17.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let sum: u32 = first17
        .bytes()
        .zip(WEIGHTS)
        .map(|(b, w)| u32::from(b - b'0') * w)
        .sum();
    Some(CHECK_CHARS[(sum % 11) as usize])
}

/// The birth date written in an ID (or disability certificate) number, if it is a real date
/// from 1890 on.
pub fn birth_date(s: &str) -> Option<Date> {
    let digits = s.get(6..14)?;
    if !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let year: i32 = digits[..4].parse().ok()?;
    let month: u32 = digits[4..6].parse().ok()?;
    let day: u32 = digits[6..].parse().ok()?;
    Date::from_ymd_opt(year, month, day).filter(|d| d.year() >= MIN_BIRTH_YEAR)
}

/// The gender an ID number encodes (the 17th character: odd for men, even for women).
pub fn gender(s: &str) -> Option<Gender> {
    let d = s.as_bytes().get(16).filter(|b| b.is_ascii_digit())?;
    Some(if (d - b'0') % 2 == 1 {
        Gender::Male
    } else {
        Gender::Female
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Builds a valid number from an address code, a birth date and a sequence number.
    fn make(address: &str, birth: &str, seq: &str) -> String {
        let first17 = format!("{address}{birth}{seq}");
        let check = check_char(&first17).expect("17 digits");
        format!("{first17}{check}")
    }

    #[test]
    fn the_published_sample_number_is_valid() {
        // The GB 11643 sample: born 1949-12-31 in Beijing's Chaoyang district, check char X.
        assert_eq!(check_id_number("11010519491231002X"), Ok(()));
        assert_eq!(
            birth_date("11010519491231002X"),
            Date::from_ymd_opt(1949, 12, 31)
        );
        assert_eq!(gender("11010519491231002X"), Some(Gender::Female));
    }

    #[test]
    fn numbers_built_with_the_algorithm_pass_and_every_single_digit_change_fails() {
        let id = make("530322", "19680412", "201");
        assert_eq!(id, "530322196804122018");
        assert_eq!(check_id_number(&id), Ok(()));
        assert_eq!(gender(&id), Some(Gender::Male));
        // MOD 11-2 catches every single-digit error: change each of the first 17 digits.
        for i in 0..17 {
            let mut bytes = id.clone().into_bytes();
            bytes[i] = if bytes[i] == b'9' { b'0' } else { bytes[i] + 1 };
            let changed = String::from_utf8(bytes).expect("ascii");
            assert!(
                check_id_number(&changed).is_err(),
                "changed digit {i}: {changed}"
            );
        }
    }

    #[test]
    fn a_wrong_check_character_reports_the_expected_one() {
        assert_eq!(
            check_id_number("110105194912310021"),
            Err(IdNumberError::Checksum {
                expected: 'X',
                found: '1'
            })
        );
    }

    #[test]
    fn length_characters_and_birth_date_are_checked() {
        assert_eq!(
            check_id_number("53032219680412201"),
            Err(IdNumberError::Length(17))
        );
        assert_eq!(check_id_number(""), Err(IdNumberError::Length(0)));
        assert_eq!(
            check_id_number("11010519491231002x"),
            Err(IdNumberError::Character {
                position: 18,
                found: 'x'
            })
        );
        assert_eq!(
            check_id_number("5303221968O4122018"),
            Err(IdNumberError::Character {
                position: 11,
                found: 'O'
            })
        );
        assert_eq!(
            check_id_number("53032219680412201１"),
            Err(IdNumberError::Character {
                position: 18,
                found: '１'
            })
        );
        let feb30 = make("530322", "19680230", "201");
        assert_eq!(
            check_id_number(&feb30),
            Err(IdNumberError::BirthDate("19680230".into()))
        );
        let too_old = make("530322", "18700101", "201");
        assert_eq!(
            check_id_number(&too_old),
            Err(IdNumberError::BirthDate("18700101".into()))
        );
        let leap = make("530322", "20000229", "202");
        assert_eq!(check_id_number(&leap), Ok(()));
    }

    #[test]
    fn disability_certificate_numbers_are_an_id_number_plus_category_and_grade() {
        let id = make("530322", "19750311", "121");
        assert_eq!(check_member_id_no(&format!("{id}42")), Ok(()));
        assert_eq!(
            check_member_id_no(&format!("{id}82")),
            Err(IdNumberError::DisabilitySuffix("82".into()))
        );
        assert_eq!(
            check_member_id_no(&format!("{id}15")),
            Err(IdNumberError::DisabilitySuffix("15".into()))
        );
        let bad_check = format!("{}0{}", &id[..17], "42");
        assert!(matches!(
            check_member_id_no(&bad_check),
            Err(IdNumberError::Checksum { .. })
        ));
        assert_eq!(check_member_id_no(&id), Ok(()));
        assert_eq!(
            birth_date(&format!("{id}42")),
            Date::from_ymd_opt(1975, 3, 11)
        );
        assert_eq!(
            check_member_id_no("5303221975031112"),
            Err(IdNumberError::Length(16))
        );
    }

    #[test]
    fn check_char_needs_seventeen_digits() {
        assert_eq!(check_char("1101051949123100"), None);
        assert_eq!(check_char("11010519491231002"), Some('X'));
        assert_eq!(check_char("1101051949123100A"), None);
    }
}
