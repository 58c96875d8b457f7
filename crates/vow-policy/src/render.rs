//! Markdown and HTML renderings of the notice, by vow-render's `document` templates.
//! Every piece of policy text is escaped: a name such as `<script>` is shown, never run.

use crate::notice;
use vow_core::Policy;

/// The notice as Markdown (GitHub-flavoured tables). `version` is the published
/// version number, if the policy has been published.
pub fn render_markdown(policy: &Policy, version: Option<u32>) -> String {
    notice::build(policy, version).to_markdown()
}

/// The notice as a complete, standalone HTML5 document: no external resources, no
/// JavaScript (its Content-Security-Policy forbids both), all policy text escaped.
pub fn render_html(policy: &Policy, version: Option<u32>) -> String {
    notice::build(policy, version).to_html()
}

/// The notice as a document model, for a page that lays it out in its own frame
/// (the server's `/privacy/{t}`).
pub fn notice(policy: &Policy, version: Option<u32>) -> notice::Notice {
    notice::build(policy, version)
}
