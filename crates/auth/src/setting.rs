//! How provider configs read their optional settings, one convention for all: a setting counts as
//! unset when it is absent or blank, and so does an environment variable; filling from the
//! environment takes the first variable named that is set and never overwrites a set setting.

use crate::Secret;

/// The setting, trimmed, unless it is unset or blank.
// Only the remote providers have optional plain-text settings.
#[cfg_attr(not(feature = "remote"), allow(dead_code))]
pub(crate) fn non_empty(v: &Option<String>) -> Option<&str> {
    v.as_deref().map(str::trim).filter(|s| !s.is_empty())
}

/// [`non_empty`] for a secret setting.
pub(crate) fn non_empty_secret(v: &Option<Secret>) -> Option<&str> {
    v.as_ref()
        .map(|s| s.expose().trim())
        .filter(|s| !s.is_empty())
}

/// The value of the first of `vars` that is set and not blank.
pub(crate) fn first_set(lookup: &impl Fn(&str) -> Option<String>, vars: &[&str]) -> Option<String> {
    vars.iter()
        .find_map(|var| lookup(var).filter(|v| !v.trim().is_empty()))
}

/// Fills `field` from the first of `vars` that is set, when `field` is absent or blank.
#[cfg_attr(not(feature = "remote"), allow(dead_code))]
pub(crate) fn fill(
    field: &mut Option<String>,
    lookup: &impl Fn(&str) -> Option<String>,
    vars: &[&str],
) {
    if non_empty(field).is_none() {
        *field = first_set(lookup, vars);
    }
}

/// [`fill`] for a secret setting.
pub(crate) fn fill_secret(
    field: &mut Option<Secret>,
    lookup: &impl Fn(&str) -> Option<String>,
    vars: &[&str],
) {
    if non_empty_secret(field).is_none() {
        *field = first_set(lookup, vars).map(Secret::new);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(pairs: &'static [(&'static str, &'static str)]) -> impl Fn(&str) -> Option<String> {
        move |k| {
            pairs
                .iter()
                .find(|(n, _)| *n == k)
                .map(|(_, v)| (*v).to_owned())
        }
    }

    #[test]
    fn unset_and_blank_settings_are_filled_set_ones_win() {
        let lookup = env(&[("A", "from-a"), ("B", "from-b")]);
        let mut unset = None;
        fill(&mut unset, &lookup, &["A"]);
        assert_eq!(unset.as_deref(), Some("from-a"));
        let mut blank = Some("  ".to_owned());
        fill(&mut blank, &lookup, &["B"]);
        assert_eq!(blank.as_deref(), Some("from-b"));
        let mut set = Some("mine".to_owned());
        fill(&mut set, &lookup, &["A"]);
        assert_eq!(set.as_deref(), Some("mine"));
    }

    #[test]
    fn blank_variables_count_as_unset_and_the_first_set_one_wins() {
        let lookup = env(&[("BLANK", " "), ("SECOND", "two"), ("THIRD", "three")]);
        assert_eq!(
            first_set(&lookup, &["MISSING", "BLANK", "SECOND", "THIRD"]).as_deref(),
            Some("two")
        );
        assert_eq!(first_set(&lookup, &["BLANK"]), None);
        let mut secret = Some(Secret::from(""));
        fill_secret(&mut secret, &lookup, &["BLANK", "THIRD"]);
        assert_eq!(secret.as_ref().map(Secret::expose), Some("three"));
        let mut kept = Some(Secret::from("kept"));
        fill_secret(&mut kept, &lookup, &["SECOND"]);
        assert_eq!(kept.as_ref().map(Secret::expose), Some("kept"));
    }
}
