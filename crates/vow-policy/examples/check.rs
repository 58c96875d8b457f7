fn main() {
    let path = std::env::args().nth(1).unwrap_or_default();
    let src = std::fs::read_to_string(&path).unwrap_or_default();
    match vow_policy::parse(&src, &path) {
        Ok(c) => {
            for w in &c.warnings {
                println!("{w}");
            }
            if std::env::args().nth(2).as_deref() == Some("md") {
                println!("{}", vow_policy::render_markdown(&c.policy, Some(3)));
            }
            if std::env::args().nth(2).as_deref() == Some("html") {
                println!("{}", vow_policy::render_html(&c.policy, Some(3)));
            }
        }
        Err(ds) => {
            for d in ds {
                println!("{d}");
            }
        }
    }
}
