//! Exit status and messages of `ittai rules list` / `ittai rules show`: a script or a
//! nurse's batch file must be able to tell success from failure.

use crate::support::ittai;

/// `ittai rules list` succeeds, prints one line per rule (R01 … R10, in order) on stdout
/// and nothing on stderr.
#[test]
fn rules_list_exits_zero_with_one_line_per_rule() {
    let o = ittai().args(["rules", "list"]).output().unwrap();
    let stdout = String::from_utf8_lossy(&o.stdout);
    let stderr = String::from_utf8_lossy(&o.stderr);
    assert!(
        o.status.success(),
        "ittai rules list: {:?}\n{stdout}\n{stderr}",
        o.status
    );
    assert_eq!(o.status.code(), Some(0));
    let ids: Vec<&str> = stdout
        .lines()
        .map(|l| l.split_whitespace().next().unwrap_or(""))
        .collect();
    assert_eq!(
        ids,
        [
            "R01", "R02", "R03", "R04", "R05", "R06", "R07", "R08", "R09", "R10"
        ],
        "{stdout}"
    );
    assert!(stderr.trim().is_empty(), "stderr: {stderr}");
}

/// `ittai rules show R04` succeeds; `ittai rules show R99` (no such rule) fails with a
/// non-zero status, prints nothing on stdout, and says on stderr which id is unknown and
/// which ids exist.
#[test]
fn rules_show_exits_zero_for_a_rule_and_non_zero_for_an_unknown_id() {
    let o = ittai().args(["rules", "show", "R04"]).output().unwrap();
    assert!(
        o.status.success(),
        "ittai rules show R04: {:?}\n{}",
        o.status,
        String::from_utf8_lossy(&o.stderr)
    );

    let o = ittai().args(["rules", "show", "R99"]).output().unwrap();
    let stdout = String::from_utf8_lossy(&o.stdout);
    let stderr = String::from_utf8_lossy(&o.stderr);
    assert!(
        !o.status.success(),
        "ittai rules show R99 must fail, got {:?}\n{stdout}",
        o.status
    );
    assert!(
        o.status.code().is_some_and(|c| c != 0),
        "exits with a status code, not a signal: {:?}",
        o.status
    );
    assert!(
        stdout.trim().is_empty(),
        "no rule text for an unknown id: {stdout}"
    );
    assert!(stderr.contains("R99"), "names the unknown id: {stderr}");
    assert!(
        stderr.contains("no rule with id R99"),
        "says there is no such rule: {stderr}"
    );
    assert!(
        stderr.contains("R01") && stderr.contains("R10"),
        "lists the known ids: {stderr}"
    );
}
