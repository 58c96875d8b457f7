//! Plain text: lines filled to 76 columns, and the glue that keeps a date on one line.

/// Joins the words of a unit the text wrapper must not break (a date); both
/// renderings turn it back into a space.
pub const GLUE: char = '\u{E000}';

/// Text bodies are wrapped at this many columns.
pub(crate) const WIDTH: usize = 76;

/// `text` wrapped at [`WIDTH`], the first line after `first`, the others after `rest`,
/// lines parted by a newline (none after the last). Words longer than a line are
/// split, except links and addresses, which stay whole on their own line.
pub(crate) fn wrap(text: &str, first: &str, rest: &str) -> String {
    let mut out = String::new();
    let mut line = String::from(first);
    let mut len = first.chars().count();
    let mut empty = true;
    let end_line = |out: &mut String, line: &str| {
        if !out.is_empty() {
            out.push('\n');
        }
        out.push_str(line);
    };
    for word in text.split_whitespace() {
        let mut word = word;
        loop {
            let wlen = word.chars().count();
            let room = WIDTH.saturating_sub(len);
            let needed = if empty { wlen } else { wlen + 1 };
            if needed <= room {
                if !empty {
                    line.push(' ');
                }
                line.push_str(word);
                len += needed;
                empty = false;
                break;
            }
            if !empty {
                end_line(&mut out, &line);
                line = String::from(rest);
                len = rest.chars().count();
                empty = true;
                continue;
            }
            // An empty line and still no room: the word alone is longer than a line.
            if unbreakable(word) {
                line.push_str(word);
                len += wlen;
                empty = false;
                break;
            }
            let avail = room.max(1);
            let cut = word
                .char_indices()
                .nth(avail)
                .map_or(word.len(), |(i, _)| i);
            line.push_str(&word[..cut]);
            end_line(&mut out, &line);
            line = String::from(rest);
            len = rest.chars().count();
            word = &word[cut..];
            if word.is_empty() {
                break;
            }
        }
    }
    if !empty {
        end_line(&mut out, &line);
    }
    out.replace(GLUE, " ")
}

fn unbreakable(word: &str) -> bool {
    word.contains("://") || word.contains('@') || word.starts_with("mailto:")
}
