//! A `json` backend's error table: how the service's error answers (an HTTP
//! status, and a code and message in the body) become the faults its legacy
//! clients expect (Bugzilla's 101 "Bug #N does not exist.", WordPress's 403
//! "Incorrect username or password.").

use serde_json::Value as Json;

use crate::xmlrpc::Fault;

/// One row of a backend's error table.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct ErrorRule {
    /// Matches this HTTP status only.
    pub status: Option<u16>,
    /// Matches this error code (at the backend's code pointer) only.
    pub code: Option<Json>,
    /// The fault code; unset, the error body's code when it is an integer.
    pub fault_code: Option<i32>,
    /// The fault string; unset, the error body's message.
    pub fault_string: Option<String>,
}

/// How a `json` backend's error answers become faults.
#[derive(Clone, Debug, PartialEq)]
pub struct ErrorMap {
    /// Where an error body keeps its code (`/code`).
    pub code_pointer: String,
    /// Where an error body keeps its message (`/message`).
    pub message_pointer: String,
    /// The rules, first match wins.
    pub rules: Vec<ErrorRule>,
    /// After the rules: an error body whose code is an integer becomes that
    /// fault, with its message (services whose REST codes are their old
    /// XML-RPC fault codes, as Bugzilla's are). Errors still unmatched are
    /// -32602 (4xx) and -32303 (others).
    pub pass_codes: bool,
}

impl Default for ErrorMap {
    fn default() -> Self {
        ErrorMap {
            code_pointer: "/code".to_owned(),
            message_pointer: "/message".to_owned(),
            rules: Vec::new(),
            pass_codes: false,
        }
    }
}

impl ErrorMap {
    /// The fault for an error answer, when a rule (or the body's own integer
    /// code, for a rule without `fault_code`) says what it is.
    pub(super) fn fault(&self, status: u16, body: &[u8]) -> Option<Fault> {
        let json: Json = serde_json::from_slice(body).unwrap_or(Json::Null);
        let code = json.pointer(&self.code_pointer);
        let message = json.pointer(&self.message_pointer).and_then(Json::as_str);
        let own_code = || i32::try_from(code?.as_i64()?).ok();
        let message = || message.unwrap_or("error").to_owned();
        let rule = self.rules.iter().find(|rule| {
            rule.status.is_none_or(|s| s == status)
                && rule.code.as_ref().is_none_or(|want| Some(want) == code)
        });
        match rule {
            Some(rule) => Some(Fault::new(
                match rule.fault_code {
                    Some(code) => code,
                    None => own_code()?,
                },
                rule.fault_string.clone().unwrap_or_else(message),
            )),
            None if self.pass_codes => Some(Fault::new(own_code()?, message())),
            None => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn error_rules_pick_the_fault() {
        let map = ErrorMap {
            rules: vec![ErrorRule {
                status: Some(401),
                code: Some(json!("incorrect_password")),
                fault_code: Some(403),
                fault_string: Some("Incorrect username or password.".into()),
            }],
            pass_codes: true,
            ..ErrorMap::default()
        };
        let wp = br#"{"code":"incorrect_password","message":"The password is wrong"}"#;
        assert_eq!(
            map.fault(401, wp),
            Some(Fault::new(403, "Incorrect username or password."))
        );
        let bz = br#"{"error":true,"code":101,"message":"Bug #9 does not exist."}"#;
        assert_eq!(
            map.fault(404, bz),
            Some(Fault::new(101, "Bug #9 does not exist."))
        );
        assert_eq!(map.fault(500, b"oops"), None, "no integer code: not mapped");
        let strict = ErrorMap {
            pass_codes: false,
            ..map
        };
        assert_eq!(strict.fault(404, bz), None, "codes pass only when asked");
    }
}
