//! [`FnHandler`]: the handler function at the end of a chain.

use std::fmt;
use std::marker::PhantomData;

use super::{DescribeChain, sealed};

/// The handler at the end of a chain, in one of the forms of [`HandlerFn`](crate::chain::HandlerFn).
///
/// The handler's own future is the innermost future of the chain, as it is: its
/// `Result<R, Error>` is what the layers pass each other.
///
/// ```
/// # extern crate lambda_middleware_core as lambda_middleware;
/// use lambda_middleware::{Context, Error, Handler};
/// use lambda_middleware::chain::{FnHandler, WithContextRef};
///
/// async fn double(event: u64, _: &Context) -> Result<u64, Error> { Ok(event * 2) }
///
/// let handler = Handler::builder().handler(double)?;
/// let _: &FnHandler<_, WithContextRef<u64, u64>> = handler.chain();
/// assert_eq!(format!("{handler:?}"), "Handler([handler])");
/// # Ok::<(), lambda_middleware::BuildError>(())
/// ```
pub struct FnHandler<F, S> {
    f: F,
    _signature: PhantomData<fn() -> S>,
}

impl<F, S> FnHandler<F, S> {
    pub(crate) fn new(f: F) -> Self {
        FnHandler {
            f,
            _signature: PhantomData,
        }
    }

    #[inline(always)]
    pub(crate) fn function(&self) -> &F {
        &self.f
    }
}

impl<F: Clone, S> Clone for FnHandler<F, S> {
    fn clone(&self) -> Self {
        FnHandler::new(self.f.clone())
    }
}

impl<F, S> fmt::Debug for FnHandler<F, S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("handler")
    }
}

impl<F, S> sealed::Sealed for FnHandler<F, S> {}

impl<F, S> DescribeChain for FnHandler<F, S> {
    fn describe_chain(&self, list: &mut fmt::DebugList<'_, '_>) {
        list.entry(&format_args!("handler"));
    }
}
