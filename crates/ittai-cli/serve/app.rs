//! The HTTP side: routes, the guard every request passes (Host header, CSRF token on POST,
//! security headers), the static files, and the small helpers for responses and form
//! encoding. The pages themselves are built in `handlers` (on blocking threads) and drawn
//! by `pages`.

use std::time::Instant;

use axum::Router;
use axum::body::{Body, to_bytes};
use axum::extract::{Path, RawQuery, Request, State};
use axum::http::{HeaderName, HeaderValue, Method, StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::{Html, IntoResponse, Response};
use axum::routing::{get, post};
use maud::Markup;

use super::handlers;
use super::state::AppState;

/// The stylesheet, served as `/static/app.css`.
const APP_CSS: &str = include_str!("assets/app.css");
/// The script, served as `/static/app.js` (plain JavaScript, no framework).
const APP_JS: &str = include_str!("assets/app.js");

/// The policy of every page: scripts, styles, images and requests from this server only
/// (no inline script or style, no other site).
const CSP: &str = "default-src 'self'";
/// The policy of the committee report (`/indicators/report.html`): it is one
/// self-contained file with inline styles and SVG and no script.
pub const REPORT_CSP: &str = "default-src 'none'; style-src 'unsafe-inline'; img-src data:";
/// Largest form accepted (bytes).
const FORM_LIMIT: usize = 1 << 20;
/// Response header with the time a count took, in milliseconds.
pub const ELAPSED_HEADER: &str = "x-ittai-elapsed-ms";

/// The router of `ittai serve`.
pub fn router(st: AppState) -> Router {
    Router::new()
        .route("/", get(home))
        .route("/problems", get(problems))
        .route("/purpose", get(purpose))
        .route("/rules/{id}", get(rule_page))
        .route("/rules/{id}/count", get(rule_count))
        .route("/rules/{id}/list", get(rule_list))
        .route("/rules/{id}/download", get(rule_download))
        .route("/rules/{id}/save", post(rule_save))
        .route("/person/{id}", get(person_page))
        .route("/person/{id}/support", post(person_support))
        .route("/indicators", get(indicators))
        .route("/indicators/compute", post(indicators_compute))
        .route("/indicators/report.html", get(indicators_report))
        .route("/static/app.css", get(app_css))
        .route("/static/app.js", get(app_js))
        .fallback(not_found)
        .layer(middleware::from_fn_with_state(st.clone(), guard))
        .with_state(st)
}

/// Every request: the Host header must name this server on the loopback address (a page
/// of another site cannot reach it through a DNS name that points to 127.0.0.1); a POST
/// must carry this server's CSRF token (form field `csrf`, or header `X-CSRF-Token`) and,
/// when the browser says where it comes from, come from this server's own pages. Every
/// response gets the security headers and is not stored by the browser. Nothing about
/// the request is logged.
async fn guard(State(st): State<AppState>, req: Request, next: Next) -> Response {
    let host = req
        .headers()
        .get(header::HOST)
        .and_then(|h| h.to_str().ok())
        .map(str::to_string);
    let req = match host {
        None => {
            return plain(
                StatusCode::BAD_REQUEST,
                "Host ヘッダーがありません。\nRequest refused: no Host header.",
            );
        }
        Some(h) if !st.host_ok(&h) => {
            return plain(
                StatusCode::MISDIRECTED_REQUEST,
                "このアドレスでは開けません。ittai serve が表示したアドレス（http://127.0.0.1:…/）を使ってください。\nRequest refused: the Host header is not this computer's loopback address of ittai serve.",
            );
        }
        Some(_) if req.method() == Method::POST => match check_post(&st, req).await {
            Ok(r) => r,
            Err(refused) => return refused,
        },
        Some(_) => req,
    };
    let mut res = next.run(req).await;
    let h = res.headers_mut();
    if !h.contains_key(header::CONTENT_SECURITY_POLICY) {
        h.insert(
            header::CONTENT_SECURITY_POLICY,
            HeaderValue::from_static(CSP),
        );
    }
    h.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    // same-origin, not no-referrer: with no-referrer Chromium sends `Origin: null` on the
    // pages' own form POSTs, which the Origin check refuses.
    h.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("same-origin"),
    );
    if !h.contains_key(header::CACHE_CONTROL) {
        h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    }
    res
}

/// Checks the Origin header and the CSRF token of a POST; returns the request with its
/// body put back, or the refusal.
async fn check_post(st: &AppState, req: Request) -> Result<Request, Response> {
    let forbidden = || {
        plain(
            StatusCode::FORBIDDEN,
            "フォームの確認ができませんでした。ページを開き直してから、もう一度送信してください。\nRequest refused: missing or wrong CSRF token.",
        )
    };
    if let Some(origin) = req.headers().get(header::ORIGIN)
        && !origin.to_str().is_ok_and(|o| st.origin_ok(o))
    {
        return Err(forbidden());
    }
    let header_token = req
        .headers()
        .get("x-csrf-token")
        .and_then(|v| v.to_str().ok())
        .map(str::to_string);
    let (parts, body) = req.into_parts();
    let Ok(bytes) = to_bytes(body, FORM_LIMIT).await else {
        return Err(plain(
            StatusCode::PAYLOAD_TOO_LARGE,
            "送信された内容が大きすぎます。\nRequest refused: the form is too large.",
        ));
    };
    let form_token = parse_pairs(&bytes)
        .into_iter()
        .rev()
        .find(|(k, _)| k == "csrf")
        .map(|(_, v)| v);
    let ok = [header_token, form_token]
        .into_iter()
        .flatten()
        .any(|t| st.csrf_ok(&t));
    if !ok {
        return Err(forbidden());
    }
    Ok(Request::from_parts(parts, Body::from(bytes)))
}

/// A plain-text response (errors of the guard: they never repeat anything of the request).
pub fn plain(status: StatusCode, text: &'static str) -> Response {
    (
        status,
        [(header::CONTENT_TYPE, "text/plain; charset=utf-8")],
        text,
    )
        .into_response()
}

/// An HTML page.
pub fn page(status: StatusCode, markup: Markup) -> Response {
    (status, Html(markup.into_string())).into_response()
}

/// Adds the elapsed time since `started` as `X-Ittai-Elapsed-Ms`.
pub fn with_elapsed(mut res: Response, started: Instant) -> Response {
    let ms = started.elapsed().as_millis() as u64;
    res.headers_mut().insert(
        HeaderName::from_static(ELAPSED_HEADER),
        HeaderValue::from(ms),
    );
    res
}

/// Runs `f` (engine work, files) on a blocking thread so that the server keeps answering.
async fn blocking(f: impl FnOnce() -> Response + Send + 'static) -> Response {
    match tokio::task::spawn_blocking(f).await {
        Ok(r) => r,
        Err(_) => handlers::failure("処理の途中で問題が起きました。"),
    }
}

/// Decodes `application/x-www-form-urlencoded` text (a query string or a form body) into
/// name/value pairs, in order, repeated names kept.
pub fn parse_pairs(s: &[u8]) -> Vec<(String, String)> {
    s.split(|b| *b == b'&')
        .filter(|p| !p.is_empty())
        .map(|p| match p.iter().position(|b| *b == b'=') {
            Some(i) => (decode(&p[..i]), decode(&p[i + 1..])),
            None => (decode(p), String::new()),
        })
        .collect()
}

fn hex(b: u8) -> Option<u8> {
    match b {
        b'0'..=b'9' => Some(b - b'0'),
        b'a'..=b'f' => Some(b - b'a' + 10),
        b'A'..=b'F' => Some(b - b'A' + 10),
        _ => None,
    }
}

fn decode(s: &[u8]) -> String {
    let mut out = Vec::with_capacity(s.len());
    let mut i = 0;
    while i < s.len() {
        match s[i] {
            b'+' => out.push(b' '),
            b'%' if i + 2 < s.len() => match (hex(s[i + 1]), hex(s[i + 2])) {
                (Some(a), Some(b)) => {
                    out.push(a * 16 + b);
                    i += 2;
                }
                _ => out.push(b'%'),
            },
            c => out.push(c),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// Percent-encodes a query value or a path segment (everything but `A–Z a–z 0–9 - _ . ~`).
pub fn enc(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~') {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// `name=value&…`, encoded.
pub fn query(pairs: &[(String, String)]) -> String {
    pairs
        .iter()
        .map(|(k, v)| format!("{}={}", enc(k), enc(v)))
        .collect::<Vec<_>>()
        .join("&")
}

fn pairs_of(q: Option<String>) -> Vec<(String, String)> {
    q.map(|q| parse_pairs(q.as_bytes())).unwrap_or_default()
}

async fn home(State(st): State<AppState>) -> Response {
    blocking(move || handlers::home(&st)).await
}

async fn problems(State(st): State<AppState>) -> Response {
    blocking(move || handlers::problems(&st)).await
}

async fn purpose(State(st): State<AppState>, RawQuery(q): RawQuery) -> Response {
    blocking(move || handlers::purpose(&st, &pairs_of(q))).await
}

async fn rule_page(
    State(st): State<AppState>,
    Path(id): Path<String>,
    RawQuery(q): RawQuery,
) -> Response {
    blocking(move || handlers::rule_page(&st, &id, &pairs_of(q))).await
}

async fn rule_count(
    State(st): State<AppState>,
    Path(id): Path<String>,
    RawQuery(q): RawQuery,
) -> Response {
    let started = Instant::now();
    let res = blocking(move || handlers::rule_count(&st, &id, &pairs_of(q))).await;
    with_elapsed(res, started)
}

async fn rule_list(
    State(st): State<AppState>,
    Path(id): Path<String>,
    RawQuery(q): RawQuery,
) -> Response {
    blocking(move || handlers::rule_list(&st, &id, &pairs_of(q))).await
}

async fn rule_download(
    State(st): State<AppState>,
    Path(id): Path<String>,
    RawQuery(q): RawQuery,
) -> Response {
    blocking(move || handlers::rule_download(&st, &id, &pairs_of(q))).await
}

async fn rule_save(State(st): State<AppState>, Path(id): Path<String>, body: Body) -> Response {
    let form = read_form(body).await;
    blocking(move || handlers::rule_save(&st, &id, &form)).await
}

async fn person_page(State(st): State<AppState>, Path(id): Path<String>) -> Response {
    blocking(move || handlers::person_page(&st, &id, None)).await
}

async fn person_support(
    State(st): State<AppState>,
    Path(id): Path<String>,
    body: Body,
) -> Response {
    let form = read_form(body).await;
    blocking(move || handlers::person_support(&st, &id, &form)).await
}

async fn indicators(State(st): State<AppState>) -> Response {
    blocking(move || handlers::indicators(&st)).await
}

async fn indicators_compute(State(st): State<AppState>) -> Response {
    blocking(move || handlers::indicators_compute(&st)).await
}

async fn indicators_report(State(st): State<AppState>) -> Response {
    blocking(move || handlers::indicators_report(&st)).await
}

/// The pairs of a form body (already read once and checked by the guard).
async fn read_form(body: Body) -> Vec<(String, String)> {
    match to_bytes(body, FORM_LIMIT).await {
        Ok(b) => parse_pairs(&b),
        Err(_) => Vec::new(),
    }
}

async fn app_css() -> Response {
    (
        [
            (header::CONTENT_TYPE, "text/css; charset=utf-8"),
            (header::CACHE_CONTROL, "no-cache"),
        ],
        APP_CSS,
    )
        .into_response()
}

async fn app_js() -> Response {
    (
        [
            (header::CONTENT_TYPE, "text/javascript; charset=utf-8"),
            (header::CACHE_CONTROL, "no-cache"),
        ],
        APP_JS,
    )
        .into_response()
}

async fn not_found() -> Response {
    handlers::not_found()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn forms_decode_and_encode() {
        let pairs = parse_pairs(b"a=1&b=x+y&c=%E5%A4%9A%E5%89%A4&d&e=%zz&f=%4");
        let want: Vec<(String, String)> = [
            ("a", "1"),
            ("b", "x y"),
            ("c", "多剤"),
            ("d", ""),
            ("e", "%zz"),
            ("f", "%4"),
        ]
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
        assert_eq!(pairs, want);
        assert_eq!(enc("R03 a/b&c=多"), "R03%20a%2Fb%26c%3D%E5%A4%9A");
        let back = parse_pairs(query(&[("x y".into(), "1,2".into())]).as_bytes());
        assert_eq!(back, [("x y".to_string(), "1,2".to_string())]);
    }
}
