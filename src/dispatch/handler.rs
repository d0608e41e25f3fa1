//! In-process handlers: the [`Handler`] trait, and [`Instance`], the Rust
//! counterpart of Python's `register_instance` (an object that answers any
//! name it likes).

use futures_util::future::BoxFuture;

use super::error::CallError;
use crate::call::CallContext;
use crate::xmlrpc::Value;

/// What a handler's future resolves to.
pub type CallResult = Result<Value, CallError>;

/// A method implemented in-process.
pub trait Handler: Send + Sync + 'static {
    /// Runs the method on already decoded parameters.
    fn call(&self, params: Vec<Value>, ctx: CallContext) -> BoxFuture<'static, CallResult>;

    /// `[return, param...]` XML-RPC type names, when known (typed handlers
    /// derive it from their Rust signature).
    fn signature(&self) -> Option<Vec<&'static str>> {
        None
    }
}

/// An object that dispatches names not registered as functions, like a
/// Python instance with `_dispatch`. Names it does not know return `None`
/// and dispatch goes on to the next route.
pub trait Instance: Send + Sync + 'static {
    /// Starts `method`, or `None` when the instance does not know it.
    fn dispatch(
        &self,
        method: &str,
        params: Vec<Value>,
        ctx: CallContext,
    ) -> Option<BoxFuture<'static, CallResult>>;

    /// Names added to `system.listMethods` (Python's `_listMethods`).
    fn list_methods(&self) -> Vec<String> {
        Vec::new()
    }

    /// Text for `system.methodHelp` (Python's `_methodHelp`).
    fn method_help(&self, _method: &str) -> Option<String> {
        None
    }
}
