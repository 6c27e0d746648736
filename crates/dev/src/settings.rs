//! Parsing a service's settings from flags, as its own subcommand would:
//! `outlayer dev` decides a few values and every default stays the one
//! defined on the service's clap struct.

/// `T` parsed from `flags` (environment fallbacks apply, as on the command line).
pub fn parse_flags<T: clap::Args>(flags: &[&str]) -> Result<T, clap::Error> {
    let command = T::augment_args(clap::Command::new("settings").no_binary_name(true));
    let matches = command.try_get_matches_from(flags)?;
    <T as clap::FromArgMatches>::from_arg_matches(&matches)
}
