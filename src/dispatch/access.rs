//! Who may call what: named roles, each a list of method patterns allowed
//! and denied (deny wins), and the roles each principal carries. A route
//! that names roles admits a caller holding one of them whose patterns
//! allow the called name; every other caller is refused (HTTP 403 for a
//! single call, fault -32403 for a multicall entry).
//!
//! Decided on the name the decoder produced (character references already
//! resolved), per call and per multicall entry; names are matched exactly,
//! case and all, as XML-RPC servers look them up.

use std::collections::HashMap;

use super::table::Pattern;

/// One role: the names it may call.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Role {
    /// Patterns (exact, `prefix*`, `*`) it may call.
    pub allow: Vec<Pattern>,
    /// Patterns it may not call, whatever `allow` says.
    pub deny: Vec<Pattern>,
}

impl Role {
    fn allows(&self, name: &str) -> bool {
        self.allow.iter().any(|p| p.matches(name)) && !self.deny.iter().any(|p| p.matches(name))
    }
}

/// The roles and who holds them (`[roles.NAME]`, `auth.roles`).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Access {
    roles: HashMap<String, Role>,
    /// Principal name (a Basic user, `token:N`) to role names.
    principals: HashMap<String, Vec<String>>,
}

impl Access {
    /// Roles by name, and the roles of each principal.
    pub fn new(roles: HashMap<String, Role>, principals: HashMap<String, Vec<String>>) -> Self {
        Access { roles, principals }
    }

    /// The role that admits `principal` to `name` on a route that names
    /// `route_roles`, or `Err` with the roles it holds among those (for the
    /// metric). A role denying the name refuses it, whatever the others say.
    pub(crate) fn decide<'a>(
        &'a self,
        principal: Option<&str>,
        route_roles: &'a [String],
        name: &str,
    ) -> Result<&'a str, Vec<&'a str>> {
        let held: Vec<&str> = principal
            .and_then(|p| self.principals.get(p))
            .into_iter()
            .flatten()
            .map(String::as_str)
            .filter(|r| route_roles.iter().any(|want| want == r))
            .collect();
        let role = |r: &str| self.roles.get(r);
        if held
            .iter()
            .any(|r| role(r).is_some_and(|role| role.deny.iter().any(|p| p.matches(name))))
        {
            return Err(held);
        }
        match held
            .iter()
            .find(|r| role(r).is_some_and(|role| role.allows(name)))
        {
            Some(r) => Ok(r),
            None => Err(held),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn access() -> Access {
        let read = Role {
            allow: vec![
                Pattern::parse("supervisor.get*"),
                Pattern::parse("supervisor.readProcessStdoutLog"),
            ],
            deny: vec![],
        };
        let operate = Role {
            allow: vec![Pattern::parse("supervisor.*")],
            deny: vec![Pattern::parse("supervisor.shutdown")],
        };
        Access::new(
            HashMap::from([("read".into(), read), ("operate".into(), operate)]),
            HashMap::from([
                ("monitor".into(), vec!["read".into()]),
                ("ops".into(), vec!["read".into(), "operate".into()]),
            ]),
        )
    }

    #[test]
    fn roles_admit_by_pattern_and_deny_wins() {
        let a = access();
        let both = ["read".to_owned(), "operate".to_owned()];
        assert_eq!(
            a.decide(Some("monitor"), &both, "supervisor.getAllProcessInfo"),
            Ok("read")
        );
        assert!(
            a.decide(Some("monitor"), &both, "supervisor.stopProcess")
                .is_err()
        );
        assert_eq!(
            a.decide(Some("ops"), &both, "supervisor.stopProcess"),
            Ok("operate")
        );
        assert!(
            a.decide(Some("ops"), &both, "supervisor.shutdown").is_err(),
            "deny wins"
        );
        // Case tricks and unknown callers get nothing.
        assert!(
            a.decide(Some("monitor"), &both, "supervisor.GetAllProcessInfo")
                .is_err()
        );
        assert!(a.decide(None, &both, "supervisor.getState").is_err());
        assert!(
            a.decide(Some("stranger"), &both, "supervisor.getState")
                .is_err()
        );
        // A role the route does not name does not count.
        assert!(
            a.decide(Some("ops"), &["read".to_owned()], "supervisor.stopProcess")
                .is_err()
        );
    }
}
