//! A page form's body as fields: `application/x-www-form-urlencoded`, or
//! `multipart/form-data` (RFC 7578) for a form with a file. A small reader of our own
//! forms: at most [`MAX_PARTS`] parts, names and file names as text, contents as bytes.

use axum::http::{HeaderMap, header};

/// At most this many fields are read from one body.
pub const MAX_PARTS: usize = 64;

/// One field of a form.
#[derive(Clone)]
pub struct Part {
    pub name: String,
    /// Set for a file field (empty when no file was chosen).
    pub filename: Option<String>,
    pub data: Vec<u8>,
}

impl Part {
    /// The field's value as text (lossy), trimmed.
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.data).trim().to_string()
    }
}

/// The fields of a body, in order; None when it is neither encoding or is malformed.
pub fn parts(headers: &HeaderMap, body: &[u8]) -> Option<Vec<Part>> {
    let kind = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    let lower = kind.to_ascii_lowercase();
    if lower.starts_with("multipart/form-data") {
        let boundary = kind.split(';').find_map(|p| {
            let (k, v) = p.trim().split_once('=')?;
            k.trim()
                .eq_ignore_ascii_case("boundary")
                .then(|| v.trim().trim_matches('"').to_string())
        })?;
        if boundary.is_empty() || boundary.len() > 70 {
            return None;
        }
        return multipart(body, &boundary);
    }
    if lower.is_empty() || lower.starts_with("application/x-www-form-urlencoded") {
        return Some(
            url::form_urlencoded::parse(body)
                .take(MAX_PARTS)
                .map(|(k, v)| Part {
                    name: k.into_owned(),
                    filename: None,
                    data: v.into_owned().into_bytes(),
                })
                .collect(),
        );
    }
    None
}

/// The value of the first field called `name`, as text.
pub fn field(parts: &[Part], name: &str) -> String {
    parts
        .iter()
        .find(|p| p.name == name && p.filename.is_none())
        .map(Part::text)
        .unwrap_or_default()
}

/// Every value of the fields called `name` (check boxes).
pub fn fields(parts: &[Part], name: &str) -> Vec<String> {
    parts
        .iter()
        .filter(|p| p.name == name && p.filename.is_none())
        .map(Part::text)
        .collect()
}

fn find(hay: &[u8], needle: &[u8], from: usize) -> Option<usize> {
    hay.get(from..)?
        .windows(needle.len())
        .position(|w| w == needle)
        .map(|i| i + from)
}

fn multipart(body: &[u8], boundary: &str) -> Option<Vec<Part>> {
    let delim = format!("--{boundary}");
    let next = format!("\r\n--{boundary}");
    let mut at = find(body, delim.as_bytes(), 0)? + delim.len();
    let mut out = Vec::new();
    loop {
        let rest = body.get(at..)?;
        if rest.starts_with(b"--") {
            return Some(out);
        }
        if !rest.starts_with(b"\r\n") || out.len() >= MAX_PARTS {
            return None;
        }
        let head_start = at + 2;
        let head_end = find(body, b"\r\n\r\n", head_start)?;
        let head = std::str::from_utf8(body.get(head_start..head_end)?).ok()?;
        let data_start = head_end + 4;
        let data_end = find(body, next.as_bytes(), data_start)?;
        let (name, filename) = disposition(head)?;
        out.push(Part {
            name,
            filename,
            data: body.get(data_start..data_end)?.to_vec(),
        });
        at = data_end + next.len();
    }
}

/// The field name and file name of a part's `Content-Disposition: form-data`.
fn disposition(head: &str) -> Option<(String, Option<String>)> {
    let line = head
        .lines()
        .find(|l| l.to_ascii_lowercase().starts_with("content-disposition:"))?;
    let value = |key: &str| {
        line.split(';').find_map(|p| {
            let (k, v) = p.trim().split_once('=')?;
            (k.trim() == key).then(|| v.trim().trim_matches('"').to_string())
        })
    };
    Some((value("name")?, value("filename")))
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    fn typed(v: &'static str) -> HeaderMap {
        let mut h = HeaderMap::new();
        h.insert(header::CONTENT_TYPE, HeaderValue::from_static(v));
        h
    }

    #[test]
    fn both_encodings_give_the_fields() {
        let p = parts(
            &typed("application/x-www-form-urlencoded"),
            b"a=1&b=x+y&b=z",
        )
        .unwrap();
        assert_eq!(field(&p, "a"), "1");
        assert_eq!(fields(&p, "b"), ["x y", "z"]);
        let body = b"--XyZ\r\nContent-Disposition: form-data; name=\"csrf\"\r\n\r\ntok\r\n--XyZ\r\nContent-Disposition: form-data; name=\"doc\"; filename=\"a.pdf\"\r\nContent-Type: application/pdf\r\n\r\n%PDF-1.7\r\n\r\n--XyZ--\r\n";
        let p = parts(&typed("multipart/form-data; boundary=XyZ"), body).unwrap();
        assert_eq!(field(&p, "csrf"), "tok");
        let doc = p.iter().find(|x| x.name == "doc").unwrap();
        assert_eq!(doc.filename.as_deref(), Some("a.pdf"));
        assert_eq!(doc.data, b"%PDF-1.7\r\n");
        assert!(
            parts(
                &typed("multipart/form-data; boundary=XyZ"),
                b"--XyZ\r\nbroken"
            )
            .is_none()
        );
        assert!(parts(&typed("text/plain"), b"a=1").is_none());
    }
}
