//! Numbers in messages: sizes in SI megabytes with the exact bytes beside them, thousands
//! separators, lists joined with "or".

/// `10485770` → `10,485,770`.
pub(crate) fn thousands(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// Bytes in SI megabytes, the unit of the size rules: `10.49 MB`.
pub(crate) fn megabytes(bytes: u64) -> String {
    format!("{:.2} MB", bytes as f64 / 1_000_000.0)
}

/// A limit as the model page writes it, with the exact number: `10 MB (10,000,000 bytes)`.
pub(crate) fn size_limit(bytes: u64) -> String {
    let mb = if bytes.is_multiple_of(1_000_000) {
        format!("{} MB", bytes / 1_000_000)
    } else {
        megabytes(bytes)
    };
    format!("{mb} ({} bytes)", thousands(bytes))
}

/// A size as found: `10.49 MB (10,485,760 bytes)`.
pub(crate) fn sized(bytes: u64) -> String {
    format!("{} ({} bytes)", megabytes(bytes), thousands(bytes))
}

/// `["A"]` → `A`; `["A", "B"]` → `A or B`; `["A", "B", "C"]` → `A, B or C`.
pub(crate) fn or_list(items: &[String]) -> String {
    match items {
        [] => String::new(),
        [one] => one.clone(),
        [init @ .., last] => format!("{} or {last}", init.join(", ")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_and_lists_read_naturally() {
        assert_eq!(thousands(10_485_770), "10,485,770");
        assert_eq!(size_limit(10_000_000), "10 MB (10,000,000 bytes)");
        assert_eq!(size_limit(48_500_000), "48.50 MB (48,500,000 bytes)");
        assert_eq!(sized(10_485_760), "10.49 MB (10,485,760 bytes)");
        let list =
            |items: &[&str]| or_list(&items.iter().map(|s| s.to_string()).collect::<Vec<_>>());
        assert_eq!(list(&["JPEG"]), "JPEG");
        assert_eq!(list(&["MP4", "MOV"]), "MP4 or MOV");
        assert_eq!(list(&["JPEG", "PNG", "WEBP"]), "JPEG, PNG or WEBP");
    }
}
