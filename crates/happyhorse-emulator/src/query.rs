//! Query-string parameters (`application/x-www-form-urlencoded`).

/// The decoded value of the first `name=…` in `query`.
pub(crate) fn param(query: Option<&str>, name: &str) -> Option<String> {
    query?
        .split('&')
        .filter_map(|pair| {
            let (key, value) = pair.split_once('=').unwrap_or((pair, ""));
            (decode(key) == name).then(|| decode(value))
        })
        .next()
}

fn decode(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'+' => out.push(b' '),
            b'%' if i + 2 < bytes.len() => match (hex(bytes[i + 1]), hex(bytes[i + 2])) {
                (Some(high), Some(low)) => {
                    out.push(high << 4 | low);
                    i += 2;
                }
                _ => out.push(b'%'),
            },
            byte => out.push(byte),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

fn hex(digit: u8) -> Option<u8> {
    (digit as char).to_digit(16).map(|d| d as u8)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_and_decodes() {
        let query = Some("search=happy%20horse&include_schema=true&category=image-to-video&x=a+b");
        assert_eq!(param(query, "search").as_deref(), Some("happy horse"));
        assert_eq!(param(query, "include_schema").as_deref(), Some("true"));
        assert_eq!(param(query, "x").as_deref(), Some("a b"));
        assert_eq!(param(query, "missing"), None);
        assert_eq!(param(None, "search"), None);
        assert_eq!(param(Some("flag"), "flag").as_deref(), Some(""));
        assert_eq!(param(Some("bad=%zz%"), "bad").as_deref(), Some("%zz%"));
    }
}
