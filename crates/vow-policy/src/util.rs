//! Small helpers shared by the checks and messages.

/// Edit distance between two short strings (insertions, deletions, substitutions).
fn distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    let mut cur = vec![0; b.len() + 1];
    for (i, ca) in a.chars().enumerate() {
        cur[0] = i + 1;
        for (j, cb) in b.iter().enumerate() {
            let cost = usize::from(ca != *cb);
            cur[j + 1] = (prev[j] + cost).min(prev[j + 1] + 1).min(cur[j] + 1);
        }
        std::mem::swap(&mut prev, &mut cur);
    }
    prev[b.len()]
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
    let mut seen: Vec<String> = Vec::new();
    for item in items {
        let item = item.as_ref();
        if seen.iter().any(|s| s == item) {
            continue;
        }
        seen.push(item.to_string());
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
        assert_eq!(suggest("bassis", ["basis", "id"]), Some("basis"));
        assert_eq!(suggest("zzz", ["basis", "id"]), None);
        assert_eq!(did_you_mean("contract", ["consent", "contract"]), "");
        assert_eq!(list(["a", "b", "c"], 2), "a, b … (1 more)");
        assert_eq!(list(["a", "a", "b"], 5), "a, b");
    }
}
