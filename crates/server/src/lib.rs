//! Portorium's HTTP layer: the three gateways (circles of trust), their middleware, the error
//! table, OpenAPI documents and portal pages. This is the only crate that speaks HTTP.

pub mod api;
pub mod auth;
pub mod demo;
pub mod demo_tariff;
pub mod dms;
pub mod error;
pub mod middleware;
pub mod openapi;
pub mod portal;
pub mod portal_declarations;
pub mod portal_measures;
pub mod portal_quotas;
pub mod portal_tariff;
pub mod refdata;
pub mod risk;
pub mod routes;
pub mod state;
pub mod tariff;
pub mod testing;
pub mod transit;

use crate::error::{ApiError, ErrorCode};
use axum::http::HeaderName;
use axum::response::{IntoResponse, Response};
use axum::Router;
use metrics_exporter_prometheus::{PrometheusBuilder, PrometheusHandle};
use portorium_kernel::Circle;
use routes::{RouteSpec, Table};
use state::AppState;
use std::net::SocketAddr;
use std::sync::OnceLock;
use tower_http::catch_panic::CatchPanicLayer;
use tower_http::request_id::{MakeRequestUuid, PropagateRequestIdLayer, SetRequestIdLayer};
use tower_http::trace::TraceLayer;

pub use state::{AppState as State, Inner as StateInner, ServerConfig};

/// The three gateways' routers.
pub struct Gateways {
    pub trader: Router,
    pub administration: Router,
    pub operations: Router,
}

/// Each gateway's table: API routes plus portal pages.
pub fn tables() -> [Table; 3] {
    [
        portal::trader_pages(routes::trader()),
        portal::admin_pages(routes::administration()),
        routes::operations(),
    ]
}

/// The whole route table (every gateway), for tests and docs.
pub fn route_table() -> Vec<RouteSpec> {
    tables().into_iter().flat_map(|t| t.routes).collect()
}

static METRICS: OnceLock<Option<PrometheusHandle>> = OnceLock::new();

/// The process-wide Prometheus recorder (installed on first use).
pub fn metrics_handle() -> Option<PrometheusHandle> {
    METRICS
        .get_or_init(|| {
            let builder = PrometheusBuilder::new()
                .set_buckets_for_metric(
                    metrics_exporter_prometheus::Matcher::Full(
                        "http_request_duration_seconds".into(),
                    ),
                    &[
                        0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5,
                    ],
                )
                .ok()?;
            builder.install_recorder().ok()
        })
        .clone()
}

async fn route_not_found() -> Response {
    ApiError::new(ErrorCode::RouteNotFound, "no such route on this gateway").into_response()
}

async fn method_not_allowed() -> Response {
    ApiError::new(
        ErrorCode::MethodNotAllowed,
        "method not allowed on this route",
    )
    .into_response()
}

fn panic_response(_: Box<dyn std::any::Any + Send + 'static>) -> Response {
    ApiError::new(ErrorCode::Internal, "internal error; see the server log").into_response()
}

/// Build one gateway's router with the shared middleware stack.
pub fn gateway(state: &AppState, table: Table) -> Router {
    let circle = table.circle;
    let doc = openapi::document(circle);
    let swagger = utoipa_swagger_ui::SwaggerUi::new("/docs").url("/openapi.json", doc);
    let request_id = HeaderName::from_static(middleware::REQUEST_ID);
    use axum::middleware::{from_fn, from_fn_with_state};
    table
        .router
        .merge(swagger)
        .fallback(route_not_found)
        .method_not_allowed_fallback(method_not_allowed)
        .layer(from_fn_with_state(state.clone(), middleware::idempotency))
        .layer(from_fn(middleware::etag))
        .layer(from_fn_with_state(
            (state.clone(), circle),
            middleware::authenticate,
        ))
        .layer(from_fn_with_state(
            (state.clone(), circle),
            middleware::audit,
        ))
        .layer(from_fn_with_state(circle, middleware::metrics))
        .layer(CatchPanicLayer::custom(panic_response))
        .layer(PropagateRequestIdLayer::new(request_id.clone()))
        .layer(TraceLayer::new_for_http())
        .layer(SetRequestIdLayer::new(request_id, MakeRequestUuid))
        .with_state(state.clone())
}

/// All three gateways.
pub fn build(state: &AppState) -> Gateways {
    let [t, a, o] = tables();
    Gateways {
        trader: gateway(state, t),
        administration: gateway(state, a),
        operations: gateway(state, o),
    }
}

/// Addresses of the three listeners.
#[derive(Debug, Clone)]
pub struct Addresses {
    pub trader: SocketAddr,
    pub administration: SocketAddr,
    pub operations: SocketAddr,
}

/// Bound listeners, ready to serve (binding first lets callers learn ephemeral ports).
pub struct Listeners {
    pub trader: tokio::net::TcpListener,
    pub administration: tokio::net::TcpListener,
    pub operations: tokio::net::TcpListener,
}

impl Listeners {
    pub async fn bind(a: &Addresses) -> std::io::Result<Self> {
        Ok(Self {
            trader: tokio::net::TcpListener::bind(a.trader).await?,
            administration: tokio::net::TcpListener::bind(a.administration).await?,
            operations: tokio::net::TcpListener::bind(a.operations).await?,
        })
    }
    pub fn local(&self) -> std::io::Result<Addresses> {
        Ok(Addresses {
            trader: self.trader.local_addr()?,
            administration: self.administration.local_addr()?,
            operations: self.operations.local_addr()?,
        })
    }
}

/// Serve the three gateways until `shutdown` resolves, then drain.
pub async fn serve(
    state: AppState,
    listeners: Listeners,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let g = build(&state);
    // Load the NCTS schemas now (a missing directory is a warning: the transit endpoints
    // then answer 503 `schemas_unavailable`).
    let transit = state.config.transit.clone();
    let _ = tokio::task::spawn_blocking(move || transit.schemas()).await;
    let (tx, _) = tokio::sync::broadcast::channel::<()>(1);
    let relay = tokio::spawn(outbox_relay(state.clone(), tx.subscribe()));
    tokio::spawn(crate::dms::delivery_task(state.clone(), tx.subscribe()));
    let wait = |mut rx: tokio::sync::broadcast::Receiver<()>| async move {
        let _ = rx.recv().await;
    };
    let t = axum::serve(listeners.trader, g.trader).with_graceful_shutdown(wait(tx.subscribe()));
    let a = axum::serve(listeners.administration, g.administration)
        .with_graceful_shutdown(wait(tx.subscribe()));
    let o = axum::serve(listeners.operations, g.operations)
        .with_graceful_shutdown(wait(tx.subscribe()));
    let trigger = tx.clone();
    tokio::spawn(async move {
        shutdown.await;
        let _ = trigger.send(());
    });
    let (r1, r2, r3) = tokio::join!(t, a, o);
    let _ = relay.await;
    r1?;
    r2?;
    r3?;
    Ok(())
}

/// Publish committed outbox events. In this foundation the transport is the structured log
/// (and the metrics counter); the exchange service adds in-process and NATS transports.
pub async fn outbox_relay(state: AppState, mut stop: tokio::sync::broadcast::Receiver<()>) {
    loop {
        match state.store.outbox_pending(500).await {
            Ok(events) if !events.is_empty() => {
                let ids: Vec<i64> = events.iter().map(|e| e.id).collect();
                for e in &events {
                    tracing::info!(target: "portorium::events", id = e.id, topic = %e.topic, tenant = ?e.tenant, payload = %e.payload, "event published");
                    metrics::counter!("outbox_events_published_total", "topic" => e.topic.clone())
                        .increment(1);
                }
                if let Err(e) = state.store.outbox_mark_published(&ids).await {
                    tracing::warn!(error = %e, "outbox: mark published failed");
                }
                continue;
            }
            Ok(_) => {}
            Err(e) => tracing::warn!(error = %e, "outbox: read failed"),
        }
        tokio::select! {
            _ = stop.recv() => break,
            _ = tokio::time::sleep(std::time::Duration::from_millis(200)) => {}
        }
    }
}

/// The circle a route table belongs to, by name (for messages).
pub fn circle_name(c: Circle) -> &'static str {
    c.as_str()
}
