pub fn document() -> &'static str {
    "{}"
}
