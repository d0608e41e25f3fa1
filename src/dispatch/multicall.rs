//! `system.multicall`: its entries parsed once, run concurrently (bounded),
//! answered in order. Each entry is checked on its own (a malformed entry or
//! a nested multicall becomes a fault entry; the others still run).

use std::future::Future;
use std::task::Poll;

use futures_util::stream::FuturesUnordered;
use futures_util::{FutureExt, StreamExt};

use super::error::CallError;
use super::fault;
use super::introspection::MULTICALL;
use super::options::DispatchOptions;
use crate::call::CallContext;
use crate::xmlrpc::{EncodeError, Fault, Value};

/// How many entries' method names a multicall keeps for the access log.
pub(crate) const NAMED_ENTRIES: usize = 20;

/// What the access log shows for an entry that went to no backend.
pub(super) const NO_ENTRY_BACKEND: &str = "-";

/// Who answers one entry: the dispatcher, for a call that is not a
/// multicall.
pub(super) trait Entries {
    /// Answers one call (the `entry`th of the multicall), counted as its
    /// own; says which backend it went to, if one.
    fn call_one<'s>(
        &'s self,
        name: &str,
        params: Vec<Value>,
        ctx: &CallContext,
        entry: usize,
    ) -> impl Future<Output = (Result<Value, CallError>, Option<&'s str>)>;

    /// The fault a client sees for a failed entry.
    fn fault_for(&self, name: &str, err: &CallError, ctx: &CallContext) -> Fault;
}

/// Runs every call of a multicall concurrently (bounded), keeping order.
/// A malformed entry or a nested multicall becomes a fault entry; the
/// others still run. The first entries' names go to `names` and the
/// backends they went to (`-` for none) to `backends`.
pub(super) async fn run<C: Entries>(
    caller: &C,
    options: &DispatchOptions,
    mut params: Vec<Value>,
    ctx: &CallContext,
    names: &mut Vec<String>,
    backends: &mut Vec<String>,
) -> Result<Value, CallError> {
    if params.len() != 1 {
        return Err(CallError::InvalidParams(format!(
            "system.multicall() takes 1 parameter ({} given)",
            params.len()
        )));
    }
    let Value::Array(calls) = params.pop().expect("one param") else {
        return Err(CallError::InvalidParams(
            "system.multicall(): parameter 1 must be array".to_owned(),
        ));
    };
    let limit = options.max_multicall_calls;
    if calls.len() > limit {
        return Err(CallError::InvalidParams(format!(
            "system.multicall(): {} calls exceed the limit of {limit}",
            calls.len()
        )));
    }
    let concurrency = options.multicall_concurrency.max(1);
    let mut results: Vec<Option<Value>> = Vec::with_capacity(calls.len());
    // Entries that did not answer on their first poll, by position. Most
    // entries are plain functions that answer at once: they never enter
    // this set, so they cost no task node, waker or reordering.
    let mut pending = FuturesUnordered::new();
    for (index, entry) in calls.into_iter().enumerate() {
        while pending.len() >= concurrency {
            settle(&mut pending, &mut results, backends).await;
        }
        let parsed = parse_entry(entry);
        if names.len() < NAMED_ENTRIES {
            names.push(
                parsed
                    .as_ref()
                    .map_or("-", |(name, _)| name.as_str())
                    .to_owned(),
            );
            backends.push(NO_ENTRY_BACKEND.to_owned());
        }
        let mut entry = Box::pin(call_entry(caller, options, parsed, ctx, index));
        match futures_util::poll!(entry.as_mut()) {
            Poll::Ready((value, backend)) => {
                note_backend(backends, index, backend);
                results.push(Some(value));
            }
            Poll::Pending => {
                results.push(None);
                pending.push(entry.map(move |value| (index, value)));
            }
        }
    }
    while !pending.is_empty() {
        settle(&mut pending, &mut results, backends).await;
    }
    let results = results
        .into_iter()
        .map(|r| r.expect("every entry answered"));
    Ok(Value::Array(results.collect()))
}

/// Waits for one pending multicall entry and puts its answer in place.
async fn settle<'s, F: Future<Output = (usize, (Value, Option<&'s str>))>>(
    pending: &mut FuturesUnordered<F>,
    results: &mut [Option<Value>],
    backends: &mut [String],
) {
    if let Some((index, (value, backend))) = pending.next().await {
        note_backend(backends, index, backend);
        results[index] = Some(value);
    }
}

/// Notes the backend entry `index` went to, if the access log shows it.
fn note_backend(backends: &mut [String], index: usize, backend: Option<&str>) {
    if let (Some(slot), Some(name)) = (backends.get_mut(index), backend) {
        name.clone_into(slot);
    }
}

async fn call_entry<'s, C: Entries>(
    caller: &'s C,
    options: &DispatchOptions,
    parsed: Result<(String, Vec<Value>), Fault>,
    ctx: &CallContext,
    index: usize,
) -> (Value, Option<&'s str>) {
    let (name, params) = match parsed {
        Ok(call) => call,
        Err(fault) => return (fault.to_value(), None),
    };
    if name == MULTICALL {
        let nested = Fault::new(fault::INVALID_REQUEST, "system.multicall cannot be nested");
        return (nested.to_value(), None);
    }
    let (result, backend) = caller.call_one(&name, params, ctx, index).await;
    let value = match result {
        Ok(value) if !options.allow_none && contains_nil(&value) => {
            fault::encode_fault(&name, &EncodeError::NilNotAllowed).to_value()
        }
        Ok(value) => Value::Array(vec![value]),
        Err(err) => caller.fault_for(&name, &err, ctx).to_value(),
    };
    (value, backend)
}

/// Splits a multicall entry into name and params. A missing `params` member
/// is taken as no parameters.
fn parse_entry(entry: Value) -> Result<(String, Vec<Value>), Fault> {
    let bad = |msg: &str| {
        Fault::new(
            fault::INVALID_REQUEST,
            format!("system.multicall entry: {msg}"),
        )
    };
    let Value::Struct(members) = entry else {
        return Err(bad("must be a struct"));
    };
    // A walk over the (two) members: no hashing, no removal.
    let (mut name, mut params) = (None, None);
    for (key, value) in members {
        match key.as_str() {
            "methodName" => name = Some(value),
            "params" => params = Some(value),
            _ => {}
        }
    }
    let name = match name {
        Some(Value::String(name)) => name,
        Some(_) => return Err(bad("methodName must be a string")),
        None => return Err(bad("missing methodName")),
    };
    let params = match params {
        Some(Value::Array(params)) => params,
        None => Vec::new(),
        Some(_) => return Err(bad("params must be an array")),
    };
    Ok((name, params))
}

/// True when `value` holds a nil anywhere.
pub(crate) fn contains_nil(value: &Value) -> bool {
    match value {
        Value::Nil => true,
        Value::Array(items) => items.iter().any(contains_nil),
        Value::Struct(members) => members.values().any(contains_nil),
        _ => false,
    }
}
