//! Settling a JavaScript Promise from the client's runtime.
//!
//! A `JsDeferred` holds a threadsafe function, which keeps the event loop
//! alive until the promise is settled. A deferred dropped unsettled would
//! therefore hang the process forever, so [`Reply`] rejects in `Drop`: a task
//! that is aborted or panics still settles its promise.

use napi::bindgen_prelude::{Object, ToNapiValue};
use napi::{Env, JsDeferred};

type Resolver<T> = Box<dyn FnOnce(Env) -> napi::Result<T> + Send>;

/// The settling side of a Promise handed to JavaScript.
pub(crate) struct Reply<T: ToNapiValue + 'static> {
    deferred: Option<JsDeferred<T, Resolver<T>>>,
}

impl<T: ToNapiValue + 'static> Reply<T> {
    /// A new pending Promise and the handle that settles it.
    pub(crate) fn new(env: &Env) -> napi::Result<(Self, Object<'_>)> {
        let (deferred, promise) = env.create_deferred::<T, Resolver<T>>()?;
        Ok((
            Self {
                deferred: Some(deferred),
            },
            promise,
        ))
    }

    /// Resolves with the value `make` builds on the JavaScript thread.
    pub(crate) fn resolve(mut self, make: impl FnOnce(Env) -> napi::Result<T> + Send + 'static) {
        if let Some(deferred) = self.deferred.take() {
            deferred.resolve(Box::new(make));
        }
    }

    /// Resolves with the outcome of a core call, or rejects with its error.
    pub(crate) fn settle<V: Send + 'static>(
        self,
        outcome: miosa::Result<V>,
        convert: impl FnOnce(Env, V) -> napi::Result<T> + Send + 'static,
    ) {
        match outcome {
            Ok(value) => self.resolve(move |env| convert(env, value)),
            Err(err) => self.reject(&err),
        }
    }

    /// Rejects with a core error.
    pub(crate) fn reject(mut self, err: &miosa::Error) {
        if let Some(deferred) = self.deferred.take() {
            deferred.reject(crate::errors::to_napi(err));
        }
    }
}

impl<T: ToNapiValue + 'static> Drop for Reply<T> {
    fn drop(&mut self) {
        if let Some(deferred) = self.deferred.take() {
            deferred.reject(crate::errors::lost());
        }
    }
}
