//! Several `ordo run` processes on one cluster backend share the work without doing it twice
//! (issue 21): each cron occurrence starts one instance, whichever process sees it first.
//! (Inbound files taken once across processes: `hostile_files::two_cluster_runs_take_each_file_once`;
//! orders booked once: `hostile_intake`.)

use ordo_tests::{Project, Running, wait_until};
use serde_json::Value;

const TICK: &str = "workflow: tick
version: 1
trigger: { cron: \"0 * * * * *\" }
steps:
  one: { connector: util.noop, then: done }
  done: { end: completed }
";

/// (instances, distinct scheduled times) of the `tick` workflow.
fn ticks(p: &Project) -> (usize, usize) {
    let v = p.json(&["instances", "--limit", "1000"]);
    let list: Vec<&Value> = v["instances"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|i| i["workflow"] == "tick")
        .collect();
    let mut keys: Vec<&str> = list
        .iter()
        .filter_map(|i| i["business_key"].as_str())
        .collect();
    keys.sort_unstable();
    keys.dedup();
    (list.len(), keys.len())
}

/// Both processes evaluate the schedule every tick against the same business time; the
/// occurrence's instance key (`tick@<time>`) is unique in the store, so the second start is a
/// no-op. Without that key, each occurrence would run once per process.
#[test]
fn two_cluster_runs_start_each_cron_occurrence_once() {
    let Some(p) = Project::cluster_fixture("cron-once") else {
        return;
    };
    p.write("workflows/tick.yaml", TICK);
    p.ok(&["check"]);
    let runs = [Running(p.spawn_run(&[])), Running(p.spawn_run(&[]))];
    // The first sight of a schedule starts counting from then; give both processes a tick.
    std::thread::sleep(std::time::Duration::from_secs(3));
    const MINUTES: usize = 6;
    for n in 1..=MINUTES {
        p.ok(&["clock", "advance", "1m"]);
        wait_until(60, &format!("occurrence {n} started"), || ticks(&p).1 >= n);
    }
    // Let both processes look again at the last occurrence before counting.
    std::thread::sleep(std::time::Duration::from_secs(3));
    drop(runs);
    let (instances, occurrences) = ticks(&p);
    assert_eq!(occurrences, MINUTES, "one occurrence per business minute");
    assert_eq!(
        instances, MINUTES,
        "each occurrence started once, not once per process"
    );
}
