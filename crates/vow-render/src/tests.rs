//! Each template renders a sample model; HTML escapes hostile values, Markdown and
//! text do not HTML-escape.
