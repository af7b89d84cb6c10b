//! `NativePager`: the core's lazy cursor walker, one page per `nextPage()`.
//! The JS layer's `Pager` walks items or pages over it.

use std::sync::Arc;

use miosa::Pager;
use napi::Env;
use napi::bindgen_prelude::Object;
use napi_derive::napi;

use crate::cancel::{CancelToken, run_cancellable};
use crate::observe::Logger;
use crate::reply::Reply;

/// Walks every page of a paginated operation, following `next_cursor`.
#[napi]
#[derive(Debug)]
pub struct NativePager {
    inner: Arc<Pager>,
    rt: tokio::runtime::Handle,
    logger: Option<Logger>,
}

impl NativePager {
    pub(crate) fn new(pager: Pager, rt: tokio::runtime::Handle, logger: Option<Logger>) -> Self {
        Self {
            inner: Arc::new(pager),
            rt,
            logger,
        }
    }
}

#[napi]
impl NativePager {
    /// The next page as JSON (`{"items": [...], "next_cursor": ...}`), or `null` after the last page.
    #[napi(catch_unwind, ts_return_type = "Promise<string | null>")]
    pub fn next_page<'env>(
        &self,
        env: &'env Env,
        cancel: Option<&CancelToken>,
    ) -> napi::Result<Object<'env>> {
        let (reply, promise) = Reply::<Option<String>>::new(env)?;
        let inner = Arc::clone(&self.inner);
        let cancel = cancel.map(CancelToken::token);
        self.rt
            .spawn(Logger::scope(self.logger.clone(), async move {
                let outcome = run_cancellable(
                    async move {
                        let page = inner.next_page().await?;
                        Ok(page.map(|p| p.to_json().to_string()))
                    },
                    cancel,
                )
                .await;
                reply.settle(outcome, |_env, page| Ok(page));
            }));
        Ok(promise)
    }

    /// Ends the walk; a pending `nextPage()` resolves with `null` at once.
    #[napi(catch_unwind)]
    pub fn close(&self) {
        self.inner.close();
    }
}
