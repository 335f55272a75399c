//! Check digits of Japanese public codes.

/// Check digit of a 全国地方公共団体コード (local government code): the five digits are
/// weighted 6, 5, 4, 3, 2, summed, and the check digit is the last digit of
/// 11 − (sum mod 11).
///
/// Source: 総務省「全国地方公共団体コード」検査数字の算出方法. Example: 札幌市 01100 → 011002.
/// Returns `None` when `five` is not five ASCII digits.
pub fn municipality_check_digit(five: &str) -> Option<u8> {
    let b = five.as_bytes();
    if b.len() != 5 || !b.iter().all(u8::is_ascii_digit) {
        return None;
    }
    let sum: u32 = b
        .iter()
        .zip([6u32, 5, 4, 3, 2])
        .map(|(c, w)| (c - b'0') as u32 * w)
        .sum();
    Some(((11 - sum % 11) % 10) as u8)
}

/// True when `code` is a 6-digit 全国地方公共団体コード with a correct check digit.
pub fn is_valid_municipality_code(code: &str) -> bool {
    code.len() == 6
        && code
            .get(..5)
            .and_then(municipality_check_digit)
            .is_some_and(|c| code.as_bytes()[5] == b'0' + c)
}

/// Check digit of the 2-1 weighted modulus-10 scheme used by 保険者番号 and
/// 医療機関コード: digits are weighted 2, 1, 2, 1, … from the right, the digits of the
/// products are summed, and the check digit is (10 − sum mod 10) mod 10. `None` when
/// `digits` is empty or not all ASCII digits.
pub fn weighted_21_check_digit(digits: &str) -> Option<u8> {
    let b = digits.as_bytes();
    if b.is_empty() || !b.iter().all(u8::is_ascii_digit) {
        return None;
    }
    let sum: u32 = b
        .iter()
        .rev()
        .enumerate()
        .map(|(i, c)| {
            let p = (c - b'0') as u32 * if i % 2 == 0 { 2 } else { 1 };
            p / 10 + p % 10
        })
        .sum();
    Some(((10 - sum % 10) % 10) as u8)
}

/// 検証番号 (check digit) of a 保険者番号 from its first seven digits (法別番号 +
/// 都道府県番号 + 保険者別番号), by [`weighted_21_check_digit`].
///
/// Source: 保険者番号の検証番号の算出方法 (厚生労働省). Example: 後期 insurer 3913103 → 39131032
/// (the insurer of the ORCA 後期 sample receipt).
pub fn insurer_check_digit(seven: &str) -> Option<u8> {
    if seven.len() != 7 {
        return None;
    }
    weighted_21_check_digit(seven)
}

/// True when `code` is an 8-digit 保険者番号 with a correct 検証番号.
pub fn is_valid_insurer_number(code: &str) -> bool {
    code.len() == 8
        && code
            .get(..7)
            .and_then(insurer_check_digit)
            .is_some_and(|c| code.as_bytes()[7] == b'0' + c)
}

/// The 8-digit 後期高齢者医療 insurer number of a municipality: 法別番号 39, the 2-digit
/// prefecture, the last three digits of the 5-digit municipality code, and the check digit.
/// `None` when `municipality_code` does not start with 5 digits.
pub fn late_elderly_insurer_number(municipality_code: &str) -> Option<String> {
    let five = municipality_code.get(..5)?;
    if !five.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let seven = format!("39{five}");
    let c = insurer_check_digit(&seven)?;
    Some(format!("{seven}{c}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Text that is not ASCII digits is invalid, never a panic: these cut a character in
    /// the middle when sliced by byte (東 is three bytes in UTF-8).
    #[test]
    fn multibyte_codes_are_invalid_not_a_panic() {
        assert!(!is_valid_municipality_code("東京")); // 6 bytes
        assert!(!is_valid_municipality_code("1234é")); // 6 bytes, é across byte 5
        assert!(!is_valid_insurer_number("東京ab")); // 8 bytes
        assert!(!is_valid_insurer_number("123456é")); // 8 bytes, é across byte 7
        assert_eq!(late_elderly_insurer_number("東ab12"), None);
        assert_eq!(late_elderly_insurer_number("ab東"), None);
        assert_eq!(
            late_elderly_insurer_number("31201"),
            Some("39312012".into())
        );
    }

    #[test]
    fn municipality_examples() {
        // From reference/codes/localgovjp-utf8.csv: 札幌市 011002, 札幌市中央区 011011.
        assert_eq!(municipality_check_digit("01100"), Some(2));
        assert!(is_valid_municipality_code("011002"));
        assert!(is_valid_municipality_code("011011"));
        assert!(!is_valid_municipality_code("011003"));
        assert!(!is_valid_municipality_code("01100"));
        // 鳥取市 31201 → 312011: 3*6+1*5+2*4+0+1*2 = 33, 33 mod 11 = 0, 11-0=11 → 1.
        assert_eq!(municipality_check_digit("31201"), Some(1));
    }

    #[test]
    fn insurer_examples() {
        // ORCA sample 後期 receipt: 39131032 (東京都 港区 13103).
        assert_eq!(insurer_check_digit("3913103"), Some(2));
        assert!(is_valid_insurer_number("39131032"));
        assert!(!is_valid_insurer_number("39131033"));
        assert_eq!(
            late_elderly_insurer_number("131032").as_deref(),
            Some("39131032")
        );
    }
}
