//! Routes declared once: each [`Routes::route`] call takes an [`Op`] (the
//! operation as `/openapi.json` describes it) and its handler, and adds
//! both the axum route (at the op's path, for the op's method only) and the
//! op to the list the document is built from. A route cannot be served
//! without being described, nor described at another path or method than
//! the one it is served at.

use std::convert::Infallible;
use std::sync::Arc;

use axum::Router;
use axum::extract::Request;
use axum::handler::Handler;
use axum::response::IntoResponse;
use axum::routing::{Route, on};
use tower::{Layer, Service};

use crate::openapi::Op;
use crate::service::Coordinator;

/// An axum router and the operations it serves, kept together.
#[derive(Default)]
pub struct Routes {
    router: Router<Arc<Coordinator>>,
    operations: Vec<Op>,
}

impl Routes {
    pub fn new() -> Self {
        Self::default()
    }

    /// Serves `op` with `handler`, at `op.path` for `op.verb` alone.
    pub fn route<H, T>(mut self, op: Op, handler: H) -> Self
    where
        H: Handler<T, Arc<Coordinator>>,
        T: 'static,
    {
        self.router = self.router.route(op.path, on(op.verb.filter(), handler));
        self.operations.push(op);
        self
    }

    /// Both sets of routes (axum panics on a method served twice).
    pub fn merge(mut self, other: Routes) -> Self {
        self.router = self.router.merge(other.router);
        self.operations.extend(other.operations);
        self
    }

    /// A layer around every route added so far (body limits, CORS).
    pub fn layer<L>(mut self, layer: L) -> Self
    where
        L: Layer<Route> + Clone + Send + Sync + 'static,
        L::Service: Service<Request> + Clone + Send + Sync + 'static,
        <L::Service as Service<Request>>::Response: IntoResponse + 'static,
        <L::Service as Service<Request>>::Error: Into<Infallible> + 'static,
        <L::Service as Service<Request>>::Future: Send + 'static,
    {
        self.router = self.router.layer(layer);
        self
    }

    pub fn into_parts(self) -> (Router<Arc<Coordinator>>, Vec<Op>) {
        (self.router, self.operations)
    }
}
