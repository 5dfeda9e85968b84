//! `ordo demo`: the checked order-to-cash batch of `ordo_scenario::demo`, its lines printed as
//! they come; exit 0 only when every order and invoice ended as generated.

use ordo::config::Config;
use std::path::PathBuf;
use std::process::ExitCode;

pub async fn run(cfg: &Config, orders: usize, dir: PathBuf, keep: bool) -> ExitCode {
    let say = |line: &str| println!("{line}");
    match ordo_scenario::demo::run(cfg, orders, dir, keep, &say).await {
        Ok(true) => ExitCode::SUCCESS,
        Ok(false) => ExitCode::from(super::FAIL),
        Err(e) => super::fail(format!("demo failed: {e}")),
    }
}
