//! What a page record keeps of the call that fetched it, so that
//! `page.nextPage()` (Kotlin) / `page.nextPage()` (Swift) fetches the one after it.

use std::fmt;
use std::sync::Arc;

use crate::errors::MiosaError;

/// The call behind a page: the core's page without its items, which knows
/// its operation, arguments, parameters and client.
#[derive(uniffi::Object)]
pub struct PageOrigin {
    page: mcore::Page,
}

impl PageOrigin {
    pub(crate) fn of(page: &mcore::Page) -> Arc<Self> {
        let mut page = page.clone();
        page.items.clear();
        Arc::new(Self { page })
    }

    /// The page after the one this origin belongs to; `None` after the last.
    pub(crate) async fn next(&self) -> Result<Option<mcore::Page>, MiosaError> {
        Ok(self.page.next_page().await?)
    }
}

impl fmt::Debug for PageOrigin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PageOrigin")
            .field("next_cursor", &self.page.next_cursor)
            .finish_non_exhaustive()
    }
}

/// Pages are equal by their items and cursor, whichever call fetched them.
impl PartialEq for PageOrigin {
    fn eq(&self, _other: &Self) -> bool {
        true
    }
}
