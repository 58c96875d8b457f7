//! Small helpers shared by the checks and messages.

/// Edit distance between two short strings: insertions, deletions, substitutions and
/// swaps of neighbouring letters (optimal string alignment).
fn distance(a: &str, b: &str) -> usize {
    let a: Vec<char> = a.chars().collect();
    let b: Vec<char> = b.chars().collect();
    let w = b.len() + 1;
    let mut d = vec![0usize; (a.len() + 1) * w];
    for i in 0..=a.len() {
        d[i * w] = i;
    }
    for (j, cell) in d.iter_mut().enumerate().take(w) {
        *cell = j;
    }
    for i in 1..=a.len() {
        for j in 1..=b.len() {
            let cost = usize::from(a[i - 1] != b[j - 1]);
            let mut v = (d[(i - 1) * w + j] + 1)
                .min(d[i * w + j - 1] + 1)
                .min(d[(i - 1) * w + j - 1] + cost);
            if i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] {
                v = v.min(d[(i - 2) * w + j - 2] + 1);
            }
            d[i * w + j] = v;
        }
    }
    d[a.len() * w + b.len()]
}

/// The candidate closest to `word`, if it is close enough to be a likely typo.
pub(crate) fn suggest<'a, I>(word: &str, candidates: I) -> Option<&'a str>
where
    I: IntoIterator<Item = &'a str>,
{
    if word.len() > 128 {
        return None;
    }
    let limit = (word.chars().count() / 3).max(1);
    candidates
        .into_iter()
        .filter(|c| c.len() <= 128)
        .map(|c| (distance(word, c), c))
        .filter(|(d, _)| *d <= limit)
        .min_by_key(|(d, _)| *d)
        .map(|(_, c)| c)
}

/// ` (did you mean `x`?)`, or nothing.
pub(crate) fn did_you_mean<'a, I>(word: &str, candidates: I) -> String
where
    I: IntoIterator<Item = &'a str>,
{
    match suggest(word, candidates) {
        Some(s) if s != word => format!(" (did you mean `{s}`?)"),
        _ => String::new(),
    }
}

/// `a, b, c` — without repeats, at most `max` items, then `… (n more)`.
pub(crate) fn list<I, S>(items: I, max: usize) -> String
where
    I: IntoIterator<Item = S>,
    S: AsRef<str>,
{
    let mut out = String::new();
    let mut extra = 0usize;
    let mut seen: std::collections::HashSet<String> = std::collections::HashSet::new();
    for item in items {
        let item = item.as_ref();
        if !seen.insert(item.to_string()) {
            continue;
        }
        let i = seen.len() - 1;
        if i >= max {
            extra += 1;
            continue;
        }
        if i > 0 {
            out.push_str(", ");
        }
        out.push_str(item);
    }
    if extra > 0 {
        out.push_str(&format!(" … ({extra} more)"));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn suggestions() {
        assert_eq!(distance("kitten", "sitting"), 3);
        assert_eq!(distance("lable", "label"), 1);
        assert_eq!(distance("", "abc"), 3);
        assert_eq!(suggest("bassis", ["basis", "id"]), Some("basis"));
        assert_eq!(suggest("zzz", ["basis", "id"]), None);
        assert_eq!(did_you_mean("contract", ["consent", "contract"]), "");
        assert_eq!(list(["a", "b", "c"], 2), "a, b … (1 more)");
        assert_eq!(list(["a", "a", "b"], 5), "a, b");
    }
}
