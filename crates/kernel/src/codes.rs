//! Code lists the kernel validates against.

/// ISO 3166-1 alpha-2 officially assigned codes (sorted, for `in_list`), plus `XI` (Northern Ireland, used in EU
/// customs since 2021) and `XK` (Kosovo, user-assigned but used by the EU and in EORI numbers).
const ISO3166_ALPHA2: &[&str] = &[
    "AD", "AE", "AF", "AG", "AI", "AL", "AM", "AO", "AQ", "AR", "AS", "AT", "AU", "AW", "AX", "AZ",
    "BA", "BB", "BD", "BE", "BF", "BG", "BH", "BI", "BJ", "BL", "BM", "BN", "BO", "BQ", "BR", "BS",
    "BT", "BV", "BW", "BY", "BZ", "CA", "CC", "CD", "CF", "CG", "CH", "CI", "CK", "CL", "CM", "CN",
    "CO", "CR", "CU", "CV", "CW", "CX", "CY", "CZ", "DE", "DJ", "DK", "DM", "DO", "DZ", "EC", "EE",
    "EG", "EH", "ER", "ES", "ET", "FI", "FJ", "FK", "FM", "FO", "FR", "GA", "GB", "GD", "GE", "GF",
    "GG", "GH", "GI", "GL", "GM", "GN", "GP", "GQ", "GR", "GS", "GT", "GU", "GW", "GY", "HK", "HM",
    "HN", "HR", "HT", "HU", "ID", "IE", "IL", "IM", "IN", "IO", "IQ", "IR", "IS", "IT", "JE", "JM",
    "JO", "JP", "KE", "KG", "KH", "KI", "KM", "KN", "KP", "KR", "KW", "KY", "KZ", "LA", "LB", "LC",
    "LI", "LK", "LR", "LS", "LT", "LU", "LV", "LY", "MA", "MC", "MD", "ME", "MF", "MG", "MH", "MK",
    "ML", "MM", "MN", "MO", "MP", "MQ", "MR", "MS", "MT", "MU", "MV", "MW", "MX", "MY", "MZ", "NA",
    "NC", "NE", "NF", "NG", "NI", "NL", "NO", "NP", "NR", "NU", "NZ", "OM", "PA", "PE", "PF", "PG",
    "PH", "PK", "PL", "PM", "PN", "PR", "PS", "PT", "PW", "PY", "QA", "RE", "RO", "RS", "RU", "RW",
    "SA", "SB", "SC", "SD", "SE", "SG", "SH", "SI", "SJ", "SK", "SL", "SM", "SN", "SO", "SR", "SS",
    "ST", "SV", "SX", "SY", "SZ", "TC", "TD", "TF", "TG", "TH", "TJ", "TK", "TL", "TM", "TN", "TO",
    "TR", "TT", "TV", "TW", "TZ", "UA", "UG", "UM", "US", "UY", "UZ", "VA", "VC", "VE", "VG", "VI",
    "VN", "VU", "WF", "WS", "XI", "XK", "YE", "YT", "ZA", "ZM", "ZW",
];

/// ISO 4217 active currency codes (sorted, for `in_list`).
const ISO4217: &[&str] = &[
    "AED", "AFN", "ALL", "AMD", "ANG", "AOA", "ARS", "AUD", "AWG", "AZN", "BAM", "BBD", "BDT",
    "BGN", "BHD", "BIF", "BMD", "BND", "BOB", "BRL", "BSD", "BTN", "BWP", "BYN", "BZD", "CAD",
    "CDF", "CHF", "CLP", "CNY", "COP", "CRC", "CUP", "CVE", "CZK", "DJF", "DKK", "DOP", "DZD",
    "EGP", "ERN", "ETB", "EUR", "FJD", "FKP", "GBP", "GEL", "GHS", "GIP", "GMD", "GNF", "GTQ",
    "GYD", "HKD", "HNL", "HTG", "HUF", "IDR", "ILS", "INR", "IQD", "IRR", "ISK", "JMD", "JOD",
    "JPY", "KES", "KGS", "KHR", "KMF", "KPW", "KRW", "KWD", "KYD", "KZT", "LAK", "LBP", "LKR",
    "LRD", "LSL", "LYD", "MAD", "MDL", "MGA", "MKD", "MMK", "MNT", "MOP", "MRU", "MUR", "MVR",
    "MWK", "MXN", "MYR", "MZN", "NAD", "NGN", "NIO", "NOK", "NPR", "NZD", "OMR", "PAB", "PEN",
    "PGK", "PHP", "PKR", "PLN", "PYG", "QAR", "RON", "RSD", "RUB", "RWF", "SAR", "SBD", "SCR",
    "SDG", "SEK", "SGD", "SHP", "SLE", "SOS", "SRD", "SSP", "STN", "SVC", "SYP", "SZL", "THB",
    "TJS", "TMT", "TND", "TOP", "TRY", "TTD", "TWD", "TZS", "UAH", "UGX", "USD", "UYU", "UZS",
    "VED", "VES", "VND", "VUV", "WST", "XAF", "XCD", "XCG", "XOF", "XPF", "YER", "ZAR", "ZMW",
    "ZWG",
];

/// Is `code` in `list`? The lists are sorted (a test checks), so this is a binary search.
fn in_list(list: &[&str], code: &str) -> bool {
    list.binary_search(&code).is_ok()
}

/// Is `code` an assigned ISO 3166-1 alpha-2 country code (upper case)?
pub fn is_iso3166_alpha2(code: &str) -> bool {
    code.len() == 2 && in_list(ISO3166_ALPHA2, code)
}

/// Is `code` an active ISO 4217 currency code (upper case)?
pub fn is_iso4217(code: &str) -> bool {
    code.len() == 3 && in_list(ISO4217, code)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lists_are_sorted_unique_and_well_formed() {
        for (list, len) in [(ISO3166_ALPHA2, 2), (ISO4217, 3)] {
            assert!(
                list.windows(2).all(|w| w[0] < w[1]),
                "list not strictly sorted"
            );
            assert!(list
                .iter()
                .all(|c| c.len() == len && c.bytes().all(|b| b.is_ascii_uppercase())));
        }
        assert_eq!(ISO3166_ALPHA2.len(), 251);
        assert_eq!(ISO4217.len(), 157);
    }

    #[test]
    fn membership() {
        for c in ["AD", "NL", "XI", "XK", "ZW", "GB", "CN"] {
            assert!(is_iso3166_alpha2(c), "{c}");
        }
        for c in ["", "A", "AA", "UK", "EU", "nl", "NLD", "ZZ", "XA"] {
            assert!(!is_iso3166_alpha2(c), "{c}");
        }
        for c in ["AED", "EUR", "GBP", "USD", "ZWG"] {
            assert!(is_iso4217(c), "{c}");
        }
        for c in ["", "EU", "eur", "EURO", "XXX", "AAA", "ZZZ"] {
            assert!(!is_iso4217(c), "{c}");
        }
    }
}
