//! Managing API and console users (`ordo users add|disable|rotate|passwd`, the demo's users):
//! the admin rule, the change and its audit record, all in the caller's transaction. The CLI
//! only opens and commits the transaction and prints.

use super::audit::{self, Change};
use super::auth::{self, Actor};
use crate::store::Tx;
use crate::store::service::UserRow;
use serde_json::json;

/// A change to a user.
pub enum UserChange<'a> {
    /// A new user with roles (comma-separated) and a fresh token.
    Add { roles: &'a str },
    /// The user's token is refused from now on.
    Disable,
    /// A new token; the old one stops working.
    Rotate,
    /// The console password, already hashed (`auth::hash_password`).
    Password { hash: &'a str },
}

/// Why a change was refused: the message names the user or the missing role.
#[derive(Debug)]
pub enum Refused {
    /// The actor, the user or the input is wrong: nothing was changed.
    Invalid(String),
    Store(crate::store::StoreError),
}

impl From<crate::store::StoreError> for Refused {
    fn from(e: crate::store::StoreError) -> Self {
        Refused::Store(e)
    }
}

/// Applies `change` to user `name` as `actor` (who must hold `admin`) in `tx`, with its audit
/// record. Returns the user and, for `Add` and `Rotate`, the token to show once.
pub async fn change_user(
    tx: &mut dyn Tx,
    actor: &Actor,
    name: &str,
    change: UserChange<'_>,
    now: i64,
) -> Result<(UserRow, Option<String>), Refused> {
    if !actor.has_any(&[]) {
        return Err(Refused::Invalid(format!(
            "{}: managing users needs the admin role",
            actor.id
        )));
    }
    let missing = || Refused::Invalid(format!("no user '{name}'"));
    let subject = format!("user/{name}");
    let (user, token, record) = match change {
        UserChange::Add { roles } => {
            let (token, user) = auth::new_user(name, roles, now).map_err(Refused::Invalid)?;
            if !tx.user_insert(&user).await? {
                return Err(Refused::Invalid(format!("user '{name}' exists already")));
            }
            let after = json!({ "roles": user.roles, "disabled": false });
            let record = ("user.added", None, Some(after));
            (user, Some(token), record)
        }
        UserChange::Disable => {
            let before = tx.user_get(name).await?.ok_or_else(missing)?;
            tx.user_set_disabled(name, true, now).await?;
            let record = (
                "user.disabled",
                Some(json!({ "disabled": before.disabled })),
                Some(json!({ "disabled": true })),
            );
            (before, None, record)
        }
        UserChange::Rotate => {
            let user = tx.user_get(name).await?.ok_or_else(missing)?;
            let (token, id, hash) = auth::new_token().map_err(Refused::Invalid)?;
            tx.user_set_token(name, &id, &hash, now).await?;
            (user, Some(token), ("user.token_rotated", None, None))
        }
        UserChange::Password { hash } => {
            let user = tx.user_get(name).await?.ok_or_else(missing)?;
            if !tx.user_set_password(name, hash, now).await? {
                return Err(missing());
            }
            (user, None, ("user.password_set", None, None))
        }
    };
    let (action, before, after) = record;
    let change = Change {
        action,
        subject,
        order_id: None,
        before,
        after,
    };
    audit::record(tx, actor, now, change).await?;
    Ok((user, token))
}
