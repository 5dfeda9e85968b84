//! `ordo users add|list|disable|rotate`, and the local commands that act as the OS user
//! (`ordo approve`/`reject`/`retry`): each resolves the OS user to an actor
//! (`ordo::api::auth::local_actor`), applies the same role rule and writes the same audit
//! record as the API, in the transaction of the effect.

use super::{fail, print_json};
use clap::Subcommand;
use ordo::api::audit::{self, Change};
use ordo::api::auth;
use ordo::api::users::{self, UserChange};
use ordo::app::commit_and_publish;
use ordo::runtime::{Engine, EngineError};
use ordo_scenario::table::Table;
use serde_json::json;
use std::process::ExitCode;
use std::sync::Arc;

#[derive(Subcommand)]
pub enum UsersCommand {
    /// Add a user with roles (comma-separated); prints its API token once.
    Add {
        name: String,
        #[arg(long, value_name = "ROLE[,ROLE]")]
        role: String,
    },
    /// Users, their roles and whether they are disabled (never tokens).
    List,
    /// Refuse the user's token from now on.
    Disable { name: String },
    /// Give the user a new token (printed once); the old one stops working.
    Rotate { name: String },
    /// Set the user's web console password: typed without echo on a terminal, otherwise
    /// the first line of standard input.
    Passwd { name: String },
}

pub async fn run(
    engine: &Arc<Engine>,
    command: UsersCommand,
    json_out: bool,
) -> Result<ExitCode, EngineError> {
    // A password is read (and hashed) before the transaction opens, so no store lock waits on
    // a person typing.
    let hash = match &command {
        UsersCommand::Passwd { name } => {
            match read_password(name).and_then(|p| auth::hash_password(&p)) {
                Ok(h) => Some(h),
                Err(e) => return Ok(fail(e)),
            }
        }
        _ => None,
    };
    let mut tx = engine.store.begin().await?;
    engine.refresh_clock(tx.as_mut()).await?;
    let actor = match auth::local_actor(tx.as_mut()).await {
        Ok(a) => a,
        Err(e) => return Ok(fail(e)),
    };
    let now = engine.clock.now_ms();
    let (name, change) = match &command {
        UsersCommand::List => {
            let users = tx.user_list().await?;
            tx.rollback().await?;
            print_users(users, json_out);
            return Ok(ExitCode::SUCCESS);
        }
        UsersCommand::Add { name, role } => (name, UserChange::Add { roles: role }),
        UsersCommand::Disable { name } => (name, UserChange::Disable),
        UsersCommand::Rotate { name } => (name, UserChange::Rotate),
        UsersCommand::Passwd { name } => (
            name,
            UserChange::Password {
                hash: hash.as_deref().unwrap_or_default(),
            },
        ),
    };
    match users::change_user(tx.as_mut(), &actor, name, change, now).await {
        Ok((user, token)) => {
            tx.commit().await?;
            match (&command, token) {
                (_, Some(token)) => print_token(name, &user.roles, &token, json_out),
                (UsersCommand::Disable { .. }, None) => println!("user {name}: disabled"),
                (_, None) => println!("user {name}: console password set"),
            }
            Ok(ExitCode::SUCCESS)
        }
        Err(users::Refused::Invalid(e)) => {
            tx.rollback().await?;
            Ok(fail(e))
        }
        Err(users::Refused::Store(e)) => Err(e.into()),
    }
}

fn print_users(users: Vec<ordo::store::service::UserRow>, json_out: bool) {
    if json_out {
        print_json(&json!(users));
        return;
    }
    let mut t = Table::new(&["user", "roles", "state"]);
    for u in users {
        t.row(vec![
            u.name,
            u.roles,
            if u.disabled { "disabled" } else { "active" }.into(),
        ]);
    }
    print!("{}", t.render());
}

/// One line of standard input, without echo when it is a terminal (at most 1 KiB).
fn read_password(name: &str) -> Result<String, String> {
    use std::io::{BufRead, IsTerminal, Read, Write};
    let stdin = std::io::stdin();
    let tty = stdin.is_terminal();
    // SAFETY: termios calls on fd 0 with a zeroed struct they fill; echo is restored below.
    let saved = tty.then(|| unsafe {
        let mut t: libc::termios = std::mem::zeroed();
        if libc::tcgetattr(0, &mut t) != 0 {
            return None;
        }
        let mut quiet = t;
        quiet.c_lflag &= !libc::ECHO;
        libc::tcsetattr(0, libc::TCSANOW, &quiet);
        Some(t)
    });
    if tty {
        eprint!("password for {name}: ");
        let _ = std::io::stderr().flush();
    }
    let mut line = String::new();
    let r = stdin.lock().take(1025).read_line(&mut line);
    if let Some(Some(t)) = saved {
        // SAFETY: restores the settings read above.
        unsafe { libc::tcsetattr(0, libc::TCSANOW, &t) };
        eprintln!();
    }
    r.map_err(|e| format!("reading the password: {e}"))?;
    if line.len() > 1024 {
        return Err("a password has 8 to 256 characters".into());
    }
    Ok(line.trim_end_matches(['\n', '\r']).to_string())
}

/// A checked new user and its token (shown once).
fn print_token(name: &str, roles: &str, token: &str, json_out: bool) {
    if json_out {
        print_json(&json!({ "user": name, "roles": roles, "token": token }));
    } else {
        println!("user {name} ({roles})");
        println!("token (shown once, keep it secret): {token}");
    }
}

/// `ordo approve`/`reject`: the API's decision (`ordo::api::routes::decide`) as the OS user.
pub async fn decide(
    engine: &Arc<Engine>,
    task: i64,
    outcome: &str,
    note: Option<&str>,
) -> Result<ExitCode, EngineError> {
    let mut tx = engine.store.begin().await?;
    engine.refresh_clock(tx.as_mut()).await?;
    let actor = match auth::local_actor(tx.as_mut()).await {
        Ok(a) => a,
        Err(e) => return Ok(fail(e)),
    };
    match ordo::api::routes::decide(engine, tx.as_mut(), &actor, task, outcome, note).await {
        Ok(_) => {
            commit_and_publish(engine, tx).await?;
            println!("task {task}: {outcome}");
            Ok(ExitCode::SUCCESS)
        }
        Err(e) => Ok(fail(e.message)),
    }
}

/// `ordo retry`: the API's retry (`ordo::api::routes::retry`) as the OS user.
pub async fn retry(engine: &Arc<Engine>, instance: &str) -> Result<ExitCode, EngineError> {
    let mut tx = engine.store.begin().await?;
    engine.refresh_clock(tx.as_mut()).await?;
    let actor = match auth::local_actor(tx.as_mut()).await {
        Ok(a) => a,
        Err(e) => return Ok(fail(e)),
    };
    if !actor.has_any(&[]) {
        return Ok(fail(format!("{}: retrying needs the admin role", actor.id)));
    }
    match ordo::api::routes::retry(engine, tx.as_mut(), &actor, instance).await {
        Ok(v) => {
            commit_and_publish(engine, tx).await?;
            println!(
                "instance {} resumes at step '{}'",
                v["instance"].as_str().unwrap_or_default(),
                v["step"].as_str().unwrap_or_default()
            );
            Ok(ExitCode::SUCCESS)
        }
        Err(e) => Ok(fail(e.message)),
    }
}

/// `ordo data import FILE [--kind KIND]`: `ordo::masterdata` reads and checks the file whole,
/// then one transaction stores the records and the audit record of who imported what.
pub async fn data_import(
    engine: &Arc<Engine>,
    file: &std::path::Path,
    kind: Option<&str>,
) -> Result<ExitCode, EngineError> {
    let data = match ordo::masterdata::read(file, kind, &engine.limits) {
        Ok(d) => d,
        Err(errors) => {
            for e in &errors {
                eprintln!("{e}");
            }
            eprintln!("{}: nothing imported", file.display());
            return Ok(ExitCode::from(super::FAIL));
        }
    };
    let mut tx = engine.store.begin().await?;
    engine.refresh_clock(tx.as_mut()).await?;
    let actor = match auth::local_actor(tx.as_mut()).await {
        Ok(a) => a,
        Err(e) => return Ok(fail(e)),
    };
    let outside = ordo::masterdata::check_outside_components(tx.as_mut(), &data).await?;
    if !outside.is_empty() {
        tx.rollback().await?;
        for e in &outside {
            eprintln!("{e}");
        }
        eprintln!("{}: nothing imported", file.display());
        return Ok(ExitCode::from(super::FAIL));
    }
    let now = engine.clock.now_ms();
    ordo::masterdata::write(tx.as_mut(), &data, now).await?;
    let change = Change {
        action: "masterdata.imported",
        subject: format!("file/{}", file.display()),
        order_id: None,
        before: None,
        after: Some(json!({ "imported": data.counts() })),
    };
    audit::record(tx.as_mut(), &actor, now, change).await?;
    tx.commit().await?;
    println!("imported {}", data.counts());
    Ok(ExitCode::SUCCESS)
}
